#!/usr/bin/env python3
"""The hostile-input catalogue (issue 12) as checks against a live memberlist agent.

Each check sends what an attacker on the network (or on the host) could send, measures what
the agent does, and prints one line:

    PASS|FAIL|INFO|SKIP  <n>  <name>: <what was measured>

Usage (see tests/hostile/README.md):

    hostile.py --target 127.0.0.1:7946 [--http 127.0.0.1:7980 | --http unix:/path]
               [--pid PID] [--cli path/to/memberlist] [--agent-log FILE]
               [--only 1,4] [--expect 4,5,6,7]

--target is the agent's gossip address (UDP and TCP). --http is its HTTP API (checks 4, 5, 6
and 7 read the member list there). --pid lets check 3 read the agent's memory from /proc when
the agent runs on this host. --cli runs `memberlist members` for check 6, --agent-log is the
agent's stdout (its event lines) for the same check.

Exit status: 0 when every check named by --expect (default: all that ran) passed; 1 otherwise;
2 on a usage error. Checks not in --expect are reported but do not change the status.

The agent must run without encryption and without a label (the checks speak plaintext).
Only the Python standard library is used: the msgpack subset, LZW (Go's compress/lzw, LSB,
8-bit literals) and the framing are written here from /work/shared/design/WIRE.md.
"""

import argparse
import json
import os
import re
import socket
import stat
import struct
import subprocess
import sys
import time

# ----------------------------------------------------------------------------------------------
# msgpack, the subset memberlist writes (WIRE.md §3): maps with string keys, raw strings for
# str and []byte, unsigned ints, bools, nil. The decoder reads whatever the agent sends back.


def mp_str(b):
    if isinstance(b, str):
        b = b.encode()
    n = len(b)
    if n < 32:
        return bytes([0xA0 | n]) + b
    if n < 0x10000:
        return b"\xda" + struct.pack(">H", n) + b
    return b"\xdb" + struct.pack(">I", n) + b


def mp_uint(v):
    if v < 0:
        raise ValueError("negative")
    if v < 128:
        return bytes([v])
    if v < 0x100:
        return b"\xcc" + bytes([v])
    if v < 0x10000:
        return b"\xcd" + struct.pack(">H", v)
    if v < 0x100000000:
        return b"\xce" + struct.pack(">I", v)
    return b"\xcf" + struct.pack(">Q", v)


