#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build vigil's container image from a Meson build directory, without a
# registry: a root filesystem of the vigil binary, the shared libraries
# it links and the dynamic loader, under a Dockerfile FROM scratch.
#
# Usage: deploy/image/build.sh [-t TAG] [--stage-only DIR] BUILD_DIR
#   -t TAG            the image's tag (default vigil/vigil:dev)
#   --stage-only DIR  write the root filesystem and Dockerfile to DIR and
#                     stop (for builders other than docker)
#
# libcurl is not linked but opened at run time (for the kubelet's /pods,
# over https): it and its libraries are copied too. No CA bundle: the
# DaemonSet gives the kubelet's CA with --kubelet-ca. No shell: the
# readiness probe runs vigil itself.
set -euo pipefail

TAG=vigil/vigil:dev
STAGE=
usage() { sed -n '5,9s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	-t) [ $# -ge 2 ] || usage; TAG=$2; shift 2 ;;
	--stage-only) [ $# -ge 2 ] || usage; STAGE=$2; shift 2 ;;
	-h|--help) usage ;;
	-*) echo "build.sh: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || usage
BUILD=$1
VIGIL=$BUILD/vigil
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "build.sh: $*" >&2; exit 1; }
[ -x "$VIGIL" ] || die "$VIGIL: no vigil binary there (build with: ninja -C $BUILD)"
command -v ldd >/dev/null || die "ldd is needed (Debian: libc-bin)"

# The libraries FILE needs, the loader included, one path per line.
libs_of() {
	local out
	out=$(LC_ALL=C ldd "$1" 2>&1) || die "ldd $1: $out"
	if grep -q 'not found' <<<"$out"; then
		die "$1 needs libraries this host lacks: $(grep 'not found' <<<"$out" | tr -s ' \t\n' ' ')"
	fi
	awk '/=>/ && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out"
}

# libvigil is compiled into the binary: an image with the binary alone
# must not depend on a libvigil.so it does not carry.
if LC_ALL=C ldd "$VIGIL" | grep -q 'libvigil'; then
	die "$VIGIL links libvigil.so dynamically; the image expects it built in"
fi

CURL=$(/sbin/ldconfig -p | awk '$1 == "libcurl.so.4" && /x86-64|aarch64|64bit/ { print $NF; exit }')
[ -n "$CURL" ] || CURL=$(/sbin/ldconfig -p | awk '$1 == "libcurl.so.4" { print $NF; exit }')
[ -n "$CURL" ] || die "libcurl.so.4 is not installed (Debian: libcurl4); the kubelet client needs it"

if [ -n "$STAGE" ]; then
	mkdir -p "$STAGE"
	CTX=$(cd "$STAGE" && pwd)
else
	CTX=$(mktemp -d /tmp/vigil-image.XXXXXX)
	trap 'rm -rf "$CTX"' EXIT
fi
ROOT=$CTX/rootfs
rm -rf "$ROOT"
# mount points of the DaemonSet, present even on a read-only root
mkdir -p "$ROOT"/{usr/bin,etc/vigil,host,run/vigil,proc,sys,dev,tmp}
install -m 0755 "$VIGIL" "$ROOT/usr/bin/vigil"
for f in $( { libs_of "$VIGIL"; echo "$CURL"; libs_of "$CURL"; } | sort -u); do
	# the path as ldd names it (the loader is looked up at /lib64/...),
	# its content from wherever the symlinks lead
	mkdir -p "$ROOT$(dirname "$f")"
	cp -L "$f" "$ROOT$f"
done
# libcurl is opened by its soname: the loader's default path finds it
# where it was copied, no ld.so.cache needed.
cp "$HERE/Dockerfile" "$CTX/Dockerfile"

if [ -n "$STAGE" ]; then
	echo "staged in $CTX (docker build -t $TAG $CTX)"
	exit 0
fi
command -v docker >/dev/null || die "docker is needed to build the image (Debian: docker.io)"
VERSION=$("$VIGIL" --version | awk '{ print $2 }')
# the classic builder: FROM scratch needs nothing from a registry, and
# docker 20.10 has no buildx plugin to need
if ! DOCKER_BUILDKIT=0 docker build -q --build-arg "VERSION=$VERSION" -t "$TAG" "$CTX" \
	>"$CTX/build.log" 2>&1; then
	cat "$CTX/build.log" >&2
	die "docker build failed"
fi
echo "$TAG"
