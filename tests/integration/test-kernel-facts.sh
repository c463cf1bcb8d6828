#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: the paths and addresses of `vigil watch` come from
# the kernel's objects, not from the caller's memory.
#   - /./etc/x, //etc//x, ../etc/x (from /tmp) and a symlink to /etc all
#     open /etc/x: each event's fd.name is /etc/x, and a filter
#     `fd.name startswith /etc/` (and --path) takes every one;
#   - a second thread rewrites the path buffer while the first opens it:
#     every event names the file actually opened (as /proc/self/fd says);
#   - a failed open carries the given path, said to be the caller's;
#   - a second thread rewrites the sockaddr while the first connects:
#     every event names the port actually connected to (getpeername); a
#     refused connect carries the address asked for, marked requested;
#   - in a container, a file made through a path with ".." has a host
#     path inside the container's root; one removed by a relative path
#     (the caller's words) has none.
# Usage: test-kernel-facts.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}
RACE=${VG_RACE_HELPER:-$(dirname "$VIGIL")/tests/race-helper}

vg_need_root
vg_enter_no_tracefs "$@"
vg_init
vg_need_cmds jq timeout docker dockerd python3 || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }
[ -x "$RACE" ] || { fail "race helper not found: $RACE"; vg_finish; }


T=$VG_TMPDIR
mkdir -p "$T/etc-like"
echo x >"$T/etc-like/vigil-kf"
ln -s "$T/etc-like" "$T/link-to-dir"

# --------------------------------------------------- spellings, a symlink
# the same file by four spellings and through a symlink; --path and a
# filter see all of them
watch_start spell --event open --filter "fd.name startswith $T/etc-like/" || vg_finish
(cd "$T" && cat "$T/./etc-like/vigil-kf" "/${T}//etc-like//vigil-kf" \
	"etc-like/../etc-like/vigil-kf" "$T/link-to-dir/vigil-kf") >/dev/null
(cd "$T/etc-like" && cat ../etc-like/vigil-kf) >/dev/null
sleep 1
watch_stop
N=$(events '.evt.type == "open" and .proc.name == "cat" and .fd.name == $f and .fd.path_source == "kernel"' \
	--arg f "$T/etc-like/vigil-kf" | grep -c .)
[ "$N" -eq 5 ] && pass "five spellings and a symlink: each event names the file, and the filter takes all ($N)" ||
	{ fail "spellings: $N of 5 events name $T/etc-like/vigil-kf"; events '.evt.type == "open"' | cut -c1-300 | head; }
G=$(events '.evt.type == "open" and .proc.name == "cat"' | jq -r .fd.path | sort -u | grep -c .)
[ "$G" -ge 4 ] && pass "each event keeps the path as given ($G spellings)" || fail "given paths: $G"

# ------------------------------------------------------- a racing thread
echo aaaa >"$T/race-a"
echo bbbb >"$T/race-b"
watch_start race --event open --filter 'proc.name = race-helper' || vg_finish
"$RACE" open 2000 "$T/race-a" "$T/race-b" >"$T/race.truth"
sleep 1
watch_stop
awk '{ print $3 }' "$T/race.truth" >"$T/race.truth.names"
events '.evt.type == "open" and (.fd.num != null) and (.fd.name | test("/race-[ab]$"))' | jq -r .fd.name >"$T/race.vigil.names"
NT=$(grep -c . "$T/race.truth.names") NV=$(grep -c . "$T/race.vigil.names")
if [ "$NT" -ge 1000 ] && cmp -s "$T/race.truth.names" "$T/race.vigil.names"; then
	pass "a thread rewriting the path meanwhile: all $NT events name the file the kernel opened"
else
	fail "racing opens: $NV events against $NT opens, or names that differ: $(diff "$T/race.truth.names" "$T/race.vigil.names" | head -4 | tr '\n' ' ')"
fi
NR=$(events '.evt.type == "open" and (.fd.num != null) and (.fd.name | test("/race-[ab]$")) and .fd.path != .fd.name' | grep -c .)
vg_info "the caller's buffer named another file than the one opened in $NR of $NT opens"