def mp_value(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        return mp_uint(v)
    if isinstance(v, (bytes, bytearray, str)):
        return mp_str(v)
    if isinstance(v, dict):
        return mp_map(v)
    raise TypeError(type(v))


def mp_map(d):
    """A struct as Go writes it: a fixmap, keys sorted."""
    items = sorted(d.items())
    if len(items) >= 16:
        raise ValueError("fixmap only")
    out = bytes([0x80 | len(items)])
    for k, v in items:
        out += mp_str(k) + mp_value(v)
    return out


class Short(Exception):
    pass


def mp_decode(buf, pos=0):
    """Decodes one object; returns (value, next position). Strings stay bytes."""
    if pos >= len(buf):
        raise Short()
    b = buf[pos]
    pos += 1

    def take(n):
        nonlocal pos
        if pos + n > len(buf):
            raise Short()
        s = buf[pos:pos + n]
        pos += n
        return s

    if b < 0x80:
        return b, pos
    if b >= 0xE0:
        return b - 0x100, pos
    if 0x80 <= b <= 0x8F or b in (0xDE, 0xDF):
        n = b & 0x0F if b <= 0x8F else struct.unpack(">H" if b == 0xDE else ">I", take(2 if b == 0xDE else 4))[0]
        d = {}
        for _ in range(n):
            k, pos = mp_decode(buf, pos)
            v, pos = mp_decode(buf, pos)
            d[k.decode("latin-1") if isinstance(k, bytes) else k] = v
        return d, pos
    if 0x90 <= b <= 0x9F or b in (0xDC, 0xDD):
        n = b & 0x0F if b <= 0x9F else struct.unpack(">H" if b == 0xDC else ">I", take(2 if b == 0xDC else 4))[0]
        a = []
        for _ in range(n):
            v, pos = mp_decode(buf, pos)
            a.append(v)
        return a, pos
    if 0xA0 <= b <= 0xBF:
        return bytes(take(b & 0x1F)), pos
    fixed = {0xC0: None, 0xC2: False, 0xC3: True}
    if b in fixed:
        return fixed[b], pos
    lens = {0xC4: 1, 0xD9: 1, 0xC5: 2, 0xDA: 2, 0xC6: 4, 0xDB: 4}
    if b in lens:
        n = int.from_bytes(take(lens[b]), "big")
        return bytes(take(n)), pos
    uints = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
    if b in uints:
        return int.from_bytes(take(uints[b]), "big"), pos
    ints = {0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
    if b in ints:
        return int.from_bytes(take(ints[b]), "big", signed=True), pos
    raise ValueError("msgpack byte 0x%02x not handled" % b)


# ----------------------------------------------------------------------------------------------
# LZW as Go's compress/lzw writes and reads it (LSB first, literal width 8; WIRE.md §5.4).

CLEAR, EOF = 256, 257


class _BitWriter:
    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.nbits = 0

    def write(self, code, width):
        self.acc |= code << self.nbits
        self.nbits += width
        while self.nbits >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.nbits -= 8

    def flush(self):
        if self.nbits > 0:
            self.out.append(self.acc & 0xFF)
        return bytes(self.out)


def lzw_compress(data):
    w = _BitWriter()
    width, hi, overflow = 9, 257, 512
    table = {}
    if not data:
        w.write(CLEAR, width)
        w.write(EOF, width)
        return w.flush()

    def inc_hi():
        nonlocal width, hi, overflow, table
        hi += 1
        if hi == overflow:
            width += 1
            overflow <<= 1
        if hi == 4095:
            w.write(CLEAR, width)
            width, hi, overflow = 9, 257, 512
            table = {}
            return True
        return False

    w.write(CLEAR, width)
    code = data[0]
    for x in data[1:]:
        key = (code << 8) | x
        nxt = table.get(key)
        if nxt is not None:
            code = nxt
            continue
        w.write(code, width)
        if not inc_hi():
            table[key] = hi
        code = x
    w.write(code, width)
    inc_hi()
    w.write(EOF, width)
    return w.flush()


def lzw_decompress(data, limit=64 << 20):
    out = bytearray()
    width, hi, overflow = 9, 257, 512
    prefix, suffix = {}, {}
    last = None
    acc = nbits = pos = 0
    while True:
        while nbits < width:
            if pos >= len(data):
                raise ValueError("lzw: truncated")
            acc |= data[pos] << nbits
            pos += 1
            nbits += 8
        code = acc & ((1 << width) - 1)
        acc >>= width
        nbits -= width
        if code == CLEAR:
            width, hi, overflow, last = 9, 257, 512, None
            continue
        if code == EOF:
            return bytes(out)
        if code < 256:
            s = bytes([code])
        elif code < hi or (code == hi and last is not None):
            c = code if code < hi else last
            parts = []
            while c >= 258:
                parts.append(suffix[c])
                c = prefix[c]
            parts.append(c)
            s = bytes(reversed(parts))
            if code == hi:
                s += s[:1]
        else:
            raise ValueError("lzw: bad code")
        out += s
        if len(out) > limit:
            raise ValueError("lzw: over the limit")
        if last is not None:
            prefix[hi], suffix[hi] = last, s[0]
        last = code
        hi += 1
        if hi >= overflow:
            if width == 12:
                last = None
                hi -= 1
            else:
                width += 1
                overflow <<= 1


# ----------------------------------------------------------------------------------------------
# Messages and wrappers (WIRE.md §2, §4, §5).

PING, ACK, ALIVE, DEAD, PUSHPULL, COMPOUND, COMPRESS, ERR = 0, 2, 4, 5, 6, 7, 9, 13
VSN = bytes([1, 5, 2, 0, 0, 0])


def compound(parts):
    if not 1 <= len(parts) <= 255:
        raise ValueError("compound of %d parts" % len(parts))
    out = bytes([COMPOUND, len(parts)])
    for p in parts:
        if len(p) > 0xFFFF:
            raise ValueError("compound part of %d bytes" % len(p))
        out += struct.pack(">H", len(p))
    return out + b"".join(parts)


def compress(msg):
    return bytes([COMPRESS]) + mp_map({"Algo": 0, "Buf": lzw_compress(msg)})


def alive(name, ip, port, inc=1, meta=None, vsn=VSN):
    return bytes([ALIVE]) + mp_map({"Node": name, "Addr": ip, "Port": port, "Incarnation": inc,
                                    "Meta": meta, "Vsn": vsn})


def dead(name, inc, frm):
    return bytes([DEAD]) + mp_map({"Node": name, "Incarnation": inc, "From": frm})


def parse_stream_message(buf):
    """(type, [objects], body) from the bytes of one stream message; raises Short when more
    bytes are needed. A compress wrapper is undone first (WIRE.md §5.7)."""
    if not buf:
        raise Short()
    if buf[0] == COMPRESS:
        obj, _ = mp_decode(buf, 1)
        plain = lzw_decompress(obj["Buf"])
        try:
            return parse_stream_message(plain)
        except Short:
            raise ValueError("compressed stream message is incomplete")
    typ, body = buf[0], buf[1:]
    first, pos = mp_decode(body, 0)
    objs = [first]
    if typ == PUSHPULL:
        for _ in range(first.get("Nodes", 0)):
            o, pos = mp_decode(body, pos)
            objs.append(o)
    return typ, objs, body


def read_stream_message(sock, timeout):
    """Reads one stream reply: (type, [decoded objects], body)."""
    deadline = time.monotonic() + timeout
    buf = b""
    while True:
        if buf:
            try:
                return parse_stream_message(buf)
            except Short:
                pass
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete reply within %.1f s (%d bytes read)" % (timeout, len(buf)))
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            raise Short("connection closed after %d bytes" % len(buf))
        buf += chunk


def host_port(s):
    h, _, p = s.rpartition(":")
    return h.strip("[]"), int(p)


# ----------------------------------------------------------------------------------------------
# The agent's HTTP API (TCP or unix socket), HTTP/1.0 over a raw socket.


def http_request(addr, method, path, body=b"", headers=None, timeout=10):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(addr[5:])
    else:
        s = socket.create_connection(host_port(addr), timeout=timeout)
    with s:
        h = {"Host": "agent", "Content-Length": str(len(body)), "Connection": "close"}
        h.update(headers or {})
        req = "%s %s HTTP/1.0\r\n" % (method, path) + "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
        s.sendall(req.encode() + body)
        data = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, rest


def members(http):
    status, body = http_request(http, "GET", "/v1/members")
    if status != 200:
        raise RuntimeError("GET /v1/members: %d %r" % (status, body[:200]))
    return json.loads(body)


def wait_for(pred, timeout, every=0.05):
    """Polls pred() until it returns something truthy or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return None
        time.sleep(every)


def vm_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


# ----------------------------------------------------------------------------------------------
# The checks. Each returns (result, text) with result one of PASS, FAIL, INFO, SKIP.


class Ctx:
    def __init__(self, a):
        self.a = a
        self.host, self.port = host_port(a.target)
        self.ip = socket.inet_aton(socket.gethostbyname(self.host))
        self.run_id = "%x" % (os.getpid() & 0xFFFF)

    def tcp(self):
        return socket.create_connection((self.host, self.port), timeout=5)

    def push_pull(self, timeout=10):
        """A push/pull carrying no node states; returns the agent's node states by name."""
        with self.tcp() as s:
            s.sendall(bytes([PUSHPULL]) + mp_map({"Join": False, "Nodes": 0, "UserStateLen": 0}))
            typ, objs, _ = read_stream_message(s, timeout)
        if typ != PUSHPULL:
            raise RuntimeError("push/pull answered with message type %d: %r" % (typ, objs[:1]))
        return {o["Name"].decode("utf-8", "replace"): o for o in objs[1:]}

    def self_name(self):
        if self.a.name:
            return self.a.name
        if self.a.http:
            return members(self.a.http)["self"]
        raise RuntimeError("needs --http or --name to know the agent's node name")

    def self_state(self, timeout=10):
        name = self.self_name()
        st = self.push_pull(timeout).get(name)
        if st is None:
            raise RuntimeError("the agent's push/pull reply has no node state named %r" % name)
        return name, st


def check_reflection(c):
    """1. A compressed 3-level compound of empty pings: how many acks come back?"""
    ping = bytes([PING]) + mp_map({})
    inner = compound([ping] * 255)
    mid = compound([inner] * 63)
    outer = compound([mid] * 16)
    pkt = compress(outer)
    pings = 16 * 63 * 255
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)  # the kernel caps it at rmem_max
    s.bind(("0.0.0.0", 0))
    s.sendto(pkt, (c.host, c.port))
    # Count until the agent has been quiet for a second (or 10 s in all): the acks come in a burst.
    got = nbytes = 0
    start = time.monotonic()
    last = start
    while True:
        now = time.monotonic()
        left = min(last + 1.0, start + 10.0) - now
        if left <= 0:
            break
        s.settimeout(left)
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        got += 1
        nbytes += len(d)
        last = time.monotonic()
    s.close()
    amp = nbytes / len(pkt)
    # A lower bound: what overflowed the socket's receive buffer is not counted.
    text = ("sent one %d-byte datagram (%d pings, %d bytes decompressed); got back %d datagrams, %d bytes "
            "in %.1f s: amplification %.1fx in bytes, %.0f packets per byte sent"
            % (len(pkt), pings, len(outer), got, nbytes, last - start, amp, got / len(pkt)))
    return ("PASS" if amp <= c.a.max_amplification else "FAIL"), text


def check_idle_tcp(c):
    """2. Many idle TCP connections, then a real TCP ping: is the agent still reachable?"""
    conns = []
    try:
        for _ in range(c.a.idle_conns):
            conns.append(c.tcp())
        seq = 4242
        t0 = time.monotonic()
        try:
            with c.tcp() as s:
                s.sendall(bytes([PING]) + mp_map({"SeqNo": seq, "Node": ""}))
                typ, objs, _ = read_stream_message(s, c.a.idle_wait)
            ok = typ == ACK and objs[0].get("SeqNo") == seq
            what = "ack for seq %d" % seq if ok else "message type %d %r" % (typ, objs[:1])
        except (OSError, TimeoutError, Short, ValueError) as e:
            ok, what = False, "no ack (%s: %s)" % (type(e).__name__, e)
        el = time.monotonic() - t0
        return ("PASS" if ok else "FAIL"), ("with %d idle TCP connections open, a TCP ping got %s after %.2f s (waited up to %.0f s)"
                                          % (len(conns), what, el, c.a.idle_wait))
    finally:
        for s in conns:
            s.close()


def check_pushpull_memory(c):
    """3. A push/pull announcing 1 MiB node states, each one byte (an empty map)."""
    n = c.a.pushpull_nodes
    payload = bytes([PUSHPULL]) + mp_map({"Join": False, "Nodes": n, "UserStateLen": 0}) + b"\x80" * n
    before_rss = before_hwm = None
    if c.a.pid:
        # Reset the peak to the current RSS, so that earlier checks do not hide this one's
        # peak (needs to be the agent's user or root; otherwise the peak so far stays).
        try:
            with open("/proc/%d/clear_refs" % c.a.pid, "w") as f:
                f.write("5")
        except OSError:
            pass
        before_rss, before_hwm = vm_kib(c.a.pid, "VmRSS"), vm_kib(c.a.pid, "VmHWM")
    t0 = time.monotonic()
    reply = "no reply"
    try:
        with c.tcp() as s:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            try:
                typ, objs, _ = read_stream_message(s, 20)
                reply = "reply type %d%s" % (typ, (" (%r)" % objs[0].get("Error", b"")[:80]) if typ == ERR else "")
            except (Short, OSError) as e:
                reply = "connection closed without a reply (%s)" % type(e).__name__
    except OSError as e:
        reply = "send failed: %s" % e
    el = time.monotonic() - t0
    # The agent must still answer a normal push/pull afterwards.
    alive_after = True
    try:
        c.push_pull()
    except Exception as e:  # noqa: BLE001 - any failure is the finding
        alive_after = False
        reply += "; a normal push/pull afterwards failed: %s" % e
    if not c.a.pid:
        return ("INFO" if alive_after else "FAIL"), ("sent %d bytes (%d one-byte node states): %s after %.2f s; "
                                                    "no --pid, memory not measured" % (len(payload), n, reply, el))
    after_hwm = vm_kib(c.a.pid, "VmHWM")
    growth = (after_hwm - before_hwm) / 1024
    text = ("sent %d bytes (%d one-byte node states): %s after %.2f s; agent peak RSS %.1f -> %.1f MiB "
            "(+%.1f MiB, %.0f bytes of memory per byte sent; RSS before %.1f MiB)"
            % (len(payload), n, reply, el, before_hwm / 1024, after_hwm / 1024, growth,
               growth * 1048576 / len(payload), before_rss / 1024))
    return ("PASS" if alive_after and growth <= c.a.max_rss_growth_mb else "FAIL"), text


def need_http(c):
    if not c.a.http:
        return ("SKIP", "needs --http")
    return None


def member_by_name(c, name):
    for m in members(c.a.http)["members"]:
        if m["name"] == name:
            return m
    return None


def check_alive_fields(c):
    """4. alive with port 0 (must become the default port) and with a 1-byte Vsn (rejected)."""
    if need_http(c):
        return need_http(c)
    p0, v1, sentinel = ("hostile-port0-" + c.run_id, "hostile-vsn1-" + c.run_id, "hostile-sentinel4-" + c.run_id)
    loop = socket.inet_aton("127.0.0.1")
    # One compound, processed in order: the sentinel shows that the two before it were handled.
    pkt = compound([alive(p0, loop, 0), alive(v1, loop, 7946, vsn=b"\x01"), alive(sentinel, loop, 7946)])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        seen = None
        for _ in range(3):  # UDP: resend if the sentinel does not show up
            s.sendto(pkt, (c.host, c.port))
            seen = wait_for(lambda: member_by_name(c, sentinel), 3)
            if seen:
                break
    finally:
        s.close()
    if not seen:
        return "FAIL", "the sentinel alive never appeared in /v1/members"
    m0, m1 = member_by_name(c, p0), member_by_name(c, v1)
    want = "127.0.0.1:%d" % c.port
    bad = []
    if not m0:
        bad.append("the port-0 alive was dropped (memberlist repairs it to its BindPort %d)" % c.port)
    elif m0["addr"] != want:
        bad.append("the port-0 alive is listed at %s, not %s" % (m0["addr"], want))
    if m1:
        bad.append("the 1-byte-Vsn alive was accepted: %s" % json.dumps(m1))
    # What a stored short Vsn does: it reads as protocol range 0..0, and verifyProtocol then
    # refuses every push/pull merge. Measure it: does a well-formed push/pull still merge?
    merged_name = "hostile-merge4-" + c.run_id
    st = {"Name": merged_name, "Addr": loop, "Port": 7946, "Incarnation": 1, "State": 0, "Meta": None, "Vsn": VSN}
    with c.tcp() as conn:
        conn.sendall(bytes([PUSHPULL]) + mp_map({"Join": False, "Nodes": 1, "UserStateLen": 0}) + mp_map(st))
        read_stream_message(conn, 10)
    merged = wait_for(lambda: member_by_name(c, merged_name), 2)
    if not merged:
        bad.append("a well-formed push/pull afterwards was not merged (refused by verifyProtocol?)")
    text = "port-0 alive listed as %s (want %s); 1-byte-Vsn alive %s; a push/pull afterwards %s" % (
        m0["addr"] if m0 else "absent", want, "accepted" if m1 else "rejected",
        "merged" if merged else "NOT merged")
    return ("FAIL" if bad else "PASS"), text + ("; " + "; ".join(bad) if bad else "")


def check_dead_max_incarnation(c):
    """5. dead{incarnation 0xFFFFFFFF} about the agent itself: its incarnation must not wrap."""
    name, st = c.self_state()
    before = st["Incarnation"]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(dead(name, 0xFFFFFFFF, "hostile-" + c.run_id), (c.host, c.port))
        def refuted():
            now = c.self_state()[1]
            return now if now["Incarnation"] != before else None
        changed = wait_for(refuted, 5, 0.1)
    finally:
        s.close()
    after_st = changed or c.self_state()[1]
    after = after_st["Incarnation"]
    in_view = None
    if c.a.http:
        m = member_by_name(c, name)
        in_view = bool(m)
    text = ("agent %r: incarnation %d before, %d after the forged dead{0xFFFFFFFF} (state %s)%s"
            % (name, before, after, after_st.get("State"),
               "" if in_view is None else ", %s in its own /v1/members" % ("still" if in_view else "NOT")))
    ok = after >= before and after_st.get("State") == 0 and in_view is not False
    if not changed:
        text += "; no refutation seen within 5 s"
    return ("PASS" if ok else "FAIL"), text


# C0 controls but tab and newline, DEL, and the C1 controls (U+0080..U+009F: U+009B is CSI),
# looked for in the text as decoded from UTF-8 (a raw 0x9b byte is not a character there).
ESC_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def raw_controls(b):
    return ESC_RE.findall(b.decode("utf-8", "replace"))


def check_terminal_escapes(c):
    """6. Terminal escapes in a member's name and metadata: the agent's output is escaped."""
    if need_http(c):
        return need_http(c)
    name = "hostile-\x1b[31mRED\x1b[0m-\x07-" + c.run_id
    meta = b"\x1b]0;pwned\x07\x1b[2J\x9b1m"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        seen = None
        for _ in range(3):
            s.sendto(alive(name, socket.inet_aton("127.0.0.1"), 7946, meta=meta), (c.host, c.port))
            seen = wait_for(lambda: member_by_name(c, name), 3)
            if seen:
                break
    finally:
        s.close()
    if not seen:
        return "FAIL", "the alive with escapes in its name never appeared in /v1/members"
    parts, bad = [], []
    if c.a.cli:
        r = subprocess.run([c.a.cli, "members", "--agent", c.a.http], capture_output=True, timeout=30)
        out = r.stdout
        line = [l for l in out.split(b"\n") if b"hostile-" in l and c.run_id.encode() in l]
        raw = raw_controls(out)
        parts.append("`memberlist members`: %d raw control bytes; line %r" % (len(raw), line[0] if line else None))
        if r.returncode != 0:
            bad.append("members exited %d" % r.returncode)
        if raw:
            bad.append("members printed raw control bytes %r" % raw[:5])
        if not line:
            bad.append("members did not list the member")
    if c.a.agent_log:
        def logged():
            with open(c.a.agent_log, "rb") as f:
                data = f.read()
            lines = [l for l in data.split(b"\n") if b" join " in l and b"RED" in l and c.run_id.encode() in l]
            return lines
        lines = wait_for(logged, 5)
        if not lines:
            bad.append("no join line for it in the agent log")
        else:
            raw = raw_controls(lines[0])
            parts.append("agent log: %d raw control bytes; %r" % (len(raw), lines[0]))
            if raw:
                bad.append("the agent printed raw control bytes %r" % raw[:5])
    if not c.a.cli and not c.a.agent_log:
        return "INFO", "listed in /v1/members (JSON, escaped by JSON itself); give --cli or --agent-log to check the printed output"
    return ("FAIL" if bad else "PASS"), "; ".join(parts + bad)


def check_http_put(c):
    """7. PUT /v1/meta without credentials is refused."""
    if need_http(c):
        return need_http(c)
    if c.a.http.startswith("unix:"):
        path = c.a.http[5:]
        mode = stat.S_IMODE(os.stat(path).st_mode)
        ok = mode & 0o077 == 0
        return ("PASS" if ok else "FAIL"), "unix socket %s has mode %04o (%s)" % (
            path, mode, "only its owner can connect" if ok else "other users can connect and PUT")
    before = members(c.a.http)
    selfm = [m for m in before["members"] if m.get("self")]
    status, body = http_request(c.a.http, "PUT", "/v1/meta", b"hostile-" + c.run_id.encode())
    after = members(c.a.http)
    selfa = [m for m in after["members"] if m.get("self")]
    changed = bool(selfm and selfa and selfm[0]["meta"] != selfa[0]["meta"])
    ok = status in (401, 403) and not changed
    return ("PASS" if ok else "FAIL"), "unauthenticated PUT /v1/meta over TCP: HTTP %d %r; metadata %s" % (
        status, body.strip()[:100], "CHANGED" if changed else "unchanged")


CHECKS = [
    (1, "reflection-amplification", check_reflection),
    (2, "idle-tcp-lockout", check_idle_tcp),
    (3, "pushpull-memory", check_pushpull_memory),
    (4, "alive-port0-and-short-vsn", check_alive_fields),
    (5, "dead-max-incarnation", check_dead_max_incarnation),
    (6, "terminal-escapes", check_terminal_escapes),
    (7, "http-unauthenticated-put", check_http_put),
]


def numbers(s):
    return {int(x) for x in s.split(",") if x.strip()} if s else set()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", required=True, help="the agent's gossip address host:port")
    ap.add_argument("--http", help="the agent's HTTP API: host:port or unix:/path")
    ap.add_argument("--name", help="the agent's node name (default: read from --http)")
    ap.add_argument("--pid", type=int, help="the agent's process id, for memory (check 3; local agent only)")
    ap.add_argument("--cli", help="the memberlist binary, to run `members` (check 6)")
    ap.add_argument("--agent-log", help="the agent's stdout, to look at its event lines (check 6)")
    ap.add_argument("--only", help="comma-separated check numbers to run (default: all)")
    ap.add_argument("--expect", help="checks that must PASS for exit status 0 (default: every check run)")
    ap.add_argument("--max-amplification", type=float, default=1.0,
                    help="check 1 passes when the bytes sent back are at most this many times the bytes sent (1.0)")
    ap.add_argument("--idle-conns", type=int, default=130, help="idle TCP connections for check 2 (130)")
    ap.add_argument("--idle-wait", type=float, default=5.0, help="how long check 2's TCP ping may take (5 s)")
    ap.add_argument("--pushpull-nodes", type=int, default=1 << 20, help="one-byte node states in check 3 (1 MiB)")
    ap.add_argument("--max-rss-growth-mb", type=float, default=64.0,
                    help="check 3 passes when the agent's peak RSS grows at most this much (64 MiB)")
    a = ap.parse_args(argv)
    only = numbers(a.only) or {n for n, _, _ in CHECKS}
    expect = numbers(a.expect) if a.expect is not None else set(only)
    unknown = (only | expect) - {n for n, _, _ in CHECKS}
    if unknown:
        ap.error("no check numbered %s" % sorted(unknown))
    c = Ctx(a)
    failed = []
    for n, name, fn in CHECKS:
        if n not in only:
            continue
        t0 = time.monotonic()
        try:
            res, text = fn(c)
        except Exception as e:  # noqa: BLE001 - a check that cannot run is a failure
            res, text = "FAIL", "check raised %s: %s" % (type(e).__name__, e)
        tag = "" if n in expect else " (not expected)"
        print("%-4s %d %s: %s [%.1f s]%s" % (res, n, name, text, time.monotonic() - t0, tag), flush=True)
        if n in expect and res != "PASS":
            failed.append(n)
    if failed:
        print("expected to pass but did not: %s" % ",".join(map(str, failed)), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
