#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Recordings made from a description: chosen events, deterministic, for
a replay (vigil watch --source replay:FILE) to feed the engine without
eBPF. With them, a rule's positive and negative cases are a few lines.

Usage: mkrec.py CASES DIR
  Reads CASES (the format below) and writes, for case N, DIR/N.rec and
  DIR/N.expect (the case's header line and its "want" lines), and once
  DIR/host, the host root the recordings name (--host-root DIR/host):
  its boot id, /etc/passwd and /etc/group, and docker's state of each
  container a case declares. Prints the number of cases.

The format, one item a line ('#' starts a comment):
  case positive|negative RULE      a new case, of the rule RULE
  also RULE                        the case fires RULE too (another
                                   event of it, or Falco's first match)
  want TEXT                        the alert's output contains TEXT
  container NAME [privileged|unprivileged] [image=REF]
                                   a docker container (its id: NAME's
                                   sha256), verified by its runtime
  proc pid=N ppid=N comm=C exe=E [age=S]
                                   a process there before the recording
                                   (started S seconds before, 100 default)
  exec pid=N ppid=N comm=C exe=E [uid=N] [ctr=NAME] [filename=F]
       [origin=file|lower|upper|memfd]
       [args=A B C...]             an exec (args: the rest of the line,
                                   split at spaces; argv[0] included). A
                                   pid not seen before is forked by ppid;
                                   origin: where the executed file lives
                                   (an overlay's layer, a memfd), as the
                                   sensor reads it from the inode
  open pid=N path=P [abs=A] [flags=O_RDONLY|O_TRUNC...] [ret=N]
  symlink pid=N target=T linkpath=L
  link pid=N oldpath=O newpath=N
  session pid=N [tty=N] [loginuid=N] [caps=CAP_X,CAP_Y]
                                   what the live sensor read of N's
                                   session in /proc (a replay repeats it)
  connect pid=N ip=A port=N        a TCP connect to IPv4 A
  ptrace pid=N request=R [target=N] [addr=N] [data=N] [ret=N]
                                   R: PTRACE_ATTACH... or a number
  socket pid=N domain=AF_X type=SOCK_X [flags=SOCK_CLOEXEC|...]
       [proto=N] [ret=N]           a socket made (ret: its fd, or -errno)
  dup pid=N oldfd=N [call=dup|dup2|dup3] [newfd=N] [flags=O_CLOEXEC]
       [ret=N] FILE                an fd duplicated (dup2 default; ret:
                                   newfd by default, required for dup),
                                   its file FILE
  send pid=N fd=N [call=sendto|sendmsg] [size=N] [msgflags=N]
       [dest=A:P] FILE             data sent; dest: the address given
  FILE: file=tcp|udp|tcp6|udp6|unix|reg|chr|dir|pipe|none [local=A:P]
       [peer=A:P]                  the fd's file at the call's exit (a
                                   socket's own address and its peer)

The layout is src/source/record.h's and src/source/bpf/events.h's
(VG_EVENTS_VERSION 2), in this host's byte order (little-endian here).
"""
import hashlib
import os
import socket
import struct
import sys

REC_RING, REC_CGROUP, REC_PROC, REC_END, REC_CLAIM, REC_SESSION = 1, 2, 3, 5, 7, 8
EV_FORK, EV_EXEC, EV_OPEN, EV_CONNECT, EV_EXEC_ARGS, EV_FILE = 1, 2, 4, 5, 11, 14
EV_PTRACE, EV_SOCKET, EV_DUP, EV_SEND = 15, 16, 17, 18
NET_REQUESTED, NET_CONNECTED = 1, 2
SOCKADDR_MAX = 112
# x86-64 syscall numbers (the sensor reads x86-64's registers)
NR = {"dup": 32, "dup2": 33, "dup3": 292, "socket": 41, "sendto": 44,
      "sendmsg": 46, "ptrace": 101}
PTRACE = {"PTRACE_TRACEME": 0, "PTRACE_PEEKTEXT": 1, "PTRACE_PEEKDATA": 2,
          "PTRACE_PEEKUSR": 3, "PTRACE_POKETEXT": 4, "PTRACE_POKEDATA": 5,
          "PTRACE_CONT": 7, "PTRACE_KILL": 8, "PTRACE_GETREGS": 12,
          "PTRACE_SETREGS": 13, "PTRACE_ATTACH": 16, "PTRACE_DETACH": 17,
          "PTRACE_SYSCALL": 24, "PTRACE_SETOPTIONS": 0x4200,
          "PTRACE_GETREGSET": 0x4204, "PTRACE_SETREGSET": 0x4205,
          "PTRACE_SEIZE": 0x4206, "PTRACE_INTERRUPT": 0x4207}
# S_IFMT of an fd's inode; a socket's family, type and protocol
S_IFSOCK, S_IFREG, S_IFCHR, S_IFDIR, S_IFIFO = 0o140000, 0o100000, 0o20000, 0o40000, 0o10000
FILES = {"tcp": (socket.AF_INET, socket.SOCK_STREAM, 6),
         "udp": (socket.AF_INET, socket.SOCK_DGRAM, 17),
         "tcp6": (socket.AF_INET6, socket.SOCK_STREAM, 6),
         "udp6": (socket.AF_INET6, socket.SOCK_DGRAM, 17),
         "unix": (socket.AF_UNIX, socket.SOCK_STREAM, 0),
         "reg": S_IFREG, "chr": S_IFCHR, "dir": S_IFDIR, "pipe": S_IFIFO,
         "none": 0}
FILE_LINK, FILE_SYMLINK = 8, 9
EVENTS_VERSION = 2
CLK_TCK = 100
TICK_NS = 1000000000 // CLK_TCK
BOOT_ID = "5b1f0c1e-7c5d-4c3a-9f7e-1a2b3c4d5e6f"
BOOT_TO_WALL_NS = 1795000000 * 1000000000
HOST_CG, HOST_CG_PATH = 2, "/user.slice"
VERIFY_RUNTIME = 1
CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
        "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
        "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN"]
PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/bash
"""
GROUP = "root:x:0:\ndaemon:x:1:\nwww-data:x:33:\nalice:x:1000:\n"


def die(lineno, msg):
    sys.exit("mkrec: line %d: %s" % (lineno, msg))


def container_id(name):
    return hashlib.sha256(name.encode()).hexdigest()


def hdr(typ, size, t, p, cpu=0):
    comm = p["comm"].encode()[:15]
    return struct.pack("<HHIQQQIIIIIIII16s", typ, EVENTS_VERSION, size, t,
                       p["start"], p["cg"], cpu, p["pid"], p["pid"],
                       p["ppid"], p["uid"], p["uid"], 4026531840, 0, comm)


def z(s):
    return s.encode() + b"\0" if s is not None else b""


class Case:
    def __init__(self, kind, rule):
        self.kind, self.rule = kind, rule
        self.also, self.want = [], []
        self.containers = {}   # name -> (cgroup id, privileged, image)
        self.seeds = []        # REC_PROC bodies
        self.ring = []         # (kind, body) after the seeds
        self.procs = {}
        self.t = 200 * 1000000000
        self.seq = 0

    def tick(self):
        self.t += 1000000
        return self.t


def fields(words, lineno, rest_key="args"):
    """key=value words; rest_key takes the rest of the line."""
    out = {}
    for i, w in enumerate(words):
        if "=" not in w:
            die(lineno, "not key=value: %r" % w)
        k, v = w.split("=", 1)
        if k == rest_key:
            out[k] = [v] + words[i + 1:]
            break
        out[k] = v
    return out


def proc_of(c, f, lineno):
    pid = int(f.get("pid", 0))
    if pid not in c.procs:
        die(lineno, "pid %d: no proc or exec made it" % pid)
    return c.procs[pid]


def open_flags(s):
    v = 0
    for name in s.split("|"):
        if not hasattr(os, name):
            raise ValueError("unknown flag " + name)
        v |= getattr(os, name)
    return v


# events.h's VG_EXE_* flags of an exec, by origin
EXE_ORIGINS = {None: 0, "file": 0x100, "lower": 0x100 | 0x200,
               "upper": 0x100 | 0x200 | 0x400, "memfd": 0x100 | 0x800}


def add_exec(c, f, lineno):
    pid, ppid = int(f["pid"]), int(f["ppid"])
    if f.get("origin") not in EXE_ORIGINS:
        die(lineno, "origin is file, lower, upper or memfd")
    ctr = f.get("ctr")
    if ctr is not None and ctr not in c.containers:
        die(lineno, "container %s not declared" % ctr)
    cg = c.containers[ctr][0] if ctr else HOST_CG
    p = c.procs.get(pid)
    if p is None:
        parent = c.procs.get(ppid)
        if parent is None:
            die(lineno, "ppid %d unknown" % ppid)
        start = c.tick()
        child = dict(parent, pid=pid, ppid=ppid, start=start)
        body = hdr(EV_FORK, 104, c.tick(), parent) + struct.pack(
            "<IIQII", pid, pid, start, 0, 0)
        c.ring.append(body)
        p = c.procs[pid] = child
    p.update(comm=f["comm"], exe=f["exe"], cg=cg, ppid=ppid,
             uid=int(f.get("uid", p["uid"])))
    argv = f.get("args", [f["comm"]])
    args = b"".join(a.encode() + b"\0" for a in argv)
    fn, exe = z(f.get("filename", f["exe"])), z(f["exe"])
    c.seq += 1
    t = c.tick()
    size = 120 + len(fn) + len(exe)
    c.ring.append(hdr(EV_EXEC, size, t, p) + struct.pack(
        "<IIIIIIIIQ", pid, len(fn), len(exe), EXE_ORIGINS[f.get("origin")],
        len(args), len(args), 1, 0,
        c.seq) + fn + exe)
    c.ring.append(hdr(EV_EXEC_ARGS, 96 + len(args), t, p) + struct.pack(
        "<QII", c.seq, 0, len(args)) + args)


def add_open(c, f, lineno):
    p = proc_of(c, f, lineno)
    path, ab = z(f["path"]), z(f.get("abs"))
    flags = open_flags(f.get("flags", "O_RDONLY"))
    ret = int(f.get("ret", 3))
    size = 120 + len(path) + len(ab)
    c.ring.append(hdr(EV_OPEN, size, c.tick(), p) + struct.pack(
        "<qiIIIIIII", ret, -100, flags, 0o644, 257, len(path), len(ab), 0, 0)
        + path + ab)


def add_file(c, op, path, path2, p):
    a, b = z(path), z(path2)
    size = 136 + len(a) + len(b)
    nr = 266 if op == FILE_SYMLINK else 265  # symlinkat, linkat
    c.ring.append(hdr(EV_FILE, size, c.tick(), p) + struct.pack(
        "<qIIIIIIiIIIII", 0, op, nr, 0, 0xffffffff, 0xffffffff, 0, -1,
        len(a), 0, len(b), 0, 0) + a + b)


def add_session(c, f, lineno):
    p = proc_of(c, f, lineno)
    caps = 0
    for name in filter(None, f.get("caps", "").split(",")):
        if name not in CAPS:
            die(lineno, "unknown capability " + name)
        caps |= 1 << CAPS.index(name)
    loginuid = int(f.get("loginuid", -1))
    # struct vg_rec_session: pid, flags (1 loginuid, 2 status),
    # start_ticks, tty, sid, loginuid (-1: none), vpid, pad, caps inh prm eff
    flags = (1 if "loginuid" in f else 0) | 2
    c.ring.append((REC_SESSION, struct.pack(
        "<iIQiiqiIQQQ", p["pid"], flags, p["start"] // TICK_NS,
        int(f.get("tty", 0)), p["pid"], loginuid, 1, 0, caps, caps, caps)))


def add_connect(c, f, lineno):
    p = proc_of(c, f, lineno)
    addr = struct.pack("<H", socket.AF_INET) + struct.pack(
        ">H", int(f["port"])) + socket.inet_aton(f["ip"]) + b"\0" * 8
    local = struct.pack("<H", socket.AF_INET) + struct.pack(
        ">H", 40000) + socket.inet_aton("10.0.0.2") + b"\0" * 8
    c.ring.append(hdr(EV_CONNECT, 344, c.tick(), p) + struct.pack(
        "<qiIIHHIIII", 0, 3, 42, 0, socket.AF_INET, socket.SOCK_STREAM,
        len(addr), len(local), 0, 0) + addr.ljust(112, b"\0")
        + local.ljust(112, b"\0"))


def names_or(s, table, what):
    """N, or NAME|NAME... of table (a dict, or a module's constants)."""
    v = 0
    for name in s.split("|"):
        if name.lstrip("-").isdigit() or name.startswith("0x"):
            v |= int(name, 0)
        elif isinstance(table, dict) and name in table:
            v |= table[name]
        elif not isinstance(table, dict) and hasattr(table, name):
            v |= getattr(table, name)
        else:
            raise ValueError("unknown %s %s" % (what, name))
    return v


def add_ptrace(c, f, lineno):
    # struct vg_ev_ptrace: ret, addr, data, request, pid
    p = proc_of(c, f, lineno)
    c.ring.append(hdr(EV_PTRACE, 112, c.tick(), p) + struct.pack(
        "<qQQII", int(f.get("ret", 0)), int(f.get("addr", "0"), 0),
        int(f.get("data", "0"), 0), names_or(f["request"], PTRACE, "request"),
        int(f.get("target", 0))))


def sockaddr(s):
    """A:P (IPv4), [A]:P (IPv6) or a unix path, as the socket holds it."""
    if s.startswith("/"):
        return struct.pack("<H", socket.AF_UNIX) + s.encode() + b"\0"
    host, _, port = s.rpartition(":")
    if host.startswith("["):
        return struct.pack("<H", socket.AF_INET6) + struct.pack(">HI", int(port), 0) \
            + socket.inet_pton(socket.AF_INET6, host[1:-1]) + struct.pack("<I", 0)
    return struct.pack("<H", socket.AF_INET) + struct.pack(">H", int(port)) \
        + socket.inet_aton(host) + b"\0" * 8


def sock_rec(c, typ, p, f, nr, ret, fd, newfd, arg_flags, size=0, dest=None):
    """struct vg_ev_sock as sock_exit() fills it: the fd's file at exit;
    for a socket its family, type, protocol, own address and peer."""
    what = FILES[f.get("file", "none")]
    fam = stype = proto = 0
    if isinstance(what, tuple):
        mode, (fam, stype, proto) = S_IFSOCK, what
    else:
        mode = what
    local = sockaddr(f["local"]) if "local" in f and mode == S_IFSOCK else b""
    addr = sockaddr(f["peer"]) if "peer" in f and mode == S_IFSOCK else b""
    aflags = NET_CONNECTED if addr else 0
    if not addr and dest is not None:
        addr, aflags = sockaddr(dest), NET_REQUESTED
    c.ring.append(hdr(typ, 360, c.tick(), p) + struct.pack(
        "<qQiIIiIHHIIII", ret, size, fd, nr, arg_flags, newfd, mode, fam,
        stype, proto, len(addr), len(local), aflags)
        + addr.ljust(SOCKADDR_MAX, b"\0") + local.ljust(SOCKADDR_MAX, b"\0"))


def add_socket(c, f, lineno):
    # as handle_exit_socket(): what was asked for, a socket if made
    p = proc_of(c, f, lineno)
    ret = int(f.get("ret", 3))
    stype = names_or(f["type"], socket, "type")
    c.ring.append(hdr(EV_SOCKET, 360, c.tick(), p) + struct.pack(
        "<qQiIIiIHHIIII", ret, 0, ret if ret >= 0 else -1, NR["socket"],
        names_or(f.get("flags", "0"), socket, "flag"), -1,
        S_IFSOCK if ret >= 0 else 0, names_or(f["domain"], socket, "domain"),
        stype, int(f.get("proto", "0"), 0), 0, 0, 0) + b"\0" * (2 * SOCKADDR_MAX))


def add_dup(c, f, lineno):
    p = proc_of(c, f, lineno)
    call = f.get("call", "dup2")
    oldfd = int(f["oldfd"])
    newfd = -1 if call == "dup" else int(f["newfd"])
    # dup's new fd is the lowest free one: the case says which
    ret = int(f["ret"] if call == "dup" else f.get("ret", newfd))
    flags = names_or(f.get("flags", "0"), os, "flag") if call == "dup3" else 0
    sock_rec(c, EV_DUP, p, f, NR[call], ret, oldfd, newfd, flags)


def add_send(c, f, lineno):
    p = proc_of(c, f, lineno)
    call = f.get("call", "sendto")
    size = int(f.get("size", 1)) if call == "sendto" else 0
    sock_rec(c, EV_SEND, p, f, NR[call], int(f.get("ret", f.get("size", 1))),
             int(f["fd"]), -1, int(f.get("msgflags", "0"), 0), size, f.get("dest"))


SOCK_ITEMS = {"ptrace": add_ptrace, "socket": add_socket, "dup": add_dup,
              "send": add_send}


def parse(path):
    cases, c = [], None
    for lineno, line in enumerate(open(path), 1):
        line = line.split(" #", 1)[0].rstrip("\n") if not line.startswith("#") else ""
        words = line.split()
        if not words:
            continue
        what, rest = words[0], line.strip()[len(words[0]):].strip()
        if what == "case":
            kind, _, rule = rest.partition(" ")
            if kind not in ("positive", "negative") or not rule:
                die(lineno, "case positive|negative RULE")
            c = Case(kind, rule)
            cases.append(c)
            continue
        if c is None:
            die(lineno, "%s before any case" % what)
        try:
            if what == "also":
                c.also.append(rest)
            elif what == "want":
                c.want.append(rest)
            elif what == "container":
                name = words[1]
                image = "vigil-test/%s:1" % name
                priv = None
                for w in words[2:]:
                    if w in ("privileged", "unprivileged"):
                        priv = w == "privileged"
                    elif w.startswith("image="):
                        image = w[6:]
                    else:
                        die(lineno, "container: %r?" % w)
                c.containers[name] = (1000 + len(c.containers), priv, image)
            elif what == "proc":
                f = fields(words[1:], lineno)
                pid, age = int(f["pid"]), int(f.get("age", 100))
                start = c.t - age * 1000000000
                start -= start % TICK_NS
                c.procs[pid] = dict(pid=pid, ppid=int(f["ppid"]), comm=f["comm"],
                                    exe=f["exe"], start=start, cg=HOST_CG,
                                    uid=int(f.get("uid", 0)))
                exe = z(f["exe"])
                c.seeds.append(struct.pack("<iiQ16sII", pid, int(f["ppid"]),
                                           start // TICK_NS,
                                           f["comm"].encode()[:15], len(exe), 0)
                               + exe)
            elif what == "exec":
                add_exec(c, fields(words[1:], lineno), lineno)
            elif what == "open":
                add_open(c, fields(words[1:], lineno), lineno)
            elif what == "symlink":
                f = fields(words[1:], lineno)
                add_file(c, FILE_SYMLINK, f["linkpath"], f["target"],
                         proc_of(c, f, lineno))
            elif what == "link":
                f = fields(words[1:], lineno)
                add_file(c, FILE_LINK, f["newpath"], f["oldpath"],
                         proc_of(c, f, lineno))
            elif what == "session":
                add_session(c, fields(words[1:], lineno), lineno)
            elif what == "connect":
                add_connect(c, fields(words[1:], lineno), lineno)
            elif what in SOCK_ITEMS:
                SOCK_ITEMS[what](c, fields(words[1:], lineno), lineno)
            else:
                die(lineno, "unknown item %r" % what)
        except (KeyError, ValueError, IndexError) as ex:
            die(lineno, "%s: %s" % (what, ex))
    return cases


def header():
    def s(v, n):
        return v.encode().ljust(n, b"\0")
    h = b"VIGILREC" + struct.pack("<IIII", 1, 384, 0x01020304, EVENTS_VERSION)
    h += struct.pack("<QQ", BOOT_TO_WALL_NS, CLK_TCK)
    h += s("6.1.0-mkrec", 72) + s("x86_64", 72) + s("mkrec", 32)
    h += s(BOOT_ID, 40) + s("/", 128)
    assert len(h) == 384
    return h


def entry(kind, body, mono):
    return struct.pack("<IIQ", kind, len(body), mono) + body + \
        b"\0" * (-len(body) % 8)


def write_case(c, path):
    out, mono = [header()], 1
    cgs = [(HOST_CG, HOST_CG_PATH)] + [
        (cg, "/docker/" + container_id(n)) for n, (cg, _, _) in c.containers.items()]
    for cg, p in cgs:
        out.append(entry(REC_CGROUP, struct.pack("<Q", cg) + z(p), mono))
    for n in c.containers:
        key = z("0::/docker/" + container_id(n))
        why = z("test")
        out.append(entry(REC_CLAIM, struct.pack("<IiiIII", VERIFY_RUNTIME, 0, 0,
                                                len(key), len(why), 0) + key + why, mono))
    for body in c.seeds:
        out.append(entry(REC_PROC, body, mono))
    for r in c.ring:
        mono += 1000
        if isinstance(r, tuple):
            out.append(entry(r[0], r[1], mono))
        else:
            out.append(entry(REC_RING, r, mono))
    out.append(entry(REC_END, b"", mono))
    with open(path, "wb") as f:
        f.write(b"".join(out))


def write_host(cases, root):
    for d in ("proc/sys/kernel/random", "proc/1", "etc"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    files = {"proc/sys/kernel/random/boot_id": BOOT_ID + "\n",
             "proc/stat": "cpu  1 2 3 4\nbtime 1795000000\n",
             "proc/1/mountinfo": "", "etc/passwd": PASSWD, "etc/group": GROUP}
    for c in cases:
        for name, (_, priv, image) in c.containers.items():
            cid = container_id(name)
            d = "var/lib/docker/containers/" + cid
            os.makedirs(os.path.join(root, d), exist_ok=True)
            files[d + "/config.v2.json"] = (
                '{"State":{"Running":true,"Pid":0,"StartedAt":'
                '"2026-12-06T15:51:00Z"},"ID":"%s","Created":'
                '"2026-12-06T15:51:00Z","Config":{"Image":"%s","Labels":{}},'
                '"Image":"sha256:%s","Name":"/%s","Driver":"overlay2"}\n'
                % (cid, image, "0" * 64, name))
            if priv is not None:
                files[d + "/hostconfig.json"] = '{"Privileged":%s}\n' % (
                    "true" if priv else "false")
    for p, text in files.items():
        with open(os.path.join(root, p), "w") as f:
            f.write(text)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    cases = parse(sys.argv[1])
    os.makedirs(sys.argv[2], exist_ok=True)
    write_host(cases, os.path.join(sys.argv[2], "host"))
    for i, c in enumerate(cases):
        write_case(c, os.path.join(sys.argv[2], "%d.rec" % i))
        with open(os.path.join(sys.argv[2], "%d.expect" % i), "w") as f:
            f.write("%s\t%s\n" % (c.kind, c.rule))
            for r in c.also:
                f.write("also\t%s\n" % r)
            for w in c.want:
                f.write("want\t%s\n" % w)
    print(len(cases))


if __name__ == "__main__":
    main()
