SUMMARY = "lockd: keypad smart lock daemon with A/B root file-system updates"
DESCRIPTION = "lockd reads a GPIO keypad, drives the bolt motor or strike, \
keeps access codes in SQLite, is controlled over D-Bus (lockctl) and \
updates the whole root file system with A/B slots and a trial boot."
HOMEPAGE = "https://lockd.dev"
BUGTRACKER = "mailto:lockd-devel@lists.lockd.dev"
SECTION = "security"

# lockd's own code is Apache-2.0 (LICENSE, the standard text); the Go
# modules compiled in add theirs (LOCKD_GO_MODS_LICENSE and their
# LIC_FILES_CHKSUM lines come from lockd-go-mods.inc, which appends with
# +=, so the assignment below must come before its require).
LICENSE = "Apache-2.0 & ${LOCKD_GO_MODS_LICENSE}"
LIC_FILES_CHKSUM = "file://src/${GO_IMPORT}/LICENSE;md5=3b83ef96387f14655fc854ddc3c6bd57"

GO_IMPORT = "lockd.dev/lockd"
LOCKD_GIT_URI ?= "git://git.lockd.dev/lockd.git;protocol=https;branch=main"
SRC_URI = "${LOCKD_GIT_URI};destsuffix=${GO_SRCURI_DESTSUFFIX}"
# A fixed commit: AUTOREV would reach the network while parsing. Bump it,
# and regenerate lockd-go-mods.inc from that commit, for each release.
# yocto/layer_test.go checks that this commit holds every file
# do_install takes from systemd/, docs/ and the top directory, and the
# go.sum the .inc was made from.
SRCREV = "8bd05deb8098262ba15dc1f83075b1e4872e9cb5"
PV = "0.0+git"

# The Go modules (gomod:// SRC_URI lines, appended with +=) and their
# licence checksums. Generated from go.mod and go.sum by `make yocto-gomod`
# at the commit in SRCREV; yocto/cmd/gomodinc's test keeps it in step with
# go.sum. It must come after the SRC_URI assignment above, which would
# otherwise replace its lines (yocto/layer_test.go checks the order).
require lockd-go-mods.inc

inherit go-mod systemd useradd features_check
REQUIRED_DISTRO_FEATURES = "systemd"
# lockd-native only runs `lockd bundle create` on the build host; native
# DISTRO_FEATURES never hold systemd, which would skip it.
REQUIRED_DISTRO_FEATURES:class-native = ""

GO_INSTALL = "${GO_IMPORT}/cmd/lockd ${GO_IMPORT}/cmd/lockctl ${GO_IMPORT}/cmd/lockd-mqtt"
# go-sqlite3 compiles the SQLite it bundles: cgo is required. go.bbclass
# already adds -buildmode=pie on every architecture lockd runs on.
CGO_ENABLED = "1"
# go.mod says go 1.26.0: never let the go command fetch a toolchain.
export GOTOOLCHAIN = "local"
export GOFLAGS = "-mod=readonly"
# lockd trusts the clock only after its build time (time-limited codes):
# the commit's date, as the Makefile does, from the SOURCE_DATE_EPOCH that
# OE derives from the git commit. The $(...) is expanded by the shell of
# do_compile, where SOURCE_DATE_EPOCH is set, not at parse time.
GO_EXTRA_LDFLAGS = "-X main.buildStamp=$(date -u -d @$SOURCE_DATE_EPOCH +%Y-%m-%dT%H:%M:%SZ)"

LOCKD_SYSTEMD = "${S}/src/${GO_IMPORT}/systemd"
LOCKD_DOCS = "${S}/src/${GO_IMPORT}/docs"

