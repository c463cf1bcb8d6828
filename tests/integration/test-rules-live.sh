#!/usr/bin/env bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose
# Integration test: Falco's rules on real activity in docker containers,
# through the eBPF sensor (`vigil watch --rules`), in a mount namespace
# without tracefs or debugfs.
#   Rules: Falco's pinned stable file, then tests/fixtures/rules/live-rules.yaml
#   (one rule per event family, with lists, macros, exceptions, and an
#   exception appended to a stable rule).
#   Activity, in containers started with --network none:
#     - exec: a shell with a terminal (stable "Terminal shell in
#       container"), a shell without one (the test's shell rule), a shell
#       its exception allows;
#     - open: /etc/shadow read by cat (stable "Read sensitive file
#       untrusted") and by head (the exception appended to it);
#     - connect: to 192.0.2.1 (TEST-NET-1) port 80, an address the test
#       puts on the loopback device of the container's own network
#       namespace, with a listener there, so the connect succeeds and no
#       packet leaves it; to port 8080 (the rule's exception); to
#       127.0.0.1 (not outbound);
#     - file: a rename in /tmp of a second container, and one elsewhere;
#     - a binary copied into the second container and run (stable "Drop
#       and execute new binary in container": its overlay's upper layer),
#       beside a program of its image.
#   Exactly the expected alerts, each with its rule, priority, output with
#   the fields substituted, the right container's id and name, and the
#   process's exec id; nothing else fires in the test's containers.
# Usage: test-rules-live.sh [path/to/vigil]   (root; exit 77 = skipped)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VIGIL=${1:-${VIGIL:-$VG_DEFAULT_VIGIL}}
FIX=$(cd "$HERE/../fixtures" && pwd)
STABLE=$FIX/falco/falco_rules.yaml
RULES=$FIX/rules/live-rules.yaml

vg_need_root
vg_enter_no_tracefs "$@"
vg_init
vg_need_cmds jq timeout docker dockerd python3 nsenter ip || vg_finish
[ -x "$VIGIL" ] || { fail "vigil binary not found: $VIGIL"; vg_finish; }

# ---------------------------------------------------------------- setup
if ! vg_start_dockerd || ! vg_busybox_image; then
	fail "docker daemon or image unavailable"
	vg_finish
fi
C1=${VG_RUN_PREFIX}rl1 C2=${VG_RUN_PREFIX}rl2
for c in "$C1" "$C2"; do
	if ! vg_t docker run -d --name "$c" --network none "$VG_IMAGE" sleep 3600 >/dev/null; then
		fail "docker run $c"
		vg_finish
	fi
done
C1_ID=$(vg_t docker inspect -f '{{.Id}}' "$C1")
C2_ID=$(vg_t docker inspect -f '{{.Id}}' "$C2")
C1_PID=$(vg_t docker inspect -f '{{.State.Pid}}' "$C1")

# The file the sensitive-file rule watches, and the files to rename.
printf 'root:*:19000:0:99999:7:::\n' >"$VG_TMPDIR/shadow"
vg_t docker cp "$VG_TMPDIR/shadow" "$C1:/etc/shadow" || fail "docker cp /etc/shadow"
vg_t docker exec "$C2" touch /tmp/rename-from /rename-outside || fail "touch in $C2"
vg_t docker exec "$C2" busybox cp /bin/busybox /tmp/true || fail "cp busybox in $C2"
# The image links a few applets only; head and mv are busybox's too.
for c in "$C1" "$C2"; do
	vg_t docker exec "$c" busybox ln -s busybox /bin/head || fail "ln head in $c"
	vg_t docker exec "$c" busybox ln -s busybox /bin/mv || fail "ln mv in $c"
done

# TEST-NET-1 inside C1's network namespace only (it has nothing but lo),
# and a listener there on ports 80 and 8080 of every address: a host
# process (in no container, so outside what the rules see here) in that
# namespace.
if ! nsenter -n -t "$C1_PID" ip addr add 192.0.2.1/32 dev lo; then
	fail "adding 192.0.2.1 to lo in $C1's network namespace"
	vg_finish
fi
nsenter -n -t "$C1_PID" python3 -c '
import select, socket
ls = []
for p in (80, 8080):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", p))
    s.listen(16)
    ls.append(s)
print("listening", flush=True)
while True:
    for s in select.select(ls, [], [])[0]:
        s.accept()[0].close()
' >"$VG_TMPDIR/listener.out" 2>&1 &
LISTENER=$!
vg_track_pid "$LISTENER"
disown "$LISTENER" # killed at clean-up; no job report for it
vg_wait 10 grep -q listening "$VG_TMPDIR/listener.out" ||
	{ fail "listener in $C1's netns: $(cat "$VG_TMPDIR/listener.out")"; vg_finish; }
