#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Integration test: 'make install' into a DESTDIR puts everything a package
# would in place, and a program builds against the installed library.
#   - make install PREFIX=/usr DESTDIR=...: the binary, libvigil.so with
#     soname libvigil.so.0 and its links, the header, vigil.pc, a man page
#     for vigil(8), each command and the formats, the bash and zsh
#     completions, the example config and policy, /etc/vigil/vigil.conf,
#     and the systemd units the tree has;
#   - every installed man page renders with no warning from man --warnings;
#   - a C program using only <vigil/vigil.h> builds with
#     'pkg-config --cflags --libs vigil' against the DESTDIR, needs
#     libvigil.so.0, identifies its own pid, and applies the installed
#     example policy;
#   - the installed binary runs, and the installed example config passes
#     --check-config where the binary has it.
# Usage: test-install.sh [path/to/vigil]   (exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}

vg_init
vg_need_cmds make meson ninja pkg-config cc readelf man python3 || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }

D=$VG_TMPDIR/root
B=$VG_TMPDIR/build
vg_log "make install PREFIX=/usr DESTDIR=$D (build in $B)"
if timeout -k 5 600 make -C "$SRC" --no-print-directory install PREFIX=/usr DESTDIR="$D" \
	INSTALL_BUILD="$B" >"$VG_TMPDIR/install.log" 2>&1; then
	pass "make install PREFIX=/usr DESTDIR=... succeeds"
else
	fail "make install failed:"; tail -n 20 "$VG_TMPDIR/install.log" | sed 's/^/    /'
	vg_finish
fi

LIBDIR=$(cd "$D" && find usr/lib* -name 'libvigil.so.0' -printf '%h\n' | head -n 1)
[ -n "$LIBDIR" ] && pass "libvigil.so.0 installed in /$LIBDIR" || { fail "no libvigil.so.0 in $D"; vg_finish; }

# Every file a package needs.
expect=(usr/bin/vigil usr/include/vigil/vigil.h "$LIBDIR/libvigil.so" "$LIBDIR/libvigil.so.0"
	"$LIBDIR/pkgconfig/vigil.pc"
	usr/share/bash-completion/completions/vigil usr/share/zsh/vendor-completions/_vigil
	usr/share/doc/vigil/examples/vigil.conf usr/share/doc/vigil/examples/policy
	usr/share/doc/vigil/LICENSE usr/share/doc/vigil/LGPL-2.1-or-later.txt
	etc/vigil/vigil.conf
	usr/share/man/man8/vigil.8 usr/share/man/man5/vigil.conf.5 usr/share/man/man5/vigil-policy.5
	usr/share/man/man7/vigil-filter.7 usr/share/man/man7/vigil-protocol.7
	usr/share/man/man3/libvigil.3)