# User lockd and its groups (lockd.sysusers says the same for systemd-sysusers;
# with useradd they exist at build time, which a read-only rootfs needs).
# The shell is lockd.sysusers' /usr/sbin/nologin (${sbindir}; with usrmerge,
# which systemd requires, /sbin is /usr/sbin), so oe-core's check that
# useradd and sysusers agree has nothing to warn about.
# polkitd is polkit's own user (meta-oe's polkit recipe makes it the same
# way): do_install gives it polkit's rules directory, as polkit ships it.
USERADD_PACKAGES = "${PN}"
GROUPADD_PARAM:${PN} = "--system lockd; --system lockd-admin; --system gpio"
USERADD_PARAM:${PN} = "--system --home-dir /var/lib/lockd --no-create-home \
    --shell ${sbindir}/nologin --gid lockd --groups gpio \
    --comment 'lockd smart lock daemon' lockd; \
    --system --no-create-home --user-group --home-dir ${sysconfdir}/polkit-1 \
    --shell ${sbindir}/nologin polkitd"

SYSTEMD_SERVICE:${PN} = "lockd.service"
SYSTEMD_AUTO_ENABLE:${PN} = "enable"

# lockd-mqtt (Home Assistant over MQTT) is its own package, so an image
# without it has no program that touches the network. Its unit stays
# disabled until the owner has configured it (README "Home Assistant").
# User lockd-mqtt is in group lockd only, as lockd-mqtt.sysusers says;
# remote unlock adds lockd-admin in a drop-in the owner writes.
PACKAGES =+ "${PN}-mqtt"
SUMMARY:${PN}-mqtt = "lockd-mqtt: the lock in Home Assistant over MQTT"
FILES:${PN}-mqtt = " \
    ${bindir}/lockd-mqtt \
    ${systemd_system_unitdir}/lockd-mqtt.service \
    ${nonarch_libdir}/sysusers.d/lockd-mqtt.conf \
    ${sysconfdir}/lockd/mqtt.toml \
"
CONFFILES:${PN}-mqtt = "${sysconfdir}/lockd/mqtt.toml"
RDEPENDS:${PN}-mqtt = "${PN}"
SYSTEMD_PACKAGES = "${PN} ${PN}-mqtt"
SYSTEMD_SERVICE:${PN}-mqtt = "lockd-mqtt.service"
SYSTEMD_AUTO_ENABLE:${PN}-mqtt = "disable"
USERADD_PACKAGES += "${PN}-mqtt"
GROUPADD_PARAM:${PN}-mqtt = "--system lockd"
USERADD_PARAM:${PN}-mqtt = "--system --home-dir / --no-create-home --shell ${sbindir}/nologin \
    --user-group --groups lockd --comment 'lockd Home Assistant bridge' lockd-mqtt"

