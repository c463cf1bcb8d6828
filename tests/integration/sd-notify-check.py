#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The service manager's end of sd_notify, for test-systemd.sh.

Usage: sd-notify-check.py NOTIFY_SOCK DAEMON_SOCK SECONDS OUT.json

Binds NOTIFY_SOCK (AF_UNIX, SOCK_DGRAM), as systemd does, and records
every datagram with its monotonic time. At READY=1 it connects to
DAEMON_SOCK at once (that the socket takes connections is what READY
promises) and subscribes there, so the recording plays and the counts
move. It stops at STOPPING=1 or after SECONDS, and writes
{"datagrams":[{"t":..,"fields":{..}}..], "ready_connect": true|"error",
 "events_read": N} to OUT.json.
"""
import json
import os
import socket
import sys
import time


def main():
    nsock, dsock, secs, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(nsock)
    os.chmod(nsock, 0o600)
    # the test waits for this file before starting the daemon
    open(nsock + ".bound", "w").close()
    res = {"datagrams": [], "ready_connect": None, "events_read": 0}
    client = None
    end = time.monotonic() + secs
    while time.monotonic() < end:
        s.settimeout(max(0.05, min(0.2, end - time.monotonic())))
        try:
            d = s.recv(65536)
        except socket.timeout:
            d = None
        if client is not None:
            try:
                while True:
                    chunk = client.recv(65536)
                    if not chunk:
                        break
                    res["events_read"] += chunk.count(b'"evt"')
            except (BlockingIOError, socket.timeout):
                pass
        if d is None:
            continue
        fields = {}
        for line in d.decode("utf-8", "replace").split("\n"):
            if "=" in line:
                k, v = line.split("=", 1)
                fields[k] = v
        res["datagrams"].append({"t": time.monotonic(), "fields": fields})
        if fields.get("READY") == "1" and client is None:
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(2)
            try:
                c.connect(dsock)
                c.sendall(b'{"req":"subscribe"}\n')
                c.setblocking(False)
                client = c
                res["ready_connect"] = True
            except OSError as e:
                res["ready_connect"] = "connect at READY=1: %s" % e
        if fields.get("STOPPING") == "1":
            break
    with open(out, "w") as f:
        json.dump(res, f)


main()
