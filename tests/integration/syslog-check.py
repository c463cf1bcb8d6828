#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a receiver wrote of a syslog export's messages, checked.

Usage: syslog-check.py FILE SENSOR OFFERED
FILE holds the raw messages, one a line (rsyslog's %rawmsg%). Each must
be RFC 5424 as vigil sends it: "<PRI>1 TIMESTAMP HOST vigil PID MSGID
[vigil@32473 sensor=... seq=... type=...] BOM JSON", the structured data
agreeing with the JSON record. Prints one JSON object: messages, bad
(not so), unique seqs, duplicates, missing (of 1..OFFERED, or the highest seq seen), lost (lost
records' totals), and the longest record's length.
"""
import json
import re
import sys

LINE = re.compile(r'^<(\d+)>1 (\S+) (\S+) vigil (\d+) (\S+) \[vigil@32473((?: [a-z]+="(?:[^"\\\]]|\\.)*")*)\] \ufeff(.*)$')
PARAM = re.compile(r' ([a-z]+)="((?:[^"\\\]]|\\.)*)"')


def main():
    path, sensor, offered = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seen, bad, dups, lost, longest, why = set(), 0, 0, 0, 0, []
    texts = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    n = 0
    for ln in lines:
        if not ln:
            continue
        n += 1
        m = LINE.match(ln)
        if not m:
            bad += 1
            why.append("not RFC 5424 as sent: " + ln[:120])
            continue
        sd = {k: re.sub(r'\\(.)', r'\1', v) for k, v in PARAM.findall(m.group(6))}
        try:
            rec = json.loads(m.group(7))
        except ValueError:
            bad += 1
            why.append("a record that is not JSON (cut?), %d bytes" % len(m.group(7)))
            continue
        typ = rec.get("evt", {}).get("type")
        pid = (rec.get("proc") or {}).get("pid")
        ctr = (rec.get("container") or {}).get("id")
        ok = (list(rec)[:3] == ["node", "sensor", "seq"] and rec["sensor"] == sensor and
              sd.get("sensor") == sensor and sd.get("seq") == str(rec["seq"]) and
              sd.get("type") == typ and m.group(5) == typ and
              int(m.group(1)) % 8 == 6 and
              (pid is None or sd.get("pid") == str(pid)) and
              (ctr is None or sd.get("container") == ctr))
        if not ok:
            bad += 1
            why.append("fields disagree: %s / %s" % (m.group(6)[:200], m.group(7)[:200]))
            continue
        if typ == "lost":
            lost += rec["lost"]["total"]
        longest = max(longest, len(m.group(7)))
        if rec["seq"] in seen:
            dups += 1
            # a message sent again is the same record, whatever the
            # timestamp of its header
            if texts[rec["seq"]] != m.group(7):
                bad += 1
                why.append("seq %d twice with different records" % rec["seq"])
        seen.add(rec["seq"])
        texts[rec["seq"]] = m.group(7)
    # lost records are numbered too: the numbers run past OFFERED then
    top = max([offered] + list(seen))
    missing = sum(1 for s in range(1, top + 1) if s not in seen)
    print(json.dumps({"messages": n, "bad": bad, "unique": len(seen), "duplicates": dups,
                      "missing": missing, "lost_announced": lost, "longest": longest,
                      "why": why[:3]}))


if __name__ == "__main__":
    main()
