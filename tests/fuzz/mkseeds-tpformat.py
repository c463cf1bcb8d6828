#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regenerates tests/fuzz/corpus-tpformat: each seed is a little-endian u16
# format length, a format (the tracefs fixtures, or a shape they do not
# show), and a raw record built for it, so the fuzzer starts from inputs
# that reach decode() instead of having to find a valid format first.
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "tracefs", "events")
OUT = os.path.join(HERE, "corpus-tpformat")


def fixture(event):
    with open(os.path.join(FIXTURES, event, "format"), "rb") as f:
        return f.read()


def header(type_id, pid=4242):
    return struct.pack("<HBBi", type_id, 1, 0, pid)


def data_loc(off, length):
    return struct.pack("<I", length << 16 | off)


def seed(name, fmt, rec):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(struct.pack("<H", len(fmt)) + fmt + rec)


HDR = (b"name: ev\nID: 7\nformat:\n"
       b"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
       b"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
       b"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
       b"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n")

os.makedirs(OUT, exist_ok=True)

path = b"/usr/bin/true\0"
seed("sched_process_exec", fixture("sched/sched_process_exec"),
     header(365) + data_loc(20, len(path)) + struct.pack("<ii", 4242, 1) + path)
seed("sched_switch", fixture("sched/sched_switch"),
     header(372) + b"bash".ljust(16, b"\0") + struct.pack("<iiq", 1, 120, 1)
     + b"swapper/0".ljust(16, b"\0") + struct.pack("<ii", 0, 120))
seed("sys_enter_openat", fixture("syscalls/sys_enter_openat"),
     header(782) + struct.pack("<iIqQQQ", 257, 0, -100, 0x7ffd12345678, 0x241, 0o644))
seed("sys_enter", fixture("raw_syscalls/sys_enter"),
     header(443) + struct.pack("<q6Q", 59, 1, 2, 3, 4, 5, 6))
seed("netif_receive_skb", fixture("net/netif_receive_skb"),
     header(2303) + struct.pack("<QI", 0xffff888012345678, 1500) + data_loc(24, 5) + b"eth0\0")
seed("dma_map_sg", fixture("dma/dma_map_sg"),
     header(431) + data_loc(48, 4) + struct.pack("<iiBxxx", 2, 2, 0)
     + data_loc(52, 16) + data_loc(68, 16) + data_loc(84, 8)
     + struct.pack("<IQ", 1, 0) + b"sda\0"
     + struct.pack("<QQQQII", 0x1000, 0x2000, 0x3000, 0x4000, 512, 4096))
seed("rel_loc_flexible",
     HDR + b"\tfield:__rel_loc char[] msg;\toffset:8;\tsize:4;\tsigned:0;\n"
     b"\tfield:short s[2];\toffset:12;\tsize:4;\tsigned:1;\n"
     b"\tfield:u32 tail[];\toffset:16;\tsize:0;\tsigned:0;\n"
     b"\nprint fmt: \"%s\", __get_rel_str(msg)\n",
     header(7) + data_loc(4, 3) + struct.pack("<hh", -1, 1) + b"hi\0\0" + struct.pack("<I", 77))
seed("missing_offset", HDR + b"\tfield:int x;\tsize:4;\tsigned:1;\n", header(7))