# Nothing else lives in that namespace: lo, with 192.0.2.1 on it.
[ "$(nsenter -n -t "$C1_PID" ip -o link show | awk '{ print $2 }' | tr -d '\n')" = "lo:" ] &&
	pass "$C1's network namespace has only lo (192.0.2.1 goes nowhere else)" ||
	fail "$C1's network namespace has more than lo: $(nsenter -n -t "$C1_PID" ip -o link show)"

# ---------------------------------------------------------------- the run
vg_log "vigil watch --rules (stable + live-rules.yaml), eBPF"
if ! watch_start live --rules "$STABLE" --rules "$RULES" \
	--filter "container.name startswith \"$VG_RUN_PREFIX\""; then
	vg_finish
fi

vg_t docker exec -t "$C1" sh -c 'sleep 3; exit 0' >/dev/null 2>&1 || fail "docker exec -t sh"
vg_t docker exec "$C1" sh -c 'echo shell-marker' >/dev/null || fail "docker exec sh"
vg_t docker exec "$C1" sh -c 'echo allowed-probe' >/dev/null || fail "docker exec sh (allowed)"
vg_t docker exec "$C1" cat /etc/shadow >/dev/null || fail "docker exec cat /etc/shadow"
vg_t docker exec "$C1" head /etc/shadow >/dev/null || fail "docker exec head /etc/shadow"
for dst in 192.0.2.1:80 192.0.2.1:8080 127.0.0.1:80; do
	vg_t docker exec "$C1" nc -w 5 "${dst%:*}" "${dst#*:}" </dev/null >/dev/null 2>&1 ||
		fail "connect to $dst in $C1"
done
vg_t docker exec "$C2" mv /tmp/rename-from /tmp/rename-to || fail "mv in /tmp of $C2"
vg_t docker exec "$C2" mv /rename-outside /rename-outside2 || fail "mv in / of $C2"
vg_t docker exec "$C2" /bin/busybox true image-binary || fail "busybox true in $C2"
vg_t docker exec "$C2" /tmp/true dropped-binary || fail "/tmp/true in $C2"

# Six alerts are expected; wait for them, then a little for any other.
vg_wait 20 eval '[ "$(events "true" | wc -l)" -ge 6 ]'
sleep 2
watch_stop
[ "$W_RC" = 0 ] || [ "$W_RC" = 130 ] || fail "vigil watch --rules exited with $W_RC: $(head -c 500 "$W_ERR")"
grep -q '^vigil: watching exec open connect file ptrace socket dup$' "$W_ERR" &&
	pass "only the event types the rules name are traced (exec open connect file ptrace socket dup)" ||
	fail "traced types: $(grep '^vigil: watching' "$W_ERR")"
grep -q '^vigil: 6 alerts, 0 lost$' "$W_ERR" && grep -Eq '^vigil: [1-9][0-9]* events of the traced types$' "$W_ERR" &&
	pass "6 alerts counted, none lost; the events the rules were asked about counted" ||
	fail "counts: $(grep -E 'alerts|lost|events' "$W_ERR")"

# exactly these alerts, in the order of the activity
RULES_SEEN=$(events 'true' | jq -r .rule)
WANT_RULES='Terminal shell in container
Test shell in container
Read sensitive file untrusted
Test outbound connection from container
Test file renamed in container
Drop and execute new binary in container'
[ "$RULES_SEEN" = "$WANT_RULES" ] &&
	pass "exactly the six expected alerts, nothing else fired in the test's containers" ||
	{ fail "alerts: got [$(tr '\n' '|' <<<"$RULES_SEEN")], want [$(tr '\n' '|' <<<"$WANT_RULES")]"; events true | head -c 4000 | sed 's/^/    alert: /'; }

# alert RULE: the alert of that rule (the first), in A
alert() { A=$(events '.rule == $r' --arg r "$1" | head -n 1); }
COMMON='.source == "syscall" and .hostname == $h and (.time | test("^[0-9-]{10}T[0-9:.]+Z$")) and
	(.time as $t | .priority as $p | .output | startswith($t + ": " + $p + " ")) and
	.container.runtime == "docker" and .container.image == $img and
	(.proc.exec_id | type == "string" and length > 0)'
H=$(hostname)

alert "Terminal shell in container"
jcheck "stable 'Terminal shell in container': a shell with a terminal, in $C1" "$A" \
	"$COMMON"' and .priority == "Notice" and .container.id == $id and .container.name == $n and
	 .output_fields["proc.name"] == "sh" and .output_fields["proc.cmdline"] == "sh -c sleep 3; exit 0" and
	 (.output_fields["proc.tty"] | type == "number" and . != 0) and
	 (.output | test("A shell was spawned in a container with an attached terminal [|] .*user=root user_uid=0 .*process=sh .*command=sh -c sleep 3; exit 0 terminal=[1-9]")) and
	 (.tags | index("maturity_stable") != null)' \
	--arg h "$H" --arg img "$VG_IMAGE" --arg id "$C1_ID" --arg n "$C1"

