#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench-lifecycle.sh — how long vigil takes to start and to give the
# prompt back, and how long a daemon's answer to a subscription change
# takes (the loop must not wait for the kernel's teardown).
#
#   bench/bench-lifecycle.sh [VIGIL] [ROUNDS]    (root; default 5 rounds)
#
# Reports, as medians over ROUNDS:
#   - vigil watch (default events): from exec to "watching" on stderr
#     (loading and attaching), and from the end of --duration 1 to the
#     process's exit (the prompt back; the kernel's detaching goes on in
#     a background process);
#   - the same with --event exec;
#   - vigil daemon: the answer time of subscribe and unsubscribe of all
#     events and of opens, with programs kept warm (within the 5 s hold)
#     and cold (after it), and the daemon's longest loop pause meanwhile.
# Target: the prompt back within 0.3 s of the end; a subscription change
# answered within 0.1 s whatever the kernel does.
set -u
export LC_ALL=C
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vigil=$(realpath -- "${1:-$here/../build/vigil}")
rounds=${2:-5}
[[ $(id -u) == 0 ]] || { echo "bench-lifecycle: needs root (eBPF)"; exit 0; }
command -v python3 >/dev/null || { echo "bench-lifecycle: python3 is needed"; exit 1; }

tmp=$(mktemp -d /tmp/bench-lifecycle.XXXXXX)
chmod 755 "$tmp"
# the daemon the Python part starts goes with the script, however it ends
trap '[ -s "$tmp/dpid" ] && kill "$(cat "$tmp/dpid")" 2>/dev/null; rm -rf "$tmp"' EXIT

python3 - "$vigil" "$rounds" "$tmp" <<'PY'
import json, os, socket, statistics, subprocess, sys, time
vigil, rounds, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def watch_round(args):
    err = os.path.join(tmp, "w.err")
    with open(err, "w") as f:
        t0 = time.monotonic()
        p = subprocess.Popen([vigil, "watch", "--duration", "1", "-o", "json"] + args,
                             stdout=subprocess.DEVNULL, stderr=f)
        while True:
            with open(err) as g:
                if "watching" in g.read():
                    break
            if p.poll() is not None:
                raise SystemExit("vigil watch failed: " + open(err).read())
            time.sleep(0.002)
        t1 = time.monotonic()
        p.wait()
        t2 = time.monotonic()
    return t1 - t0, max(0.0, t2 - t1 - 1.0)

def wait_quiet():
    # the previous run's background detaching done
    for _ in range(100):
        if not subprocess.run(["pgrep", "-x", "vigil-detach"], capture_output=True).stdout:
            return
        time.sleep(0.1)

for label, args in (("default events", []), ("--event exec", ["--event", "exec"])):
    st, ex = [], []
    for _ in range(rounds):
        wait_quiet()
        a, b = watch_round(args)
        st.append(a); ex.append(b)
    print("vigil watch, %-15s start %.2f s (min %.2f, max %.2f); prompt back %.3f s after "
          "the end (max %.3f) %s" % (label, statistics.median(st), min(st), max(st),
                                      statistics.median(ex), max(ex),
                                      "PASS" if statistics.median(ex) <= 0.3 else "MISS"))

sock = os.path.join(tmp, "run", "vigil.sock")
derr = open(os.path.join(tmp, "d.err"), "w")
d = subprocess.Popen([vigil, "daemon", "--socket", sock], stderr=derr, stdin=subprocess.DEVNULL)
import atexit
atexit.register(lambda: d.poll() is None and d.terminate())
with open(os.path.join(tmp, "dpid"), "w") as f:
    f.write(str(d.pid))
for _ in range(300):
    if "daemon serving" in open(os.path.join(tmp, "d.err")).read():
        break
    time.sleep(0.1)
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
buf = b""

def req(o):
    global buf
    s.sendall(json.dumps(o).encode() + b"\n")
    t0 = time.monotonic()
    while True:
        while b"\n" not in buf:
            buf += s.recv(1 << 20)
        line, buf = buf.split(b"\n", 1)
        m = json.loads(line)
        if "reply" in m or "error" in m:
            return m, time.monotonic() - t0

for events in (["all"], ["open"]):
    for warm in (True, False):
        sub, uns = [], []
        for _ in range(rounds):
            time.sleep(0.2 if warm else 6.0)
            r, a = req({"req": "subscribe", "events": events})
            # drain what came meanwhile, then unsubscribe
            r2, b = req({"req": "unsubscribe", "sub": r["sub"]})
            sub.append(a); uns.append(b)
        print("vigil daemon, %-5s %s: subscribe answered in %.3f s (max %.3f), unsubscribe in "
              "%.3f s (max %.3f)" % (events[0], "warm" if warm else "cold",
                                     statistics.median(sub), max(sub),
                                     statistics.median(uns), max(uns)))
st, _ = req({"req": "stats"})
pause = st.get("limits", {}).get("loop_max_pause_us", -1)
print("vigil daemon: the loop's longest pause through all of it: %.3f s %s"
      % (pause / 1e6, "PASS" if 0 <= pause <= 100000 else "MISS (over 0.1 s)"))
d.terminate()
d.wait()
PY
