#!/usr/bin/env python3
"""Seeds for fuzz_node and fuzz_config (the formats are in fuzz_node.cpp / fuzz_config.cpp).

    tests/fuzz/gen_seeds.py OUTDIR      # writes OUTDIR/fuzz_node/seed-* and OUTDIR/fuzz_config/seed-*

fuzz_node seeds: every plaintext message, packet and stream of tests/vectors/*.tsv fed to the
node as a datagram or stream, and hand-built sessions (a peer that joins and is probed, pings
naming the node, suspect/dead/alive about it, the issue-12 hostile inputs at fuzz scale, a join
answered by a push/pull, ticks). fuzz_config seeds: every key of docs/config.md with its LAN
default, plus values at and past the edges for each type. The encoders are tests/hostile/hostile.py's.
Deterministic: the same tree gives the same files.
"""

import hashlib
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "hostile"))
import hostile as h  # noqa: E402

DGRAM, STREAM, TICK, REPLY, JOIN = 0, 2, 3, 4, 5


def rec(op, peer=0, payload=b""):
    if op in (TICK, JOIN):
        return bytes([op | (peer << 3)]) + b"\x00\x00"
    return bytes([op | ((peer & 3) << 3)]) + struct.pack("<H", len(payload)) + payload


def tick(n):  # n x 50 ms (n < 32)
    return bytes([TICK | (n << 3)]) + b"\x00\x00"


def peer_ip(i):
    return bytes([10, 0, 0, 2 + i])


def ping(seq, node="target", src=None):
    d = {"SeqNo": seq, "Node": node}
    if src is not None:
        d.update({"SourceAddr": peer_ip(src), "SourcePort": 7946, "SourceNode": "peer-%d" % src})
    return bytes([h.PING]) + h.mp_map(d)


def push_pull(states, join=False, user=b""):
    out = bytes([h.PUSHPULL]) + h.mp_map({"Join": join, "Nodes": len(states), "UserStateLen": len(user)})
    for s in states:
        out += s if isinstance(s, bytes) else h.mp_map(s)
    return out + user


def state(name, ip, inc=1, st=0, port=7946, vsn=h.VSN, meta=None):
    return {"Name": name, "Addr": ip, "Port": port, "Incarnation": inc, "State": st, "Meta": meta, "Vsn": vsn}