do_install:append:class-target() {
    s=${LOCKD_SYSTEMD}

    install -d ${D}${systemd_system_unitdir}
    install -m 0644 $s/lockd.service ${D}${systemd_system_unitdir}/
    install -m 0644 $s/lockd-mqtt.service ${D}${systemd_system_unitdir}/

    # Trial boots: the generator adds the reboot-on-failure drop-in on a
    # boot with lockd.trial=1; the manager drop-in arms the watchdog.
    install -d ${D}${systemd_unitdir}/system-generators ${D}${systemd_unitdir}/system.conf.d
    install -m 0755 $s/lockd-trial-generator ${D}${systemd_unitdir}/system-generators/
    install -m 0644 $s/50-lockd-watchdog.conf ${D}${systemd_unitdir}/system.conf.d/

    # D-Bus: policy, activation file, introspection data.
    install -d ${D}${datadir}/dbus-1/system.d ${D}${datadir}/dbus-1/system-services ${D}${datadir}/dbus-1/interfaces
    install -m 0644 $s/io.lockd.Lock1.conf ${D}${datadir}/dbus-1/system.d/
    install -m 0644 $s/io.lockd.Lock1.service ${D}${datadir}/dbus-1/system-services/
    install -m 0644 $s/io.lockd.Lock1.xml ${D}${datadir}/dbus-1/interfaces/

    install -d ${D}${nonarch_libdir}/sysusers.d ${D}${nonarch_libdir}/tmpfiles.d ${D}${nonarch_base_libdir}/udev/rules.d
    install -m 0644 $s/lockd.sysusers ${D}${nonarch_libdir}/sysusers.d/lockd.conf
    install -m 0644 $s/lockd-mqtt.sysusers ${D}${nonarch_libdir}/sysusers.d/lockd-mqtt.conf
    install -m 0644 $s/lockd.tmpfiles ${D}${nonarch_libdir}/tmpfiles.d/lockd.conf
    install -m 0644 $s/60-lockd-gpio.rules ${D}${nonarch_base_libdir}/udev/rules.d/
    install -m 0644 $s/61-lockd-slots.rules ${D}${nonarch_base_libdir}/udev/rules.d/

    # polkit: user lockd may reboot into a trial (logind over D-Bus).
    # polkit ships rules.d as polkitd:root 0700 (polkitd reads the rules,
    # nobody else may list them). The directory must match it exactly: a
    # root:root one conflicts with polkit's in do_rootfs with rpm, and with
    # ipk whichever package comes last wins, leaving polkitd unable to read
    # any rule. systemd's recipe does the same for its rules.
    install -d -m 0700 ${D}${datadir}/polkit-1/rules.d
    chown polkitd:root ${D}${datadir}/polkit-1/rules.d
    install -m 0644 $s/50-lockd-reboot.rules ${D}${datadir}/polkit-1/rules.d/

    install -d ${D}${datadir}/bash-completion/completions
    install -m 0644 $s/lockctl.bash-completion ${D}${datadir}/bash-completion/completions/lockctl

    # The design, which lockd.service and var-lib-lockd.mount name in
    # Documentation=, and the licence with its NOTICE, which Apache-2.0
    # asks a binary distribution to carry; they ship in ${PN} (FILES
    # below), not ${PN}-doc.
    doc=${LOCKD_DOCS}
    top=${S}/src/${GO_IMPORT}
    install -d ${D}${docdir}/lockd
    install -m 0644 $doc/DESIGN.md ${D}${docdir}/lockd/
    install -m 0644 $doc/third-party-licenses.md ${D}${docdir}/lockd/
    install -m 0644 $top/LICENSE ${D}${docdir}/lockd/
    install -m 0644 $top/NOTICE ${D}${docdir}/lockd/

    # The configuration, root-owned and read-only to lockd. The image sets
    # `compatible` for its machine (lockd-image.bb); trusted update keys go
    # to ${sysconfdir}/lockd/keys.
    install -d ${D}${sysconfdir}/lockd/keys
    install -m 0644 $s/lockd.toml ${D}${sysconfdir}/lockd/lockd.toml
    install -m 0644 $s/mqtt.toml ${D}${sysconfdir}/lockd/mqtt.toml
}

# The Go sources go-mod installs under ${libdir}/go/src are build input,
# not part of the lock.
do_install:append() {
    rm -rf ${D}${libdir}/go
}

CONFFILES:${PN} = "${sysconfdir}/lockd/lockd.toml"
# ${PN}-doc comes first in PACKAGES and would take ${docdir}, and images
# leave -doc packages out: the units' Documentation= would name a file the
# lock does not have. lockd puts nothing else there.
FILES:${PN}-doc:remove = "${docdir}"
FILES:${PN} += " \
    ${systemd_unitdir}/system-generators \
    ${systemd_unitdir}/system.conf.d \
    ${datadir}/dbus-1 \
    ${nonarch_libdir}/sysusers.d \
    ${nonarch_libdir}/tmpfiles.d \
    ${nonarch_base_libdir}/udev/rules.d \
    ${datadir}/bash-completion \
    ${datadir}/polkit-1 \
    ${docdir}/lockd \
"
RDEPENDS:${PN} = "dbus"
RRECOMMENDS:${PN} = "lockd-mounts lockd-fw-env"
RDEPENDS:${PN}:class-native = ""
RRECOMMENDS:${PN}:class-native = ""

# lockd-native: `lockd bundle create` on the build host (lockd-bundle.bbclass).
BBCLASSEXTEND = "native"