alert "Test shell in container"
jcheck "the test's shell rule: a shell without a terminal, in $C1, fields substituted" "$A" \
	"$COMMON"' and .priority == "Warning" and .container.id == $id and .container.name == $n and
	 .tags == ["test", "container", "shell"] and
	 (.output_fields["evt.type"] as $t | .output | endswith("Warning Shell in container (user=root uid=0 shell=sh cmdline=sh -c echo shell-marker container=" + $n + " image=vigil-test/busybox exec_type=" + $t + ")")) and
	 .output_fields["container.image.repository"] == "vigil-test/busybox" and .output_fields["user.uid"] == 0' \
	--arg h "$H" --arg img "$VG_IMAGE" --arg id "$C1_ID" --arg n "$C1"

alert "Read sensitive file untrusted"
jcheck "stable 'Read sensitive file untrusted': cat reading /etc/shadow in $C1" "$A" \
	"$COMMON"' and .priority == "Warning" and .container.id == $id and .container.name == $n and
	 .output_fields["fd.name"] == "/etc/shadow" and .output_fields["proc.name"] == "cat" and
	 .output_fields["user.name"] == "root" and .output_fields["proc.exepath"] == "/bin/busybox" and
	 (.output | test("Sensitive file opened for reading by non-trusted program [|] file=/etc/shadow .*user=root user_uid=0 .*process=cat proc_exepath=/bin/busybox "))' \
	--arg h "$H" --arg img "$VG_IMAGE" --arg id "$C1_ID" --arg n "$C1"

alert "Test outbound connection from container"
jcheck "the test's outbound rule: nc connecting to 192.0.2.1:80 in $C1" "$A" \
	"$COMMON"' and .priority == "Notice" and .container.id == $id and .container.name == $n and
	 .output_fields["fd.sip"] == "192.0.2.1" and .output_fields["fd.sport"] == 80 and
	 .output_fields["fd.l4proto"] == "tcp" and .output_fields["evt.res"] == 0 and .output_fields["proc.name"] == "nc" and
	 (.output | test("Notice Outbound connection [(]connection=.* ip=192[.]0[.]2[.]1 port=80 proto=tcp res=0 process=nc container=" + $n + "[)]$"))' \
	--arg h "$H" --arg img "$VG_IMAGE" --arg id "$C1_ID" --arg n "$C1"

alert "Test file renamed in container"
jcheck "the test's rename rule: mv in /tmp of $C2 (the other container)" "$A" \
	"$COMMON"' and .priority == "Error" and .container.id == $id and .container.name == $n and
	 .output_fields["fd.directory"] == "/tmp" and .output_fields["proc.name"] == "mv" and
	 (.output | endswith("Error File renamed in container (file=/tmp/rename-to directory=/tmp process=mv container=" + $n + ")"))' \
	--arg h "$H" --arg img "$VG_IMAGE" --arg id "$C2_ID" --arg n "$C2"

alert "Drop and execute new binary in container"
jcheck "stable 'Drop and execute new binary in container': /tmp/true in $C2, from its upper layer" "$A" \
	"$COMMON"' and .priority == "Critical" and .container.id == $id and .container.name == $n and
	 .output_fields["proc.exepath"] == "/tmp/true" and .output_fields["proc.cmdline"] == "true dropped-binary" and
	 (.output | test("Executing binary not part of base image [|] proc_exe=/tmp/true "))' \
	--arg h "$H" --arg img "$VG_IMAGE" --arg id "$C2_ID" --arg n "$C2"

# what must not have fired
none() { # DESC FILTER [jq args]
	local desc=$1 f=$2; shift 2
	if [ -z "$(events "$f" "$@")" ]; then pass "$desc"; else fail "$desc: $(events "$f" "$@" | head -c 600)"; fi
}
none "the shell rule's exception suppresses 'sh -c echo allowed-probe'" '.output | contains("allowed-probe")'
none "the exception appended to the stable rule suppresses head reading /etc/shadow" '.output_fields["proc.name"] == "head"'
none "the outbound rule's exception suppresses 192.0.2.1:8080" '.output_fields["fd.sport"] == 8080'
none "a connect to 127.0.0.1 is not outbound" '.output | contains("127.0.0.1")'
none "a rename outside the rule's directories does not fire" '.output | contains("rename-outside")'

vg_finish
