package ddiserver

import (
	"net/http"
	"slices"

	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/internal/faultserve"
)

func (s *Server) base(w http.ResponseWriter, cid, base string) {
	s.mu.Lock()
	t := s.target(cid)
	t.Polls++
	b := ddi.ControllerBase{Config: ddi.Config{Polling: ddi.Polling{Sleep: ddi.FormatSleep(s.Sleep)}}, Links: ddi.Links{}}
	switch {
	case t.Action != nil && t.State == "waiting":
		b.Links[ddi.RelConfirmationBase] = ddi.Link{Href: base + "/confirmationBase/" + t.ActionID + "?c=-1"}
	case t.Action != nil && t.State == "running":
		b.Links[ddi.RelDeploymentBase] = ddi.Link{Href: base + "/deploymentBase/" + t.ActionID + "?c=-1"}
	}
	if t.CancelID != "" {
		b.Links[ddi.RelCancelAction] = ddi.Link{Href: base + "/cancelAction/" + t.CancelID}
	}
	if t.ConfigData == nil {
		b.Links[ddi.RelConfigData] = ddi.Link{Href: base + "/configData"}
	}
	if t.Action != nil && t.State == "finished" {
		b.Links[ddi.RelInstalledBase] = ddi.Link{Href: base + "/installedBase/" + t.ActionID}
	}
	s.mu.Unlock()
	writeJSON(w, b)
}

// deploymentOf is the deployment of t's action.
func (s *Server) deploymentOf(t *Target, base string) ddi.Deployment {
	a := t.Action
	art := ddi.Artifact{Filename: a.Artifact, Size: int64(len(s.artifacts[a.Artifact])), Links: ddi.Links{
		ddi.RelDownloadHTTP: {Href: base + "/softwaremodules/1/artifacts/" + a.Artifact},
	}}
	name := a.Name
	if name == "" {
		name = "lockd-rootfs"
	}
	return ddi.Deployment{Download: a.Download, Update: a.Update, MaintenanceWindow: a.Window,
		Chunks: []ddi.Chunk{{Part: "os", Version: a.Version, Name: name, Artifacts: []ddi.Artifact{art}}}}
}

func (s *Server) deployment(w http.ResponseWriter, cid, id, base string) {
	s.mu.Lock()
	t := s.target(cid)
	if t.Action == nil || t.ActionID != id || t.State != "running" || s.faults.NotFoundDeploymentBase {
		s.mu.Unlock()
		http.Error(w, "no such action", http.StatusNotFound)
		return
	}
	d := ddi.DeploymentBase{ID: id, Deployment: s.deploymentOf(t, base), ActionHistory: &ddi.ActionHistory{Status: "RUNNING"}}
	s.mu.Unlock()
	writeJSON(w, d)
}

func (s *Server) confirmationBase(w http.ResponseWriter, cid, base string) {
	s.mu.Lock()
	t := s.target(cid)
	c := ddi.ConfirmationBase{Links: ddi.Links{}}
	if t.Action != nil && t.State == "waiting" {
		c.Links[ddi.RelConfirmationBase] = ddi.Link{Href: base + "/confirmationBase/" + t.ActionID + "?c=-1"}
	}
	s.mu.Unlock()
	writeJSON(w, c)
}

func (s *Server) confirmation(w http.ResponseWriter, cid, id, base string) {
	s.mu.Lock()
	t := s.target(cid)
	if t.Action == nil || t.ActionID != id || t.State != "waiting" {
		s.mu.Unlock()
		http.Error(w, "no action waits for confirmation", http.StatusNotFound)
		return
	}
	c := ddi.ConfirmationAction{ID: id, Confirmation: s.deploymentOf(t, base), ActionHistory: &ddi.ActionHistory{Status: "WAIT_FOR_CONFIRMATION"}}
	s.mu.Unlock()
	writeJSON(w, c)
}