def node_seeds():
    seeds = {}
    target_ip = bytes([10, 0, 0, 1])
    alive1 = h.alive("peer-1", peer_ip(1), 7946)
    seeds["ping"] = rec(DGRAM, 0, ping(7, src=0))
    seeds["ping-v015"] = rec(DGRAM, 0, ping(7))
    seeds["ping-other-name"] = rec(DGRAM, 0, ping(7, node="someone-else", src=0))
    seeds["alive-then-probe"] = rec(DGRAM, 1, alive1) + b"".join(tick(20) for _ in range(12)) + \
        rec(DGRAM, 1, bytes([h.ACK]) + h.mp_map({"SeqNo": 1, "Payload": None}))
    seeds["suspect-self"] = rec(DGRAM, 1, alive1) + rec(DGRAM, 1, bytes([3]) + h.mp_map(
        {"Node": "target", "Incarnation": 1, "From": "peer-1"}))
    seeds["dead-self"] = rec(DGRAM, 1, h.dead("target", 1, "peer-1"))
    seeds["dead-self-max"] = rec(DGRAM, 1, h.dead("target", 0xFFFFFFFF, "peer-1")) + tick(4) + \
        rec(DGRAM, 1, h.dead("target", 0xFFFFFFFF, "peer-1"))
    seeds["dead-peer"] = rec(DGRAM, 1, alive1) + rec(DGRAM, 2, h.dead("peer-1", 1, "peer-2")) + tick(10)
    seeds["leave-peer"] = rec(DGRAM, 1, alive1) + rec(DGRAM, 1, h.dead("peer-1", 1, "peer-1"))
    seeds["alive-port0-vsn1"] = rec(DGRAM, 1, h.compound([h.alive("p0", peer_ip(1), 0), h.alive("v1", peer_ip(2), 7946, vsn=b"\x01")]))
    seeds["alive-self-conflict"] = rec(DGRAM, 2, h.alive("target", peer_ip(2), 7946, inc=5))
    seeds["alive-meta-escapes"] = rec(DGRAM, 1, h.alive("x\x1b[31m", peer_ip(1), 7946, meta=b"\x1b]0;t\x07"))
    seeds["indirect"] = rec(DGRAM, 1, alive1) + rec(DGRAM, 0, bytes([1]) + h.mp_map(
        {"SeqNo": 9, "Target": peer_ip(1), "Port": 7946, "Node": "peer-1", "Nack": True,
         "SourceAddr": peer_ip(0), "SourcePort": 7946, "SourceNode": "peer-0"})) + tick(10)
    seeds["user"] = rec(DGRAM, 0, b"\x08hello")
    empty_ping = bytes([h.PING]) + h.mp_map({})
    seeds["reflection-small"] = rec(DGRAM, 0, h.compress(h.compound([h.compound([empty_ping] * 255)] * 8)))
    seeds["reflection-nested"] = rec(DGRAM, 0, h.compress(h.compound([h.compound([h.compound([empty_ping] * 255)] * 63)])))
    seeds["compound-alives"] = rec(DGRAM, 0, h.compress(h.compound(
        [h.alive("n%03d" % i, bytes([10, 1, i // 256, i % 256]), 7946) for i in range(200)])))
    seeds["pushpull"] = rec(STREAM, 1, push_pull([state("peer-1", peer_ip(1)), state("peer-2", peer_ip(2), st=1)], True, b"USER"))
    seeds["pushpull-self-dead"] = rec(STREAM, 1, push_pull([state("target", target_ip, inc=9, st=2)]))
    seeds["pushpull-one-byte-states"] = rec(STREAM, 1, push_pull([b"\x80"] * 200))
    seeds["pushpull-compressed"] = rec(STREAM, 1, h.compress(push_pull([state("peer-%d" % i, peer_ip(i % 4)) for i in range(4)])))
    seeds["stream-ping"] = rec(STREAM, 0, ping(3, src=0))
    seeds["stream-user"] = rec(STREAM, 0, b"\x08" + h.mp_map({"UserMsgLen": 3}) + b"abc")
    seeds["stream-garbage"] = rec(STREAM, 0, b"\x63\x00\x01")
    reply = push_pull([state("peer-0", peer_ip(0)), state("peer-3", peer_ip(3))], True)
    seeds["join-answered"] = rec(JOIN, 0) + rec(REPLY, 0, reply) + tick(10) + rec(DGRAM, 3, ping(1, src=3))
    seeds["join-failed"] = rec(JOIN, 0) + rec(REPLY, 0, b"")
    seeds["join-err"] = rec(JOIN, 0) + rec(REPLY, 0, bytes([h.ERR]) + h.mp_map({"Error": "no"}))
    seeds["pushpull-periodic"] = rec(DGRAM, 1, alive1) + b"".join(tick(31) for _ in range(12)) + \
        rec(REPLY, 1, push_pull([state("peer-1", peer_ip(1), inc=2)]))
    # The vector files: plaintext, unlabelled entries only (the fuzz node has no keys or label).
    for path in sorted(os.listdir(os.path.join(ROOT, "tests", "vectors"))):
        if not path.endswith(".tsv"):
            continue
        with open(os.path.join(ROOT, "tests", "vectors", path)) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                cols = line.rstrip("\n").split("\t")
                if len(cols) < 4 or cols[1] not in ("msg", "packet", "stream") or "keys=" in cols[2] or "label=" in cols[2]:
                    continue
                try:
                    data = bytes.fromhex(cols[3])
                except ValueError:
                    continue
                if len(data) > 4000:  # the campaign's -max_len is 4096
                    continue
                name = "vec-%s-%s" % (path[:-4], re.sub(r"[^A-Za-z0-9_.-]", "_", cols[0]))
                seeds[name] = bytes([0]) + rec(STREAM if cols[1] == "stream" else DGRAM, 1, data)
    out, seen = {}, set()
    for name, body in sorted(seeds.items()):
        if body in seen:  # v0.1.5 and v0.7.0 often agree byte for byte
            continue
        seen.add(body)
        if not name.startswith("vec-"):
            for cfg in (0x00, 0x08, 0x04):  # defaults; protocol 5 (CRC); small limits
                out["%s-c%02x" % (name, cfg)] = bytes([cfg]) + body
        else:
            out[name] = body
    return out


def config_seeds():
    keys = []
    with open(os.path.join(ROOT, "docs", "config.md")) as f:
        for line in f:
            m = re.match(r"\| `([a-z0-9_.]+)` \| [^|]* \| (\w+) \| ([^|]*) \|", line)
            if m:
                keys.append((m.group(1), m.group(2), m.group(3).strip().strip("`").replace('""', "")))
    edge = {
        "int": ["0", "-1", "1", "65535", "65536", "2147483647", "9223372036854775807", "99999999999999999999", " 7 ", "0x10", "1e3", ""],
        "bool": ["true", "false", "1", "0", "yes", "off", "TRUE", " true", ""],
        "duration": ["0", "1ns", "1.5s", "1m30s", "2h", "-1s", "300ms", "1us", "1\u00b5s", "2562047h", "2562048h",
                     "9223372036854775807ns", "1.0000000001s", ".5s", "5", "1s2", "", "1h1h1h"],
        "string": ["", "x", "\u00e9\u00e8", "a" * 300, "\x01\x7f"],
        "bytes": ["", "000102030405060708090a0b0c0d0e0f", "AAECAwQFBgcICQoLDA0ODw==", "00010203", "zz", "0" * 64],
        "list": ["", "10.0.0.0/8", "10.0.0.0/8,::1/128", "10.0.0.1/33", "garbage", ",,", "0.0.0.0/0, fe80::/10"],
    }
    out = {}
    for i, (key, typ, default) in enumerate(keys):
        out["default-%s" % key] = bytes([i % 3]) + key.encode() + b"\0" + default.encode()
        vals = edge.get(typ, [""])
        out["edges-%s" % key] = bytes([i % 3]) + b"".join(key.encode() + b"\0" + v.encode() + b"\0" for v in vals)
    out["unknown-keys"] = b"\x00" + b"nope\0x\0\0\0NAME\0a\0name \0a\0"
    out["all-defaults"] = b"\x02" + b"".join(k.encode() + b"\0" + d.encode() + b"\0" for k, _, d in keys)
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for target, seeds in (("fuzz_node", node_seeds()), ("fuzz_config", config_seeds())):
        d = os.path.join(sys.argv[1], target)
        os.makedirs(d, exist_ok=True)
        for name, data in sorted(seeds.items()):
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)
        print("%s: %d seeds, %d bytes (sha1 of all: %s)" % (target, len(seeds), sum(map(len, seeds.values())),
              hashlib.sha1(b"".join(seeds[k] for k in sorted(seeds))).hexdigest()[:12]))


if __name__ == "__main__":
    main()
