# lockd: build, run, test and cross-compile. docs/building.md explains the
# targets; `make help` lists them.
#
# Nothing here needs root except installing Debian packages. `make run` and
# `make build` need only Go. `make test` needs the tools in TEST_TOOLS: as
# root it installs what is missing (make deps); as a normal user it says
# what is missing and the tests that need it skip; under CI=true a missing
# tool is an error, never a skip.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build
MAKEFLAGS += --no-print-directory

GO ?= go

# Programs built into bin/: whichever of these directories exist.
CMDS := $(wildcard cmd/lockd cmd/lockctl cmd/lockd-mqtt)
CMD_PKGS := $(addprefix ./,$(CMDS))

# Packages that never touch real hardware, tested on arm64 under QEMU.
# Directories that do not exist yet, or hold no Go file yet, are left out.
HWFREE_DIRS := gpio lock codes updater
HWFREE_PATTERNS := $(foreach d,$(HWFREE_DIRS),$(if $(shell find $(d) -name '*.go' -print -quit 2>/dev/null),./$(d)/...))

# staticcheck 2026.2.2 (module version v0.8.2): the release for Go 1.26.
# Installed per staticcheck and Go version, so bumping either rebuilds it.
STATICCHECK_VERSION := v0.8.2
GO_VERSION := $(shell $(GO) env GOVERSION 2>/dev/null)
STATICCHECK := $(CURDIR)/.cache/staticcheck-$(STATICCHECK_VERSION)-$(GO_VERSION)/staticcheck

# Cross toolchains (Debian packages; DESIGN.md "Cross builds").
ARM64_CC := aarch64-linux-gnu-gcc
ARMV7_CC := arm-linux-gnueabihf-gcc
ARM64_ENV := GOOS=linux GOARCH=arm64 CGO_ENABLED=1 CC=$(ARM64_CC)
ARMV7_ENV := GOOS=linux GOARCH=arm GOARM=7 CGO_ENABLED=1 CC=$(ARMV7_CC)
ARM64_PKGS := gcc-aarch64-linux-gnu libc6-dev-arm64-cross
ARMV7_PKGS := gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
QEMU_ARM64 := qemu-aarch64 -L /usr/aarch64-linux-gnu
# Tests test-arm64 leaves to the native run of the same `make test` (they
# run there, with -race). The first group starts host processes
# (fw_printenv, losetup, a re-exec of itself), and qemu-user's fork of a
# multithreaded guest can deadlock (seen here: the forked ubootenv.test
# stuck on a futex for minutes, never reaching exec); they test how lockd's
# files meet other programs, not arm64 code. The second group enumerates
# (a power cut after every write, a flip of every bit of a bundle): 130 s
# of emulated CPU for code whose arm64 paths the other updater and bundle
# tests already run.
ARM64_SKIP_EXEC := TestCrashDuringWrites|TestLockoutSurvivesKill|TestFwPrintenvReadsWhatLockdWrites|TestLockdReadsWhatFwSetenvWrites|TestSameBytesAsTheTools|TestRedundantAlternatingWriters|TestToolsRejectWhatLockdRejects|TestPowerCut|TestConcurrentWithFwSetenv|TestLoopDevice|TestBootCycle|TestInstallLoopDevice
ARM64_SKIP_ENUM := TestPowerCutEveryWrite|TestPowerCutDuringRollback|TestBitFlips
ARM64_SKIP := ^($(ARM64_SKIP_EXEC)|$(ARM64_SKIP_ENUM))$$
# The arm64 tests are built as the Yocto recipe and e2e/ build lockd (PIE,
# -trimpath), so the three share one arm64 build of SQLite.
ARM64_TESTFLAGS := -trimpath -buildmode=pie
# The build time lockd trusts the clock from (time-limited codes are refused
# on a clock earlier than the binary): the last commit's time, so builds stay
# reproducible.
BUILD_STAMP := $(shell git log -1 --format=%cI 2>/dev/null)
LDFLAGS := $(if $(BUILD_STAMP),-X main.buildStamp=$(BUILD_STAMP))
# Reproducible: no build paths in the binaries.
CROSS_FLAGS := -trimpath -ldflags='$(LDFLAGS)'