func (s *Server) cancel(w http.ResponseWriter, cid, id string) {
	s.mu.Lock()
	t := s.target(cid)
	if t.CancelID != id || t.Action == nil {
		s.mu.Unlock()
		http.Error(w, "no such cancel action", http.StatusNotFound)
		return
	}
	c := ddi.Cancel{ID: id, CancelAction: ddi.CancelAction{StopID: t.ActionID}}
	s.mu.Unlock()
	writeJSON(w, c)
}

// feedback records a feedback and moves the action on.
func (s *Server) feedback(w http.ResponseWriter, r *http.Request, cid, kind, id string) {
	fb := Feedback{Kind: kind, ActionID: id}
	if kind == "confirmation" {
		if !readBody(w, r, &fb.Confirm) {
			return
		}
		if !slices.Contains([]string{ddi.Confirmed, ddi.Denied}, fb.Confirm.Confirmation) {
			errorf(w, "confirmation %q", fb.Confirm.Confirmation)
			return
		}
	} else {
		var af ddi.ActionFeedback
		if !readBody(w, r, &af) {
			return
		}
		fb.Status = af.Status
		if !slices.Contains([]string{ddi.ExecClosed, ddi.ExecProceeding, ddi.ExecCanceled, ddi.ExecScheduled, ddi.ExecRejected,
			ddi.ExecResumed, ddi.ExecDownloaded, ddi.ExecDownload}, af.Status.Execution) ||
			!slices.Contains([]string{ddi.FinishedSuccess, ddi.FinishedFailure, ddi.FinishedNone}, af.Status.Result.Finished) {
			errorf(w, "status %+v", af.Status)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.target(cid)
	switch {
	case kind == "deployment" && (t.ActionID != id || t.State != "running"):
		http.Error(w, "action not running", http.StatusGone)
		return
	case kind == "cancel" && t.CancelID != id:
		http.Error(w, "no such cancel action", http.StatusNotFound)
		return
	case kind == "confirmation" && (t.ActionID != id || t.State != "waiting"):
		http.Error(w, "action not waiting for confirmation", http.StatusGone)
		return
	}
	fb.At = s.n
	t.Feedback = append(t.Feedback, fb)
	if s.OnFeedback != nil {
		s.OnFeedback(cid, fb)
	}
	switch {
	case kind == "confirmation" && fb.Confirm.Confirmation == ddi.Confirmed:
		t.State = "running"
	case kind == "deployment" && fb.Status.Execution == ddi.ExecClosed && fb.Status.Result.Finished == ddi.FinishedSuccess:
		t.State = "finished"
		t.ConfigData = nil // hawkBit asks for the attributes again after an update
	case kind == "deployment" && fb.Status.Execution == ddi.ExecClosed:
		t.State = "error"
	case kind == "cancel" && fb.Status.Execution == ddi.ExecClosed && fb.Status.Result.Finished == ddi.FinishedSuccess:
		t.State, t.CancelID = "canceled", ""
	case kind == "cancel" && (fb.Status.Execution == ddi.ExecRejected || fb.Status.Execution == ddi.ExecClosed):
		t.CancelID = "" // the action goes on
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) configData(w http.ResponseWriter, r *http.Request, cid string) {
	var c ddi.ConfigData
	if !readBody(w, r, &c) {
		return
	}
	s.mu.Lock()
	s.target(cid).ConfigData = c.Data
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (s *Server) installedBase(w http.ResponseWriter, r *http.Request, cid string) {
	var v ddi.AssignedVersion
	if !readBody(w, r, &v) {
		return
	}
	s.mu.Lock()
	s.target(cid).Installed = v
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// artifact serves name to cid through a faultserve.File of its own, so
// each target's downloads are counted apart.
func (s *Server) artifact(w http.ResponseWriter, r *http.Request, cid, name string) {
	s.mu.Lock()
	data, ok := s.artifacts[name]
	t := s.target(cid)
	f := t.files[name]
	if ok && f == nil {
		f = faultserve.New(data, `"`+name+`"`, s.afaults)
		t.files[name] = f
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "no such artifact", http.StatusNotFound)
		return
	}
	f.ServeHTTP(w, r)
}
