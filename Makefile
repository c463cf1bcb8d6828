# SPDX-License-Identifier: LGPL-2.1-or-later
# The two entry points of the README, plus bench. Each installs what it
# is missing (Debian 12, as root), builds with Meson, and runs.

BUILD ?= build
SHELL := /bin/bash

BUILD_PKGS := meson ninja-build pkg-config gcc libc6-dev libjansson-dev libcmocka-dev libcurl4-openssl-dev \
	clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libaudit-dev libauparse-dev libcap-ng-dev \
	libsystemd-dev libinih-dev libmicrohttpd-dev scdoc libgnutls28-dev libnats-dev libyaml-dev
CHECK_PKGS := $(BUILD_PKGS) jq clang libclang-rt-14-dev valgrind procps \
	docker.io containerd runc podman busybox-static uidmap util-linux \
	python3 python3-yaml openssl auditd systemd prometheus curl man-db \
	bash-completion zsh rsyslog rsyslog-relp rsyslog-gnutls gnutls-bin nats-server
# bench-watch's peers: execsnoop/opensnoop, bpftrace, auditd, and bpftool
# to see when they have attached; bench-diff's: docker and its busybox image;
# bench-export's receivers: nats-server, and rsyslog with RELP.
BENCH_PKGS := $(BUILD_PKGS) procps jq hyperfine libbpf-tools bpftrace auditd bpftool \
	docker.io busybox-static nats-server rsyslog rsyslog-relp

.PHONY: all build run check check-asan-root bench deps-build deps-check deps-bench install uninstall clean

all: build

deps-build:
	@scripts/install-deps.sh $(BUILD_PKGS)
deps-check:
	@scripts/install-deps.sh $(CHECK_PKGS)
deps-bench:
	@scripts/install-deps.sh $(BENCH_PKGS)

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps-build $(BUILD)/build.ninja
	ninja -C $(BUILD)

# vigil's main job with defaults: watch what every process on this host
# does, with its container and pod, until ^C. RUN_ARGS adds options, for
# example RUN_ARGS='--duration 10 --output json'.
RUN_ARGS ?=
run: build
	./$(BUILD)/vigil watch $(RUN_ARGS)

# Every suite: unit (+ the same under ASan/UBSan and valgrind), fuzz
# smoke runs, and the root integration suite with real runtimes.
check: deps-check build
	tests/check.sh $(BUILD)

# The root integration suite once more, against an ASan + UBSan build:
# any sanitizer report from any vigil process fails it.
check-asan-root: deps-check build
	tests/check-asan-root.sh

bench: deps-bench build
	bench/run.sh ./$(BUILD)/vigil

# Install as a package would: the binary, libvigil.so.0, its header and
# vigil.pc, man pages, completions, systemd units, the example config and
# policy. A build of its own, release and without the test suites, so the
# installed binary carries no test hooks. PREFIX=/usr by default because
# the systemd units run /usr/bin/vigil; the configuration goes to
# /etc/vigil whatever the prefix, where vigil looks for it. DESTDIR
# stages the whole tree elsewhere (for a package, or a test).
PREFIX ?= /usr
SYSCONFDIR ?= /etc
DESTDIR ?=
INSTALL_BUILD ?= build-install
install: deps-build
	if [ -f $(INSTALL_BUILD)/build.ninja ]; then \
		meson configure $(INSTALL_BUILD) --prefix=$(PREFIX) --sysconfdir=$(SYSCONFDIR); \
	else \
		meson setup $(INSTALL_BUILD) --prefix=$(PREFIX) --sysconfdir=$(SYSCONFDIR) \
			--buildtype=release -Dtests=false; \
	fi
	ninja -C $(INSTALL_BUILD)
	meson install -C $(INSTALL_BUILD) --no-rebuild $(if $(DESTDIR),--destdir $(abspath $(DESTDIR)))

# What install put in place, but /etc/vigil/vigil.conf: an operator's file.
uninstall:
	ninja -C $(INSTALL_BUILD) uninstall

clean:
	rm -rf $(BUILD) build-asan build-fuzz $(INSTALL_BUILD)