mapfile -t cmds < <("$VIGIL" --help | awk '/^Commands:/ { on = 1; next } on && /^[^ ]/ { on = 0 }
	on && /^  [a-z]/ { print $1 }')
[ ${#cmds[@]} -ge 5 ] || fail "vigil --help lists only ${#cmds[@]} commands"
for c in "${cmds[@]}"; do
	if [ "$c" = client ]; then expect+=(usr/share/man/man1/vigil-client.1); else expect+=("usr/share/man/man8/vigil-$c.8"); fi
done
for u in vigil-daemon.service vigil-peer.socket vigil-peer.service; do
	expect+=("usr/lib/systemd/system/$u")
done
expect+=(usr/lib/sysusers.d/vigil.conf)
missing=()
for f in "${expect[@]}"; do [ -e "$D/$f" ] || missing+=("$f"); done
[ ${#missing[@]} -eq 0 ] && pass "all ${#expect[@]} expected files are installed" ||
	fail "not installed: ${missing[*]}"

# The soname, and its links: .so (for the linker) -> .so.0 (the soname) -> the file.
SONAME=$(readelf -d "$D/$LIBDIR/libvigil.so.0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$SONAME" = libvigil.so.0 ] && pass "the library's soname is libvigil.so.0" || fail "soname '$SONAME'"
[ -L "$D/$LIBDIR/libvigil.so" ] && [ -L "$D/$LIBDIR/libvigil.so.0" ] &&
	[ "$(readlink -f "$D/$LIBDIR/libvigil.so")" = "$(readlink -f "$D/$LIBDIR/libvigil.so.0")" ] &&
	[ -f "$(readlink -f "$D/$LIBDIR/libvigil.so.0")" ] &&
	pass "libvigil.so and libvigil.so.0 are links to the versioned file" ||
	fail "the library's links: $(ls -l "$D/$LIBDIR"/libvigil* | tr '\n' ' ')"
# Only the public API is exported.
other=$(nm -D --defined-only "$D/$LIBDIR/libvigil.so.0" | awk '$2 ~ /[TDBR]/ { print $3 }' | grep -v '^vigil_' | head -5)
[ -z "$other" ] && pass "libvigil.so.0 exports only vigil_* symbols" || fail "libvigil exports: $other"

# The man pages: each renders without a warning.
n=0 warned=()
for f in "$D"/usr/share/man/man*/*; do
	n=$((n + 1))
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$f" 2>&1 >/dev/null)
	[ -z "$w" ] || warned+=("${f##*/}: $w")
done
[ "$n" -ge 16 ] && [ ${#warned[@]} -eq 0 ] && pass "all $n man pages render with no man --warnings output" ||
	fail "man pages: $n, warnings: ${warned[*]}"
if LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$D/usr/share/man/man8/vigil-daemon.8" 2>/dev/null | grep -c -- '--socket PATH' >/dev/null; then
	pass "vigil-daemon(8) renders its options"
else
	fail "vigil-daemon(8) does not render its options"
fi

# A program against the installed library, found by pkg-config alone.
export PKG_CONFIG_PATH=$D/$LIBDIR/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D PKG_CONFIG_LIBDIR=$D/$LIBDIR/pkgconfig
FLAGS=$(pkg-config --cflags --libs vigil)
if [ $? -eq 0 ] && grep -q -- "-I$D/usr/include" <<<"$FLAGS" && grep -q -- '-lvigil' <<<"$FLAGS"; then
	pass "pkg-config --cflags --libs vigil points into the DESTDIR: $FLAGS"
else
	fail "pkg-config --cflags --libs vigil: '$FLAGS'"
fi
[ "$(pkg-config --modversion vigil)" = "$("$VIGIL" --version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1)" ] &&
	pass "vigil.pc's version is the binary's" || fail "vigil.pc version $(pkg-config --modversion vigil)"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR

cat >"$VG_TMPDIR/who.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <vigil/vigil.h>

int main(int argc, char **argv)
{
	struct vigil_ctx *ctx;
	struct vigil_identity *id;
	struct vigil_policy *pol;
	char err[512], why[512];
	int r;

	if (argc != 2)
		return 2;
	if ((r = vigil_ctx_new("/", &ctx)) < 0) {
		fprintf(stderr, "vigil_ctx_new: %s\n", strerror(-r));
		return 1;
	}
	if ((r = vigil_identify_pid(ctx, getpid(), &id)) < 0) {
		fprintf(stderr, "vigil_identify_pid: %s\n", strerror(-r));
		return 1;
	}
	if ((r = vigil_policy_load(argv[1], &pol, err, sizeof(err))) < 0) {
		fprintf(stderr, "vigil_policy_load: %s\n", err);
		return 1;
	}
	printf("pid=%d status=%s container=%s runtime=%s allowed=%d why=%s\n",
	       (int)vigil_identity_pid(id),
	       vigil_status_name(vigil_identity_status(id)),
	       vigil_identity_container_id(id), vigil_identity_runtime(id),
	       vigil_policy_allows(pol, id, why, sizeof(why)), why);
	vigil_policy_free(pol);
	vigil_identity_free(id);
	vigil_ctx_free(ctx);
	return 0;
}
C
# shellcheck disable=SC2086  # the flags are words
if cc -Wall -Wextra -Werror -o "$VG_TMPDIR/who" "$VG_TMPDIR/who.c" $FLAGS 2>"$VG_TMPDIR/cc.err"; then
	pass "a program using only <vigil/vigil.h> builds with pkg-config's flags"
else
	fail "the program does not build:"; sed 's/^/    /' "$VG_TMPDIR/cc.err"
	vg_finish
fi
readelf -d "$VG_TMPDIR/who" | grep -c 'NEEDED.*\[libvigil\.so\.0\]' >/dev/null &&
	pass "the program needs libvigil.so.0 (the soname)" || fail "the program's NEEDED: $(readelf -d "$VG_TMPDIR/who" | grep NEEDED)"
OUT=$(LD_LIBRARY_PATH=$D/$LIBDIR "$VG_TMPDIR/who" "$D/usr/share/doc/vigil/examples/policy" 2>&1)
RC=$?
vg_info "the program said: $OUT"
if [ $RC -eq 0 ] && grep -qE '^pid=[0-9]+ status=ok container=' <<<"$OUT"; then
	pass "the program identifies itself through the installed library"
else
	fail "the program (exit $RC): $OUT"
fi
# Its answer agrees with the installed binary's about this shell's container.
want=$("$D/usr/bin/vigil" -o json pid $$ 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["container"]["id"])' 2>/dev/null)
[ -n "$want" ] && grep -q "container=$want " <<<"$OUT" &&
	pass "its container ($want) is the one the installed vigil gives" || fail "container: program '$OUT', vigil pid '$want'"
# The installed example policy loads and decides with a reason.
grep -qE 'why=(rule at line [0-9]+|no rule matched)' <<<"$OUT" &&
	pass "the installed example policy loads and gives a reason" || fail "policy answer: $OUT"

# The installed binary runs, and the example config passes its check.
"$D/usr/bin/vigil" --version >/dev/null 2>&1 && pass "the installed vigil runs" || fail "the installed vigil does not run"
for c in daemon server; do
	"$D/usr/bin/vigil" $c --check-config --config "$D/usr/share/doc/vigil/examples/vigil.conf" >"$VG_TMPDIR/cc.out" 2>&1 &&
		pass "the example config passes vigil $c --check-config" ||
		{ fail "vigil $c --check-config rejects the example config:"; sed 's/^/    /' "$VG_TMPDIR/cc.out"; }
done
cmp -s "$D/etc/vigil/vigil.conf" "$SRC/etc/vigil.conf.example" &&
	pass "/etc/vigil/vigil.conf is the example, every setting commented out" || fail "/etc/vigil/vigil.conf differs from the example"
grep -qvE '^[[:space:]]*(#|;|\[|$)' "$D/etc/vigil/vigil.conf" && fail "/etc/vigil/vigil.conf sets something" ||
	pass "/etc/vigil/vigil.conf sets nothing until edited"

# A second install keeps an operator's configuration.
echo '# edited' >>"$D/etc/vigil/vigil.conf"
if meson install -C "$B" --no-rebuild --destdir "$D" >"$VG_TMPDIR/install2.log" 2>&1 &&
	tail -n 1 "$D/etc/vigil/vigil.conf" | grep -q '^# edited$'; then
	pass "installing again keeps an edited /etc/vigil/vigil.conf"
else
	fail "a second install replaced /etc/vigil/vigil.conf or failed"; tail -n 5 "$VG_TMPDIR/install2.log"
fi

bash -n "$D/usr/share/bash-completion/completions/vigil" && pass "the bash completion parses" ||
	fail "the bash completion does not parse"
if command -v zsh >/dev/null; then
	zsh -n "$D/usr/share/zsh/vendor-completions/_vigil" && pass "the zsh completion parses" ||
		fail "the zsh completion does not parse"
else
	fail "zsh is not installed: the zsh completion is not checked (make deps-check installs it)"
fi

vg_finish