# Every Debian package the tests and builds use:
#   gcc libc6-dev          cgo (go-sqlite3) and go test -race
#   git                    yocto/ checks the recipe's SRCREV against the history
#   dbus libglib2.0-bin    dbus-daemon, dbus-send, gdbus for the D-Bus tests
#   systemd                systemd-analyze, systemd-sysusers, busctl
#   libubootenv-tool       fw_printenv/fw_setenv, the reference for bootenv
#   u-boot-tools           mkimage, for boot scripts
#   gdisk util-linux mount sgdisk, partx, setpriv, losetup for slot tests
#   zstd                   compressed bundle images
#   qemu-user + cross gcc  test-arm64 and cross
#   u-boot-qemu            U-Boot for QEMU's arm64 virt board: yocto/ boot script test
#                          (a file, not a command: yocto/ tests check it themselves)
#   qemu-system-arm        qemu-system-aarch64, runs that U-Boot
#   dosfstools mtools      mkfs.vfat, mcopy: the FAT boot partition with uboot.env
#   e2fsprogs              mkfs.ext4: a mounted slot must be refused
#   make                   systemd/ tests run `make install DESTDIR=...`
#   apt dpkg               e2e/ fetches Debian's arm64 kernel, busybox, dbus-daemon
#                          with apt-get download (own arm64 lists under .cache/e2e:
#                          no multiarch set-up) and unpacks them with dpkg-deb
#   rauc squashfs-tools openssl
#                          make bench: lockbench installs the same image with
#                          RAUC 1.8 (rauc bundle/service/install) beside lockd
#   mosquitto mosquitto-clients
#                          lockd-mqtt's tests: the broker (TLS, users from
#                          mosquitto_passwd, ACLs) and mosquitto_sub/_pub as
#                          Home Assistant and as an intruder
#   linux-source-6.1 linux-kbuild-6.1 xz-utils
#                          e2e/ builds the kernel's gpio-sim for the guest's kernel
#                          (bookworm's 6.1 series): the driver's sources, and the
#                          host's fixdep/modpost for the arm64 headers it fetches
DEB_PKGS := gcc libc6-dev git dbus libglib2.0-bin systemd libubootenv-tool \
	u-boot-tools gdisk util-linux mount zstd qemu-user \
	u-boot-qemu qemu-system-arm dosfstools mtools e2fsprogs make apt dpkg \
	rauc squashfs-tools openssl mosquitto mosquitto-clients \
	linux-source-6.1 linux-kbuild-6.1 xz-utils \
	$(ARM64_PKGS) $(ARMV7_PKGS)

# Commands `make test` checks for, as command:package.
TEST_TOOLS := gcc:gcc git:git systemd-analyze:systemd systemd-sysusers:systemd \
	busctl:systemd dbus-daemon:dbus dbus-send:dbus gdbus:libglib2.0-bin \
	fw_printenv:libubootenv-tool fw_setenv:libubootenv-tool \
	mkimage:u-boot-tools sgdisk:gdisk partx:util-linux setpriv:util-linux \
	losetup:mount zstd:zstd qemu-aarch64:qemu-user \
	qemu-system-aarch64:qemu-system-arm mkfs.vfat:dosfstools mcopy:mtools \
	mkfs.ext4:e2fsprogs make:make apt-get:apt dpkg-deb:dpkg \
	mosquitto:mosquitto mosquitto_passwd:mosquitto mosquitto_sub:mosquitto-clients \
	mosquitto_pub:mosquitto-clients xz:xz-utils \
	/usr/src/linux-source-6.1.tar.xz:linux-source-6.1 \
	/usr/lib/linux-kbuild-6.1/scripts/mod/modpost:linux-kbuild-6.1 \
	$(ARM64_CC):gcc-aarch64-linux-gnu

