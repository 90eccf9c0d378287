#!/usr/bin/env bash
# install-deps.sh: installs every host dependency berth and its tests need.
# Idempotent: each step checks first and does nothing when already satisfied,
# so `make run` and `make test` call it on every invocation.
set -euo pipefail

RUNC_VERSION=v1.5.2
RUNC_BIN=/usr/local/sbin/runc
# The test registry builds its images from Debian's dynamically linked busybox
# (busybox-static runs applets as shell built-ins, which critest's MaskedPaths
# spec notices). It is unpacked here, never installed over the host's tools.
BUSYBOX_ROOT=${BERTH_BUSYBOX_ROOT:-/usr/local/share/berth-test/busybox}

log() { echo "install-deps: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: must run as root (apt-get, /usr/local/sbin)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive

# Debian packages: command or file that proves each one is there.
declare -A want=(
	[conmon]=/usr/bin/conmon
	[crun]=/usr/bin/crun
	[containernetworking-plugins]=/usr/lib/cni/bridge
	[catatonit]=/usr/bin/catatonit
	[iptables]=/usr/sbin/iptables
	[iproute2]=/usr/sbin/ip
	[libseccomp-dev]=/usr/include/seccomp.h
	[pkg-config]=/usr/bin/pkg-config
	[gcc]=/usr/bin/gcc
	[make]=/usr/bin/make
	[git]=/usr/bin/git
	[ca-certificates]=/etc/ssl/certs/ca-certificates.crt
	# go-archive decompresses gzip layers with unpigz when present (faster).
	[pigz]=/usr/bin/unpigz
	# Copied with their libraries into the node e2e agnhost image, whose
	# upstream (Alpine) has them: the probe specs run /bin/bash, the
	# networking specs `curl` and `nc -u` from it.
	[bash]=/bin/bash
	[curl]=/usr/bin/curl
	[netcat-openbsd]=/usr/bin/nc.openbsd
	# glibc hostname -f for the node e2e glibc-dns-testing image.
	[hostname]=/bin/hostname
	# apparmor_parser loads berth's default profile on hosts that enforce
	# AppArmor; its tests compile the profile with it everywhere.
	[apparmor]=/sbin/apparmor_parser
	# The disk-full tests put berth's root on a small loop-mounted ext4.
	[e2fsprogs]=/sbin/mkfs.ext4
	[mount]=/bin/mount
	# CheckpointContainer: the runtimes run CRIU (where the kernel lets
	# `criu check` pass; elsewhere berth answers FailedPrecondition).
	[criu]=/usr/sbin/criu
)
missing=()
for pkg in "${!want[@]}"; do
	[ -e "${want[$pkg]}" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Go toolchain: the machines ship it in /usr/local/go; make sure it is on PATH.
export PATH=/usr/local/go/bin:$PATH:/root/go/bin
command -v go >/dev/null || { echo "install-deps: Go is required (/usr/local/go)" >&2; exit 1; }

# runc: Debian's 1.1.5 is too old for runtime-spec 1.3.0; build the pinned
# release with seccomp support (without the tag it silently has none).
# The outputs are read whole before grep: with pipefail, `grep -q` quitting
# early would SIGPIPE the writer and fail the check at random.
runc_ok() {
	[ -x "$RUNC_BIN" ] || return 1
	local version features
	version=$("$RUNC_BIN" --version 2>/dev/null) || return 1
	features=$("$RUNC_BIN" features 2>/dev/null) || return 1
	grep -q "runc version ${RUNC_VERSION#v}" <<<"$version" &&
		grep -A1 '"seccomp"' <<<"$features" | grep -q '"enabled": true'
}
if ! runc_ok; then
	log "building runc $RUNC_VERSION with seccomp"
	GOBIN=$(dirname "$RUNC_BIN") CGO_ENABLED=1 GOFLAGS=-mod=mod \
		go install -tags seccomp "github.com/opencontainers/runc@$RUNC_VERSION"
	runc_ok || { echo "install-deps: runc $RUNC_VERSION built without seccomp" >&2; exit 1; }
fi

# busybox (dynamic) for the test images, with the shared libraries it needs.
if [ ! -x "$BUSYBOX_ROOT/bin/busybox" ]; then
	log "unpacking Debian's busybox into $BUSYBOX_ROOT"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# apt-get download needs the package lists; update only when they are empty.
	(cd "$tmp" && { apt-get download busybox >/dev/null 2>&1 || { apt-get update -qq && apt-get download busybox >/dev/null; }; })
	dpkg -x "$tmp"/busybox_*.deb "$tmp/root"
	mkdir -p "$BUSYBOX_ROOT.new/bin"
	cp "$tmp/root/bin/busybox" "$BUSYBOX_ROOT.new/bin/busybox"
	# Copy the dynamic loader and every library ldd reports, keeping their paths.
	for lib in $(ldd "$tmp/root/bin/busybox" | grep -o '/[^ ]*'); do
		real=$(readlink -f "$lib")
		mkdir -p "$BUSYBOX_ROOT.new$(dirname "$lib")"
		cp "$real" "$BUSYBOX_ROOT.new$lib"
	done
	rm -rf "$BUSYBOX_ROOT"
	mv "$BUSYBOX_ROOT.new" "$BUSYBOX_ROOT"
fi

log "ok"
