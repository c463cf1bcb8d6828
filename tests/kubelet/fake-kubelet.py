#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A fake kubelet /pods endpoint for vigil's tests. Standard library only.

Listens on 127.0.0.1 (or ::1 with --bind ::1), port 0, and prints the port
it got as the first line of stdout. It never talks to any other address.

Modes:
  serve    200 with --podlist as the body
  500      500 with a short error body
  badjson  200 with a truncated PodList
  hang     read the request, then never answer
  big      200 with a PodList of about --big-mb MiB: --podlist's pods
           after enough filler pods to reach the size
  redirect 302 to /pods on the same server
Options: --token T (401 unless "Authorization: Bearer T"), --cert/--key
(serve https), --count-file F (the number of requests so far, rewritten
at each one), --no-length (no Content-Length: the body ends at close).
"""
import argparse
import copy
import http.server
import json
import os
import socket
import ssl
import sys
import threading
import time


def filler_pod(i, pad):
    uid = "f%07d-0000-4000-8000-%012d" % (i, i)
    return {
        "metadata": {
            "name": "filler-%d" % i, "namespace": "load", "uid": uid,
            "labels": {"app": "filler", "index": str(i)},
            "annotations": {"padding": pad},
        },
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
        "status": {
            "phase": "Running", "qosClass": "BestEffort",
            "containerStatuses": [{
                "name": "main", "ready": True, "restartCount": 0,
                "image": "docker.io/library/busybox:1.36",
                "containerID": "containerd://%064x" % (i + 1),
                "state": {"running": {"startedAt": "2024-05-02T09:14:03Z"}},
            }],
        },
    }


def big_podlist(base, mib):
    target = mib << 20
    pad = "x" * 9000
    one = len(json.dumps(filler_pod(0, pad)))
    n = target // (one + 1) + 1
    doc = copy.deepcopy(base)
    doc["items"] = [filler_pod(i, pad) for i in range(n)] + list(base.get("items") or [])
    return json.dumps(doc).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="serve",
                    choices=["serve", "500", "badjson", "hang", "big", "redirect"])
    ap.add_argument("--podlist")
    ap.add_argument("--token")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--count-file")
    ap.add_argument("--big-mb", type=int, default=20)
    ap.add_argument("--no-length", action="store_true")
    ap.add_argument("--bind", default="127.0.0.1", choices=["127.0.0.1", "::1"])
    args = ap.parse_args()

    body = b""
    if args.mode in ("serve", "big"):
        with open(args.podlist, "rb") as f:
            body = f.read()
        if args.mode == "big":
            body = big_podlist(json.loads(body), args.big_mb)
            print("big body: %d bytes" % len(body), file=sys.stderr, flush=True)

    lock = threading.Lock()
    count = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):
            sys.stderr.write("fake-kubelet: " + (fmt % a) + "\n")

        def reply(self, status, data, ctype="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if not args.no_length:
                self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (a body over its limit)

        def do_GET(self):
            with lock:
                count[0] += 1
                if args.count_file:
                    with open(args.count_file + ".tmp", "w") as f:
                        f.write("%d\n" % count[0])
                    os.replace(args.count_file + ".tmp", args.count_file)
            if self.path != "/pods":
                return self.reply(404, b"404 page not found\n", "text/plain")
            if args.token is not None and \
                    self.headers.get("Authorization") != "Bearer " + args.token:
                return self.reply(401, b"Unauthorized\n", "text/plain")
            if args.mode == "hang":
                time.sleep(3600)
                return
            if args.mode == "500":
                return self.reply(500, b"Internal Server Error: pod cache not synced\n",
                                  "text/plain")
            if args.mode == "badjson":
                return self.reply(200, b'{"kind":"PodList","items":[{"metadata":{"uid":')
            if args.mode == "redirect":
                self.send_response(302)
                self.send_header("Location", "/pods")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            return self.reply(200, body)

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        address_family = socket.AF_INET6 if args.bind == "::1" else socket.AF_INET
        ctx = None

        def finish_request(self, request, client_address):
            # The TLS handshake runs here, in the connection's own thread,
            # so a client that never finishes one stalls nobody else.
            if self.ctx:
                request.settimeout(30)
                request = self.ctx.wrap_socket(request, server_side=True)
            super().finish_request(request, client_address)

        def handle_error(self, request, client_address):
            # Clients that refuse our certificate are part of the tests.
            sys.stderr.write("fake-kubelet: %s: %s\n" % (client_address, sys.exc_info()[1]))

    srv = Server((args.bind, 0), Handler)
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        srv.ctx = ctx
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
