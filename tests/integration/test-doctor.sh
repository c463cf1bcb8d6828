#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: `vigil doctor`, against what the kernel itself says.
#   - program kinds: whether each loads agrees with bpftool's own feature
#     probe; tracepoints and tp_btf attach; a kprobe attaches only where
#     the kernel has a kprobe PMU;
#   - the ring buffer and BTF as bpftool and sysfs say; SO_PEERPIDFD as a
#     socket says; the cgroup layout as statfs says;
#   - tracefs: none mounted here (a fresh host's mount namespace), a
#     private one used, and no tracefs mount left behind, here or on the
#     host;
#   - text and JSON give the same verdict; exit 0 here; as a user without
#     capabilities, exit 1 naming them.
# Usage: test-doctor.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}

vg_need_root
vg_enter_no_tracefs "$@"
vg_init
vg_need_cmds jq bpftool python3 setpriv stat || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }

MT_NS=$(vg_mounts_of_type tracefs | wc -l) MT_HOST=$(vg_mounts_of_type tracefs 1 | wc -l)
vg_vigil doctor -o json
J=$VG_OUT
[ "$VG_RC" = 0 ] && pass "vigil doctor exits 0 where watch and daemon can run" || { fail "doctor exit $VG_RC"; vg_show; }
vg_valid_json_lines "$J" && [ "$(vg_count_lines "$J")" = 1 ] && pass "-o json is one JSON object" ||
	{ fail "doctor -o json is not one JSON object"; vg_show; }

# What the kernel says, asked independently.
FEAT=$(bpftool -j feature probe kernel 2>/dev/null)
if [ -z "$FEAT" ]; then
	fail "bpftool feature probe kernel gave nothing"
else
	for k in "tracepoint tracepoint" "kprobe kprobe" "raw_tp raw_tracepoint" "fentry tracing" "lsm lsm"; do
		set -- $k
		want=$(jq -r ".program_types.have_$2_prog_type" <<<"$FEAT")
		got=$(jq -r ".programs.$1.loads" <<<"$J")
		[ "$got" = "$want" ] && pass "$1 programs: loads=$got, as bpftool's probe says" ||
			fail "$1 programs: doctor says loads=$got, bpftool $want"
	done
	want=$(jq -r '.map_types.have_ringbuf_map_type' <<<"$FEAT")
	jcheck "the ring buffer as bpftool says ($want)" "$J" '.programs.ring_buffer == ($w == "true")' --arg w "$want"
fi
jcheck "tracepoint, raw_tp and tp_btf programs attach (vigil's sensor is built on them)" "$J" \
	'.programs.tracepoint.attaches and .programs.raw_tp.attaches and .programs.tp_btf.loads and .programs.tp_btf.attaches'
if [ -d /sys/bus/event_source/devices/kprobe ]; then KP=true; else KP=false; fi
jcheck "a kprobe attaches only with a kprobe PMU (here: $KP)" "$J" '.programs.kprobe.attaches == ($k == "true")' --arg k "$KP"
jcheck "what does not attach says why" "$J" \
	'[.programs[] | objects | select(.attaches == false) | .error | type == "string" and length > 0] | all'

if [ -e /sys/kernel/btf/vmlinux ]; then B=true; else B=false; fi
jcheck "BTF as sysfs says ($B)" "$J" '.kernel.btf == ($b == "true")' --arg b "$B"
jcheck "the kernel release as uname says" "$J" '.kernel.release == $r' --arg r "$(uname -r)"

PPID_FD=$(python3 -c '
import socket
a, b = socket.socketpair()
try:
    print("true" if a.getsockopt(socket.SOL_SOCKET, 77) >= 0 else "false")
except OSError:
    print("false")')
jcheck "SO_PEERPIDFD as a socket says ($PPID_FD)" "$J" '.peer.so_peerpidfd == ($p == "true")' --arg p "$PPID_FD"

case $(stat -f -c %T /sys/fs/cgroup) in
cgroup2*) LAYOUT=v2 V2=/sys/fs/cgroup ;;
*) if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
	LAYOUT=hybrid V2=/sys/fs/cgroup/unified
   else LAYOUT=v1 V2=; fi ;;
esac
jcheck "the cgroup layout as statfs says ($LAYOUT, v2 at ${V2:-none})" "$J" \
	'.cgroup.layout == $l and .cgroup.v2_mount == (if $v == "" then null else $v end)' --arg l "$LAYOUT" --arg v "$V2"

jcheck "no tracefs is mounted here, and vigil uses a private one" "$J" \
	'.tracefs.mounted == null and .tracefs.private.possible and (.tracefs.used | startswith("a private mount"))'
[ "$(vg_mounts_of_type tracefs | wc -l)" = "$MT_NS" ] && [ "$(vg_mounts_of_type tracefs 1 | wc -l)" = "$MT_HOST" ] &&
	pass "doctor left no tracefs mount here or on the host" || fail "doctor left a tracefs mount"
jcheck "the verdict: watch and daemon can run, no reason against" "$J" \
	'.verdict.watch and .verdict.daemon and (.verdict.reasons | length) == 0'

if [ -S "${VG_CTR_SOCK:-/nonexistent}" ] || vg_docker_ok; then
	jcheck "docker is found and its socket answers" "$J" '.runtimes.docker.found and .runtimes.docker.reachable'
fi

vg_vigil doctor
[ "$VG_RC" = 0 ] && grep -q '^  vigil watch and vigil daemon can run here$' <<<"$VG_OUT" &&
	grep -q '^programs$' <<<"$VG_OUT" && grep -qE '^  kprobe +loads yes, attaches (yes|no)' <<<"$VG_OUT" &&
	pass "text: the same verdict, sections and facts" || { fail "doctor text"; vg_show; }

out=$(timeout -k 5 60 setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$VIGIL" doctor -o json 2>&1 </dev/null)
rc=$?
jcheck "as a user without capabilities: exit 1 ($rc), and the reason names them" "$out" \
	'(.verdict.watch | not) and ([.verdict.reasons[] | select(test("CAP_BPF"))] | length) == 1' &&
	[ "$rc" = 1 ] || fail "doctor as nobody: exit $rc"

vg_vigil doctor --bogus
[ "$VG_RC" = 2 ] && pass "an unknown option is a usage error" || { fail "doctor --bogus"; vg_show; }

vg_finish