# ------------------------------------------------------------ a failed open
watch_start failed --event open --filter 'proc.name = cat' || vg_finish
cat "$T/no-such-dir/../etc-like/none" 2>/dev/null
sleep 1
watch_stop
EV=$(events '.evt.type == "open" and .evt_result.rawres < 0 and (.fd.path | endswith("/none"))' | head -n 1)
jcheck "a failed open: the given path, normalised, said to be the caller's" "$EV" \
	'.fd.name == ($t + "/etc-like/none") and .fd.path_source == "user" and .fd.name_unresolved == true' \
	--arg t "$T"

# -------------------------------------------------------- racing connects
PORTS=$(python3 - <<'PY'
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])
PY
)
read -r PA PB <<<"$PORTS"
python3 - "$PA" "$PB" >"$T/servers.log" 2>&1 <<'PY' &
import socket, sys, select, time
ls = []
for p in sys.argv[1:]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(p))); s.listen(4096); ls.append(s)
print("listening", flush=True)
end = time.time() + 120
while time.time() < end:
    r, _, _ = select.select(ls, [], [], 0.5)
    for s in r:
        c, _ = s.accept(); c.close()
PY
SRV=$!
vg_track_pid "$SRV"
vg_wait 10 grep -q listening "$T/servers.log" || fail "the loopback servers did not start"
watch_start conn --event connect --filter 'proc.name = race-helper' || vg_finish
"$RACE" connect 1000 "$PA" "$PB" >"$T/conn.truth"
sleep 1
watch_stop
kill "$SRV" 2>/dev/null
awk '{ print $3 }' "$T/conn.truth" >"$T/conn.truth.ports"
events '.evt.type == "connect" and .evt_result.rawres == 0' | jq -r .fd.sport >"$T/conn.vigil.ports"
NT=$(grep -c . "$T/conn.truth.ports")
if [ "$NT" -ge 500 ] && cmp -s "$T/conn.truth.ports" "$T/conn.vigil.ports"; then
	pass "a thread rewriting the sockaddr meanwhile: all $NT connects name the port connected to"
else
	fail "racing connects: $(grep -c . "$T/conn.vigil.ports") events against $NT connects: $(diff "$T/conn.truth.ports" "$T/conn.vigil.ports" | head -4 | tr '\n' ' ')"
fi
# a refused connect: a port nothing listens on
watch_start refused --event connect --filter 'proc.name = python3' || vg_finish
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); p=s.getsockname()[1]; s.close(); c=socket.socket()
try: c.connect(("127.0.0.1",p))
except OSError: pass
print(p)' >"$T/refused.port"
sleep 1
watch_stop
EV=$(events '.evt.type == "connect" and .evt_result.rawres < 0' | head -n 1)
jcheck "a refused connect: the address asked for, marked requested" "$EV" \
	'.fd.sip == "127.0.0.1" and .fd.sport == ($p | tonumber) and .fd.requested == true' \
	--arg p "$(cat "$T/refused.port")"

# ------------------------------------------------- host paths in a container
if vg_start_dockerd && vg_busybox_image; then
	C=${VG_RUN_PREFIX}kf
	if vg_t docker run -d --name "$C" --network none "$VG_IMAGE" sleep 3600 >/dev/null; then
		CID=$(vg_t docker inspect -f '{{.Id}}' "$C")
		MERGED=$("$VIGIL" rootfs "$C" 2>/dev/null)
		watch_start hostpath --event file --container "$C" || vg_finish
		vg_t docker exec "$C" sh -c 'cd /tmp && touch ../../../../tmp/vigil-kf && rm ../../../tmp/vigil-kf'
		sleep 1
		watch_stop
		EV=$(events '.evt.type == "file" and .file.action == "create"' | head -n 1)
		jcheck "in a container: a file made through '..' has the kernel's path and a host path in the container's root" "$EV" \
			'.fd.name == "/tmp/vigil-kf" and .fd.path_source == "kernel" and (.file.host_path | startswith($m + "/")) and (.file.host_path | test("/\\.\\./") | not)' \
			--arg m "$MERGED"
		EV=$(events '.evt.type == "file" and .file.action == "delete"' | head -n 1)
		jcheck "in a container: a file removed by a relative path: the caller's words, normalised, no host path" "$EV" \
			'.fd.name == "/tmp/vigil-kf" and .fd.path_source == "user" and (.file | has("host_path") | not)'
	else
		fail "docker run $C"
	fi
else
	fail "docker daemon or image unavailable"
fi

vg_finish