# missing_tools CMD:PKG...: prints the missing ones as "CMD (PKG)". sbin is
# searched too: a normal user's PATH often lacks it. A CMD that is an
# absolute path is a file that must exist.
missing_tools = for t in $(1); do \
	  case $${t%%:*} in /*) [ -e "$${t%%:*}" ] && continue;; esac; \
	  PATH="$$PATH:/usr/sbin:/sbin" command -v "$${t%%:*}" >/dev/null || echo "$${t%%:*} ($${t\#*:})"; \
	done

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

.PHONY: build
build: ## build bin/lockd, bin/lockctl and bin/lockd-mqtt
	@if [ -z "$(CMDS)" ]; then echo "build: cmd/lockd does not exist yet; nothing to build"; exit 0; fi
	@if [ "$$($(GO) list -f '{{.Stale}}' github.com/mattn/go-sqlite3 2>/dev/null)" = true ]; then \
	  echo "build: the Go build cache has no SQLite yet: compiling it (go-sqlite3's C) takes about a minute on 2 cores, once"; \
	fi
	$(GO) build -ldflags='$(LDFLAGS)' -o bin/ $(CMD_PKGS)

# lockd --sim serves D-Bus on a private bus of its own, its address in
# .lockd-sim/bus, which `bin/lockctl --bus sim` in this directory reads.
.PHONY: run
run: build ## build, then run lockd --sim in the foreground (no root, no hardware, no bus needed)
	@[ -x bin/lockd ] || { echo "run: bin/lockd was not built (is there a cmd/lockd?)" >&2; exit 1; }
	mkdir -p -m 0700 .lockd-sim
	@echo "run: in another terminal, here: bin/lockctl --bus sim status"
	exec bin/lockd --sim --state-dir ./.lockd-sim

# make install: the programs `make build` made, the system integration
# files from systemd/ (systemd/doc.go lists them), docs/DESIGN.md (the
# unit's Documentation=) and the licences (LICENSE, NOTICE, the modules'
# list: Apache-2.0 asks that a binary distribution carry them), into
# DESTDIR for a package or an image (no root needed), or onto this
# machine as root.
# BIN=bin/arm64 installs a cross build instead. The paths are systemd's
# and D-Bus's own; lockd.service runs /usr/bin/lockd, rewritten for
# another PREFIX. An existing lockd.toml (edited pins, `compatible`) is
# kept, never overwritten, and so is an existing /etc/fw_env.config (the
# shipped example names uboot.env on the Pi's boot partition).
PREFIX ?= /usr
BIN ?= bin
SYSCONFDIR ?= /etc
LIBDIR_SYSTEMD := $(PREFIX)/lib/systemd
DBUSDIR := $(PREFIX)/share/dbus-1

.PHONY: install
install: ## install bin/ (make build first) and systemd/ into DESTDIR under PREFIX=/usr
	@for b in lockd lockctl lockd-mqtt; do \
	  [ -x "$(BIN)/$$b" ] || { echo "install: $(BIN)/$$b is missing: run 'make build' first (or 'make cross' and BIN=bin/arm64)" >&2; exit 1; }; \
	done
	install -D -m 0755 $(BIN)/lockd $(DESTDIR)$(PREFIX)/bin/lockd
	install -D -m 0755 $(BIN)/lockctl $(DESTDIR)$(PREFIX)/bin/lockctl
	install -D -m 0755 $(BIN)/lockd-mqtt $(DESTDIR)$(PREFIX)/bin/lockd-mqtt
	install -D -m 0644 systemd/lockd.service $(DESTDIR)$(LIBDIR_SYSTEMD)/system/lockd.service
	install -D -m 0644 systemd/lockd-mqtt.service $(DESTDIR)$(LIBDIR_SYSTEMD)/system/lockd-mqtt.service
	@if [ "$(PREFIX)" != /usr ]; then \
	  echo "sed -i 's|^ExecStart=/usr/bin/lockd |ExecStart=$(PREFIX)/bin/lockd |' $(DESTDIR)$(LIBDIR_SYSTEMD)/system/lockd.service"; \
	  sed -i 's|^ExecStart=/usr/bin/lockd |ExecStart=$(PREFIX)/bin/lockd |' $(DESTDIR)$(LIBDIR_SYSTEMD)/system/lockd.service; \
	  echo "sed -i 's|^ExecStart=/usr/bin/lockd-mqtt |ExecStart=$(PREFIX)/bin/lockd-mqtt |' $(DESTDIR)$(LIBDIR_SYSTEMD)/system/lockd-mqtt.service"; \
	  sed -i 's|^ExecStart=/usr/bin/lockd-mqtt |ExecStart=$(PREFIX)/bin/lockd-mqtt |' $(DESTDIR)$(LIBDIR_SYSTEMD)/system/lockd-mqtt.service; \
	fi
	install -D -m 0755 systemd/lockd-trial-generator $(DESTDIR)$(LIBDIR_SYSTEMD)/system-generators/lockd-trial-generator
	install -D -m 0644 systemd/50-lockd-watchdog.conf $(DESTDIR)$(LIBDIR_SYSTEMD)/system.conf.d/50-lockd-watchdog.conf
	install -D -m 0644 systemd/io.lockd.Lock1.conf $(DESTDIR)$(DBUSDIR)/system.d/io.lockd.Lock1.conf
	install -D -m 0644 systemd/io.lockd.Lock1.service $(DESTDIR)$(DBUSDIR)/system-services/io.lockd.Lock1.service
	install -D -m 0644 systemd/io.lockd.Lock1.xml $(DESTDIR)$(DBUSDIR)/interfaces/io.lockd.Lock1.xml
	install -D -m 0644 systemd/lockd.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/lockd.conf
	install -D -m 0644 systemd/lockd-mqtt.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/lockd-mqtt.conf
	install -D -m 0644 systemd/lockd.tmpfiles $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/lockd.conf
	install -D -m 0644 systemd/60-lockd-gpio.rules $(DESTDIR)$(PREFIX)/lib/udev/rules.d/60-lockd-gpio.rules
	install -D -m 0644 systemd/61-lockd-slots.rules $(DESTDIR)$(PREFIX)/lib/udev/rules.d/61-lockd-slots.rules
	install -D -m 0644 systemd/50-lockd-reboot.rules $(DESTDIR)$(PREFIX)/share/polkit-1/rules.d/50-lockd-reboot.rules
	install -D -m 0644 systemd/lockctl.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/lockctl
	install -D -m 0644 docs/DESIGN.md $(DESTDIR)$(PREFIX)/share/doc/lockd/DESIGN.md
	install -D -m 0644 LICENSE $(DESTDIR)$(PREFIX)/share/doc/lockd/LICENSE
	install -D -m 0644 NOTICE $(DESTDIR)$(PREFIX)/share/doc/lockd/NOTICE
	install -D -m 0644 docs/third-party-licenses.md $(DESTDIR)$(PREFIX)/share/doc/lockd/third-party-licenses.md
	@if [ -e "$(DESTDIR)$(SYSCONFDIR)/lockd/lockd.toml" ]; then \
	  echo "install: kept the existing $(DESTDIR)$(SYSCONFDIR)/lockd/lockd.toml (the shipped one is systemd/lockd.toml)"; \
	else \
	  echo "install -D -m 0644 systemd/lockd.toml $(DESTDIR)$(SYSCONFDIR)/lockd/lockd.toml"; \
	  install -D -m 0644 systemd/lockd.toml $(DESTDIR)$(SYSCONFDIR)/lockd/lockd.toml; \
	fi
	@if [ -e "$(DESTDIR)$(SYSCONFDIR)/lockd/mqtt.toml" ]; then \
	  echo "install: kept the existing $(DESTDIR)$(SYSCONFDIR)/lockd/mqtt.toml (the shipped one is systemd/mqtt.toml)"; \
	else \
	  echo "install -D -m 0644 systemd/mqtt.toml $(DESTDIR)$(SYSCONFDIR)/lockd/mqtt.toml"; \
	  install -D -m 0644 systemd/mqtt.toml $(DESTDIR)$(SYSCONFDIR)/lockd/mqtt.toml; \
	fi
	@if [ -e "$(DESTDIR)$(SYSCONFDIR)/fw_env.config" ]; then \
	  echo "install: kept the existing $(DESTDIR)$(SYSCONFDIR)/fw_env.config"; \
	else \
	  echo "install -D -m 0644 systemd/fw_env.config $(DESTDIR)$(SYSCONFDIR)/fw_env.config"; \
	  install -D -m 0644 systemd/fw_env.config $(DESTDIR)$(SYSCONFDIR)/fw_env.config; \
	fi
	@if [ -z "$(DESTDIR)" ]; then \
	  echo "install: now run: systemd-sysusers; systemd-tmpfiles --create lockd.conf; udevadm control --reload;"; \
	  echo "install:   systemctl reload dbus; systemctl daemon-reload; then lockd factory-init --state-dir /var/lib/lockd"; \
	  echo "install:   (README \"Deploy\") and systemctl enable --now lockd"; \
	fi

# make test compiles SQLite (go-sqlite3's C, one 8 MB file) at -O1 without
# debug info: it needs it for three builds (native, -race, arm64 PIE), and a
# cold one takes 66 s at cgo's default -O2 -g, 19 s so. `make build`,
# `make cross`, `make bench` and the Yocto recipe keep their own flags.
TEST_CGO_CFLAGS ?= -O1 -g0

.PHONY: test
test: export CGO_CFLAGS = $(TEST_CGO_CFLAGS)
test: ## lint, every test with -race and the arm64 tests under QEMU side by side, then the boot-chain rig
	@$(MAKE) check-tools
	@t=$$SECONDS; $(MAKE) -j2 --output-sync=target lint build-arm64-pie; echo "make test: lint (and the arm64 build) took $$((SECONDS - t)) s"
	@t=$$SECONDS; $(MAKE) -j2 --output-sync=target test-race test-arm64; echo "make test: test-race and test-arm64 took $$((SECONDS - t)) s"
	@t=$$SECONDS; $(MAKE) e2e; echo "make test: e2e took $$((SECONDS - t)) s"

# lockd for arm64 as the Yocto recipe builds it, thrown away: built beside
# lint (whose go vet leaves a core idle while it compiles SQLite), it fills
# the build cache that test-arm64, yocto/ and e2e/ then share, instead of
# two of them compiling the same SQLite at once.
.PHONY: build-arm64-pie
build-arm64-pie:
	@if ! command -v $(ARM64_CC) >/dev/null; then echo "build-arm64-pie: no $(ARM64_CC); test-arm64 will say what to install"; exit 0; fi; \
	echo "$(ARM64_ENV) $(GO) build $(ARM64_TESTFLAGS) -o /dev/null ./cmd/lockd"; \
	$(ARM64_ENV) $(GO) build $(ARM64_TESTFLAGS) -o /dev/null ./cmd/lockd

.PHONY: test-race
test-race: ## every test but the boot-chain rig, with -race
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v '^lockd.dev/lockd/e2e')

# The real boot chain (e2e/, README "How we know an update cannot brick the
# lock"): U-Boot, Debian's arm64 kernel and lockd under qemu-system-aarch64,
# lockd also on the GPIO uAPI of the kernel's gpio-sim, which the rig builds
# for that kernel, and under Debian's systemd. Assets are cached in
# .cache/e2e (a cold run fetches ~94 MB of .debs, builds gpio-sim.ko in
# ~15 s and its images in ~30 s).
# LOCKD_E2E_VERBOSE=1 logs every console; LOCKD_E2E_KEEP=DIR keeps the disks
# of failed scenarios. -parallel 16: every scenario waits in the rig's own
# pacer, which runs one QEMU a core, longest scenario first.
.PHONY: e2e
e2e: ## the boot-chain rig: A/B updates, rollbacks and power cuts on U-Boot + Linux under QEMU
	$(GO) test -count=1 -v -timeout 20m -parallel 16 ./e2e/

.PHONY: check-tools
check-tools: # what make test needs: install it (root), fail (CI) or warn
	@missing=$$($(call missing_tools,$(TEST_TOOLS))); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "check-tools: missing: $$(echo $$missing)"; exec $(MAKE) deps; \
	fi; \
	echo "check-tools: these tools are missing:" >&2; \
	echo "$$missing" | sed 's/^/    /' >&2; \
	if [ "$${CI:-}" = true ]; then \
	  echo "check-tools: CI=true: tests must not skip; run 'make deps' as root first" >&2; exit 1; \
	fi; \
	echo "check-tools: the tests that need them will SKIP; 'sudo make deps' installs them all" >&2

.PHONY: lint
lint: $(STATICCHECK) ## gofmt, go vet, staticcheck
	@files=$$($(GO) list -e -f '{{$$d := .Dir}}{{range .GoFiles}}{{$$d}}/{{.}} {{end}}{{range .CgoFiles}}{{$$d}}/{{.}} {{end}}{{range .TestGoFiles}}{{$$d}}/{{.}} {{end}}{{range .XTestGoFiles}}{{$$d}}/{{.}} {{end}}{{range .IgnoredGoFiles}}{{$$d}}/{{.}} {{end}}' ./...); \
	bad=$$(gofmt -l $$files); \
	if [ -n "$$bad" ]; then echo "lint: gofmt -w these files:" >&2; echo "$$bad" >&2; exit 1; fi; \
	echo "gofmt -l: clean"
	$(GO) vet ./...
	@$(STATICCHECK) -version
	$(STATICCHECK) ./...

$(STATICCHECK):
	GOBIN=$(@D) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

.PHONY: test-arm64
test-arm64: ## test the hardware-free packages as arm64 binaries under qemu-aarch64
	@pkgs="$$($(if $(HWFREE_PATTERNS),$(ARM64_ENV) $(GO) list $(HWFREE_PATTERNS)))"; \
	if [ -z "$$pkgs" ]; then echo "test-arm64: none of $(HWFREE_DIRS) has a package yet; nothing to test"; exit 0; fi; \
	missing=$$($(call missing_tools,qemu-aarch64:qemu-user $(ARM64_CC):gcc-aarch64-linux-gnu)); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then $(MAKE) apt-install PKGS="qemu-user $(ARM64_PKGS)"; \
	  elif [ "$${CI:-}" = true ]; then echo "test-arm64: missing $$(echo $$missing) and CI=true: failing, not skipping" >&2; exit 1; \
	  else echo "test-arm64: SKIPPED: missing $$(echo $$missing); 'sudo make deps' installs them" >&2; exit 0; fi; \
	fi; \
	echo "$(ARM64_ENV) $(GO) test -count=1 $(ARM64_TESTFLAGS) -exec '$(QEMU_ARM64)' -skip '$(ARM64_SKIP)' $$(echo $$pkgs)"; \
	LOCKD_TEST_EXEC='$(QEMU_ARM64)' $(ARM64_ENV) $(GO) test -count=1 $(ARM64_TESTFLAGS) -exec '$(QEMU_ARM64)' -skip '$(ARM64_SKIP)' $$pkgs

.PHONY: bench
bench: ## benchmarks, then cmd/lockbench if it exists
	$(GO) test -run='^$$' -bench=. -benchmem $(BENCHFLAGS) ./...
	@if [ -d cmd/lockbench ]; then echo "$(GO) run ./cmd/lockbench"; $(GO) run ./cmd/lockbench; fi

.PHONY: cross
cross: ## bin/arm64/ (PIE) and bin/armv7/ with cgo, plus stripped sizes
	@if [ -z "$(CMDS)" ]; then echo "cross: cmd/lockd does not exist yet; nothing to build"; exit 0; fi; \
	missing=$$($(call missing_tools,$(ARM64_CC):gcc-aarch64-linux-gnu $(ARMV7_CC):gcc-arm-linux-gnueabihf)); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then $(MAKE) apt-install PKGS="$(ARM64_PKGS) $(ARMV7_PKGS)"; \
	  else echo "cross: missing $$(echo $$missing); run 'sudo make deps'" >&2; exit 1; fi; \
	fi
	@if [ -n "$(CMDS)" ]; then \
	  echo "$(ARM64_ENV) $(GO) build $(CROSS_FLAGS) -buildmode=pie -o bin/arm64/ $(CMD_PKGS)"; \
	  $(ARM64_ENV) $(GO) build $(CROSS_FLAGS) -buildmode=pie -o bin/arm64/ $(CMD_PKGS); \
	  echo "$(ARMV7_ENV) $(GO) build $(CROSS_FLAGS) -o bin/armv7/ $(CMD_PKGS)"; \
	  $(ARMV7_ENV) $(GO) build $(CROSS_FLAGS) -o bin/armv7/ $(CMD_PKGS); \
	  printf '%-22s %10s %10s\n' binary size stripped; \
	  for f in bin/arm64/* bin/armv7/*; do \
	    case $$f in bin/arm64/*) strip=aarch64-linux-gnu-strip;; *) strip=arm-linux-gnueabihf-strip;; esac; \
	    tmp=$$(mktemp); $$strip -o "$$tmp" "$$f"; \
	    printf '%-22s %10s %10s\n' "$$f" "$$(numfmt --to=iec-i --suffix=B $$(stat -c %s "$$f"))" \
	      "$$(numfmt --to=iec-i --suffix=B $$(stat -c %s "$$tmp"))"; \
	    rm -f "$$tmp"; \
	  done; \
	fi

.PHONY: deps
deps: ## as root: apt-get install the Debian packages the tests need (only missing ones)
	@$(MAKE) apt-install PKGS="$(DEB_PKGS)"

# apt-install PKGS="...": installs those of PKGS that are not installed. One
# apt-get update, then a check that each is available, then one install.
.PHONY: apt-install
apt-install:
	@command -v dpkg-query >/dev/null || { echo "deps: not a Debian system; install by hand: $(PKGS)" >&2; exit 1; }; \
	missing=(); \
	for p in $(PKGS); do \
	  dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep ' installed$$' >/dev/null || missing+=("$$p"); \
	done; \
	if [ $${#missing[@]} -eq 0 ]; then echo "deps: all installed: $(PKGS)"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "deps: missing Debian packages: $${missing[*]}" >&2; \
	  echo "deps: run as root: sudo make deps" >&2; exit 1; \
	fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	echo "deps: installing $${missing[*]}"; \
	apt-get update -qq; \
	gone=(); \
	for p in "$${missing[@]}"; do \
	  apt-cache policy "$$p" 2>/dev/null | grep 'Candidate: [^(]' >/dev/null || gone+=("$$p"); \
	done; \
	if [ $${#gone[@]} -ne 0 ]; then echo "deps: not available from apt: $${gone[*]}" >&2; exit 1; fi; \
	apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "$${missing[@]}" </dev/null

# The Yocto recipe's Go module list, generated from go.mod and go.sum
# (yocto/cmd/gomodinc; its test fails while the file is stale), and the
# same modules' licences for the documentation.
YOCTO_GOMOD_INC := yocto/meta-lockd/recipes-lockd/lockd/lockd-go-mods.inc
THIRD_PARTY_LICENSES := docs/third-party-licenses.md

.PHONY: yocto-gomod
yocto-gomod: ## regenerate the Yocto recipe's gomod:// SRC_URI and licence list, and docs/third-party-licenses.md, from go.sum
	$(GO) mod download
	$(GO) run ./yocto/cmd/gomodinc -o $(YOCTO_GOMOD_INC) -licenses $(THIRD_PARTY_LICENSES)

.PHONY: clean
clean: ## remove bin/
	rm -rf bin

.PHONY: distclean
distclean: clean ## also remove .cache/ (staticcheck) and the simulator state .lockd-sim/
	rm -rf .cache .lockd-sim
