// Package ddi holds the JSON shapes of Eclipse hawkBit's Direct Device
// Integration API (the controller side of /{tenant}/controller/v1/...),
// as the published API documentation gives them, and reads them with
// bounds: a response is read only up to MaxBody, and every field lockd
// acts on is checked (Validate) before it is used. Fields lockd does not
// use are still declared, so testdata's recorded examples decode strictly.
package ddi

// Link is a hypermedia link of a _links object.
type Link struct {
	Href string `json:"href"`
}

// Links are a resource's _links, by relation.
type Links map[string]Link

// Link relations lockd follows.
const (
	RelDeploymentBase   = "deploymentBase"
	RelCancelAction     = "cancelAction"
	RelConfirmationBase = "confirmationBase"
	RelInstalledBase    = "installedBase"
	RelConfigData       = "configData"
	RelDownload         = "download"      // an artifact over HTTPS
	RelDownloadHTTP     = "download-http" // an artifact over plain HTTP
	RelMD5Sum           = "md5sum"
	RelMD5SumHTTP       = "md5sum-http"
)

// ControllerBase is GET /{tenant}/controller/v1/{controllerId}: the
// polling period and links to what the server has for the controller.
type ControllerBase struct {
	Config Config `json:"config"`
	Links  Links  `json:"_links,omitempty"`
}

// Config is the server's configuration of the controller.
type Config struct {
	Polling Polling `json:"polling"`
}

// Polling holds the suggested sleep between polls, "HH:MM:SS".
type Polling struct {
	Sleep string `json:"sleep"`
}

// Handling values of Deployment.Download and Deployment.Update.
const (
	HandlingSkip    = "skip"
	HandlingAttempt = "attempt"
	HandlingForced  = "forced"
)

// Maintenance window values.
const (
	WindowAvailable   = "available"
	WindowUnavailable = "unavailable"
)

// DeploymentBase is GET .../deploymentBase/{actionId} (and the same shape
// at installedBase/{actionId}).
type DeploymentBase struct {
	ID            string         `json:"id"`
	Deployment    Deployment     `json:"deployment"`
	ActionHistory *ActionHistory `json:"actionHistory,omitempty"`
	Links         Links          `json:"_links,omitempty"`
}

// ConfirmationAction is GET .../confirmationBase/{actionId}: an action
// that waits for the device's (here: the owner's) consent.
type ConfirmationAction struct {
	ID            string         `json:"id"`
	Confirmation  Deployment     `json:"confirmation"`
	ActionHistory *ActionHistory `json:"actionHistory,omitempty"`
	Links         Links          `json:"_links,omitempty"`
}

// ConfirmationBase is GET .../confirmationBase: the auto-confirmation
// state and a link to the action waiting, if any.
type ConfirmationBase struct {
	AutoConfirm AutoConfirm `json:"autoConfirm"`
	Links       Links       `json:"_links,omitempty"`
}

// AutoConfirm is the server's auto-confirmation state for the device.
type AutoConfirm struct {
	Active      bool   `json:"active"`
	Initiator   string `json:"initiator,omitempty"`
	Remark      string `json:"remark,omitempty"`
	ActivatedAt int64  `json:"activatedAt,omitempty"`
	Links       Links  `json:"_links,omitempty"`
}

// Deployment is what an action asks of the device.
type Deployment struct {
	Download          string  `json:"download,omitempty"`
	Update            string  `json:"update,omitempty"`
	MaintenanceWindow string  `json:"maintenanceWindow,omitempty"`
	Chunks            []Chunk `json:"chunks"`
}

// Chunk is a software module of the action's distribution set.
type Chunk struct {
	Part      string     `json:"part"`
	Version   string     `json:"version"`
	Name      string     `json:"name"`
	Encrypted bool       `json:"encrypted,omitempty"`
	Artifacts []Artifact `json:"artifacts,omitempty"`
	Metadata  []Metadata `json:"metadata,omitempty"`
}

// Artifact is a file of a chunk.
type Artifact struct {
	Filename string `json:"filename"`
	Hashes   Hashes `json:"hashes"`
	Size     int64  `json:"size"`
	Links    Links  `json:"_links,omitempty"`
}

// Hashes are an artifact's digests, lowercase hex. lockd does not rely
// on them: the bundle's own signature is what it trusts.
type Hashes struct {
	SHA1   string `json:"sha1,omitempty"`
	MD5    string `json:"md5,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// Metadata is a key and value the server shows the target.
type Metadata struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ActionHistory is the server's record of the action's feedback.
type ActionHistory struct {
	Status   string   `json:"status,omitempty"`
	Messages []string `json:"messages,omitempty"`
}

// Cancel is GET .../cancelAction/{actionId}.
type Cancel struct {
	ID           string       `json:"id"`
	CancelAction CancelAction `json:"cancelAction"`
}

// CancelAction names the action to stop.
type CancelAction struct {
	StopID string `json:"stopId"`
}

// Execution values of Status.
const (
	ExecClosed     = "closed"
	ExecProceeding = "proceeding"
	ExecCanceled   = "canceled"
	ExecScheduled  = "scheduled"
	ExecRejected   = "rejected"
	ExecResumed    = "resumed"
	ExecDownloaded = "downloaded"
	ExecDownload   = "download"
)

// Finished values of Result.
const (
	FinishedSuccess = "success"
	FinishedFailure = "failure"
	FinishedNone    = "none"
)

// ActionFeedback is POSTed to .../deploymentBase/{id}/feedback and
// .../cancelAction/{id}/feedback.
type ActionFeedback struct {
	Timestamp int64  `json:"timestamp,omitempty"`
	Status    Status `json:"status"`
}

// Status is the device's report on an action.
type Status struct {
	Execution string   `json:"execution"`
	Result    Result   `json:"result"`
	Code      int      `json:"code,omitempty"`
	Details   []string `json:"details,omitempty"`
}

// Result is how far the action got.
type Result struct {
	Finished string    `json:"finished"`
	Progress *Progress `json:"progress,omitempty"`
}

// Progress is a count of steps.
type Progress struct {
	Cnt int `json:"cnt"`
	Of  int `json:"of,omitempty"`
}

// Confirmation values of ConfirmationFeedback.
const (
	Confirmed = "confirmed"
	Denied    = "denied"
)

// ConfirmationFeedback is POSTed to .../confirmationBase/{id}/feedback.
type ConfirmationFeedback struct {
	Confirmation string   `json:"confirmation"`
	Code         int      `json:"code,omitempty"`
	Details      []string `json:"details,omitempty"`
}

// ConfigData is PUT to .../configData: the controller's attributes.
type ConfigData struct {
	Mode string            `json:"mode,omitempty"`
	Data map[string]string `json:"data"`
}

// AssignedVersion is PUT to .../installedBase: the distribution set the
// controller runs, set from the device's side.
type AssignedVersion struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}
