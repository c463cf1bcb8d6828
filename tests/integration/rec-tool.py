#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Recordings made from a recording, to feed a daemon (--source replay:)
more events, or a longer one, than a fixture holds, without eBPF.

Usage: rec-tool.py repeat IN OUT N
           its events N times over (the processes there at the start,
           and the end, once): a replay goes as fast as it can, so N
           times the events arrive at once
       rec-tool.py long-argv IN OUT BYTES
           its first exec with an argv of BYTES bytes ("sh -c AAA...")

The layout is src/source/record.h's and src/source/bpf/events.h's:
a header of header_size bytes, then entries (u32 kind, u32 len, u64
mono_ns, the body padded to 8); a ring entry's body is the kernel's
record, which starts with struct vg_ev_hdr (80 bytes: u16 type, u16
version, u32 size, ...).
"""
import struct
import sys

RING = 1
EV_EXEC, EV_EXEC_ARGS = 2, 11
HDR = 80               # struct vg_ev_hdr
EXEC_ARGS_HEAD = HDR + 16  # exec_seq, offset, len
CHUNK = 16000          # VG_ARGS_CHUNK


def read(path):
    b = open(path, "rb").read()
    hsz = struct.unpack_from("<I", b, 12)[0]
    off, entries = hsz, []
    while off < len(b):
        kind, ln, mono = struct.unpack_from("<IIQ", b, off)
        entries.append((kind, mono, b[off + 16:off + 16 + ln]))
        off += 16 + ((ln + 7) & ~7)
    return b[:hsz], entries


def write(path, header, entries):
    with open(path, "wb") as f:
        f.write(header)
        for kind, mono, body in entries:
            f.write(struct.pack("<IIQ", kind, len(body), mono))
            f.write(body + b"\0" * (-len(body) % 8))


def repeat(header, entries, n):
    first = next(i for i, e in enumerate(entries) if e[0] == RING)
    last = max(i for i, e in enumerate(entries) if e[0] == RING)
    ring = entries[first:last + 1]
    return entries[:first] + ring * n + entries[last + 1:]


def long_argv(header, entries, size):
    argv = b"sh\0-c\0" + b"A" * max(1, size - 7) + b"\0"
    if len(argv) > CHUNK:
        sys.exit("long-argv: at most %d bytes (one chunk)" % CHUNK)
    out, seq, done = [], None, False
    for kind, mono, body in entries:
        if kind == RING and not done:
            typ = struct.unpack_from("<H", body, 0)[0]
            if typ == EV_EXEC and seq is None:
                nchunks = struct.unpack_from("<I", body, HDR + 24)[0]
                if nchunks == 1:
                    body = bytearray(body)
                    struct.pack_into("<II", body, HDR + 16, len(argv), len(argv))
                    seq = struct.unpack_from("<Q", body, HDR + 32)[0]
                    body = bytes(body)
            elif typ == EV_EXEC_ARGS and seq is not None and \
                    struct.unpack_from("<Q", body, HDR)[0] == seq:
                head = bytearray(body[:EXEC_ARGS_HEAD])
                struct.pack_into("<I", head, 4, EXEC_ARGS_HEAD + len(argv))
                struct.pack_into("<II", head, HDR + 8, 0, len(argv))
                body = bytes(head) + argv
                done = True
        out.append((kind, mono, body))
    if not done:
        sys.exit("long-argv: no exec with one argv chunk in the recording")
    return out


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("repeat", "long-argv"):
        sys.exit(__doc__)
    header, entries = read(sys.argv[2])
    n = int(sys.argv[4])
    entries = repeat(header, entries, n) if sys.argv[1] == "repeat" \
        else long_argv(header, entries, n)
    write(sys.argv[3], header, entries)


if __name__ == "__main__":
    main()
