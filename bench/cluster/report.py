#!/usr/bin/env python3
"""Tables and plots of bench/run_cluster.sh's results.

    report.py --out RESULTS_DIR [--doc docs/bench/cluster.md] [--readme README.md] [--png docs/bench]

RESULTS_DIR holds results.tsv (idle rows), msgs.tsv (workload rows), ceiling.tsv (hold rows) and
run.txt. Each .tsv may hold many header lines ("impl\t..."); each row uses the header above it.
Without --doc the tables are printed. With --doc the generated sections between
"<!-- BEGIN cluster-... -->" and "<!-- END ... -->" markers are replaced and the rest of the
file is kept; --readme does the same for the README's "cluster-headline" section.
"""
import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

IMPLS = ("ours", "real", "c", "pool")
LABEL = {"ours": "ours (Go)", "real": "memberlist", "c": "ours (C, 1 runtime)", "pool": "ours (Go, shared runtimes)"}


def read_tsv(path):
    rows, header = [], None
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            cells = line.rstrip("\n").split("\t")
            if cells[0] == "impl":
                header = cells
                continue
            if header and len(cells) >= 2:
                rows.append(dict(zip(header, cells)))
    return rows


def num(v):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def stats(values):
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    return v[0], statistics.median(v), v[-1]


def fmt(x, digits=None):
    if x is None:
        return "—"
    if digits is None:
        digits = 0 if abs(x) >= 100 else 1 if abs(x) >= 10 else 2 if abs(x) >= 1 else 3 if abs(x) >= 0.01 else 4
    return f"{x:.{digits}f}"


def mmm(s):
    return "—" if s is None else f"{fmt(s[1])} ({fmt(s[0])}–{fmt(s[2])})" if s[0] != s[2] else fmt(s[1])


class Results:
    def __init__(self, out):
        self.idle = read_tsv(os.path.join(out, "results.tsv"))
        self.msgs = read_tsv(os.path.join(out, "msgs.tsv"))
        self.ceil = read_tsv(os.path.join(out, "ceiling.tsv"))
        self.run = {}
        p = os.path.join(out, "run.txt")
        if os.path.exists(p):
            for line in open(p):
                k, _, v = line.rstrip("\n").partition("\t")
                self.run[k] = v
        self.sizes = sorted({int(r["n"]) for r in self.idle if num(r.get("n"))})
        self.impls = [i for i in IMPLS if any(r["impl"] == i for r in self.idle)]
        if self.run.get("pool_runtimes"):
            LABEL["pool"] = f"ours (Go, {self.run['pool_runtimes']} shared runtimes)"

    def rows(self, impl, n):
        return [r for r in self.idle if r["impl"] == impl and int(r["n"]) == n]

    def stat(self, impl, n, col, only_ok=True):
        rs = [r for r in self.rows(impl, n) if not only_ok or r.get("status") in ("ok", "unstable", "nodetect", "noleave")]
        return stats(num(r.get(col)) for r in rs)

    def med(self, impl, n, col):
        s = self.stat(impl, n, col)
        return None if s is None else s[1]

    def outcome(self, impl, n):
        """'' when every repetition measured; otherwise the statuses, e.g. 'noconverge 3/3'."""
        rs = self.rows(impl, n)
        bad = [r["status"] for r in rs if r.get("status") != "ok"]
        if not rs:
            return "not run"
        if not bad:
            return ""
        counts = {}
        bad = ["not tried" if b == "skipped" else b for b in bad]
        for b in bad:
            counts[b] = counts.get(b, 0) + 1
        return ", ".join(f"{k} {v}/{len(rs)}" for k, v in sorted(counts.items()))


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def cell_pair(res, n, col, digits=None, impl="ours"):
    o, r = res.med(impl, n, col), res.med("real", n, col)
    ro = res.outcome("real", n)
    rtxt = fmt(r, digits) if r is not None else (ro or "—")
    return f"{fmt(o, digits)} / {rtxt}", ratio(o, r)


def headline(res):
    out = ["| N | CPU s/node/min ours / memberlist | ratio | RSS KB/node ours / memberlist | ratio | create+join s "
           "ours / memberlist | all alive s ours / memberlist | detect s ours / memberlist | C harness CPU · RSS |"
           + (" Go, shared runtimes: CPU (ratio) · RSS (ratio) |" if "pool" in res.impls else ""),
           "|---|---|---|---|---|---|---|---|---|" + ("---|" if "pool" in res.impls else "")]
    for n in res.sizes:
        cpu, cr = cell_pair(res, n, "cpu_s_node_min", 4)
        rss, rr = cell_pair(res, n, "rss_kb_node", 0)
        cj = []
        for impl in ("ours", "real"):
            a, b = res.med(impl, n, "create_s"), res.med(impl, n, "join_s")
            cj.append(fmt(a + b) if a is not None and b is not None else (res.outcome(impl, n) or "—"))
        conv, _ = cell_pair(res, n, "converge_s")
        det, _ = cell_pair(res, n, "detect_s")
        c = "—"
        if res.med("c", n, "cpu_s_node_min") is not None:
            c = f"{fmt(res.med('c', n, 'cpu_s_node_min'), 4)} · {fmt(res.med('c', n, 'rss_kb_node'), 0)} KB"
        elif res.rows("c", n):
            c = res.outcome("c", n)
        p = ""
        if "pool" in res.impls:
            pc, pr = res.med("pool", n, "cpu_s_node_min"), res.med("pool", n, "rss_kb_node")
            if pc is not None:
                p = (f" {fmt(pc, 4)} ({ratio(pc, res.med('real', n, 'cpu_s_node_min'))}) · "
                     f"{fmt(pr, 0)} KB ({ratio(pr, res.med('real', n, 'rss_kb_node'))}) |")
            else:
                p = f" {res.outcome('pool', n) or '—'} |"
        out.append(f"| {n:,} | {cpu} | {cr} | {rss} | {rr} | {' / '.join(cj)} | {conv} | {det} | {c} |{p}")
    return "\n".join(out)


def detail(res):
    cols = [("create_s", "create s"), ("join_s", "join s"), ("converge_s", "all alive s (from the first create)"),
            ("settle_s", "broadcast drain s"), ("cpu_s_node_min", "CPU s/node/min"), ("rss_kb_node", "RSS KB/node"),
            ("detect_s", "kill → all survivors drop it, s"), ("leave_s", "Leave → all drop it, s")]
    out = ["Median (min–max) over the repetitions that measured; an empty outcome means every repetition passed.", "",
           "| N | impl | runs | " + " | ".join(c[1] for c in cols) + " | suspicions / deaths | outcome |",
           "|---|---|---|" + "---|" * len(cols) + "---|---|"]
    for n in res.sizes:
        for impl in res.impls:
            rs = res.rows(impl, n)
            if not rs:
                continue
            sd = f"{sum(int(num(r.get('suspects')) or 0) for r in rs)} / {sum(int(num(r.get('deaths')) or 0) for r in rs)}"
            cells = [mmm(res.stat(impl, n, c)) for c, _ in cols]
            out.append(f"| {n:,} | {LABEL[impl]} | {len(rs)} | " + " | ".join(cells) + f" | {sd} | {res.outcome(impl, n)} |")
    return "\n".join(out)


def messages(res):
    if not res.msgs:
        return "_No message workload in this run._"
    out = ["| N | path | impl | delivered/s | delivered / expected | p50 ms | p99 ms | CPU s/node/min |",
           "|---|---|---|---|---|---|---|---|"]
    order = ("best_effort", "reliable", "broadcast", "best_effort_paced", "reliable_paced")
    keys = sorted({(int(r["n"]), r["path"]) for r in res.msgs}, key=lambda k: (k[0], order.index(k[1]) if k[1] in order else 9))
    for n, path in keys:
        for impl in IMPLS:
            rs = [r for r in res.msgs if r["impl"] == impl and int(r["n"]) == n and r["path"] == path]
            if not rs:
                continue
            rate = stats(num(r["rate_per_s"]) for r in rs)
            dl = sum(int(num(r["delivered"]) or 0) for r in rs)
            ex = sum(int(num(r.get("expected")) or num(r["sent"]) or 0) for r in rs)
            p50 = stats(num(r["p50_ms"]) for r in rs)
            p99 = stats(num(r["p99_ms"]) for r in rs)
            cpu = stats(num(r.get("cpu_s_node_min")) for r in rs)
            share = f"{dl:,} / {ex:,} ({100 * dl / ex:.1f}%)" if ex else f"{dl:,}"
            out.append(f"| {n:,} | {path} | {LABEL[impl]} | {mmm(rate)} | {share} | {mmm(p50)} | {mmm(p99)} | {mmm(cpu)} |")
    return "\n".join(out)


def ceilings(res):
    """Per impl: the largest N whose hold passed, and the first N that did not."""
    result = {}
    for impl in IMPLS:
        rs = sorted((r for r in res.ceil if r["impl"] == impl), key=lambda r: int(r["n"]))
        if not rs:
            continue
        held = [int(r["n"]) for r in rs if r.get("status") == "ok"]
        failed = [r for r in rs if r.get("status") != "ok"]
        result[impl] = (max(held) if held else None, failed[0] if failed else None, rs)
    return result


def ceiling_table(res, hold):
    ce = ceilings(res)
    if not ce:
        return "_The ceiling phase did not run._"
    out = [f"Each N held {hold} s after convergence and the drain, with no suspicion and no death; N doubles until a side fails.", "",
           "| impl | sizes tried | largest N that held | first N that did not, and how |", "|---|---|---|---|"]
    for impl, (held, fail, rs) in ce.items():
        how = "— (none failed up to the largest size tried)"
        if fail is not None:
            how = f"{int(fail['n']):,}: {fail.get('status')} (suspicions {fail.get('suspects', '—')}, deaths {fail.get('deaths', '—')})"
        tried = ", ".join(f"{int(r['n']):,}" for r in rs)
        out.append(f"| {LABEL[impl]} | {tried} | {f'{held:,}' if held else 'none'} | {how} |")
    return "\n".join(out)


def targets(res):
    lines = ["| target | our figure | met? |", "|---|---|---|"]

    def add(name, fig, ok):
        lines.append(f"| {name} | {fig} | {'yes' if ok else 'no' if ok is not None else 'not measured'} |")

    sides = [i for i in ("ours", "pool") if i in res.impls]
    for n in (128, 256):
        for impl in sides:
            tag = "" if impl == "ours" else f", {LABEL[impl]}"
            for col, goal, what in (("cpu_s_node_min", 0.3, "CPU per node (idle)"), ("rss_kb_node", 0.25, "RSS per node")):
                o, r = res.med(impl, n, col), res.med("real", n, col)
                add(f"{what} ≤ {goal}× memberlist's at N = {n}{tag}", ratio(o, r) if o and r else "—",
                    (o / r <= goal) if o and r else None)
            # At the same offered load only: the paced paths and broadcasts (a flat-out path does
            # as much work as the side manages, so its CPU is no comparison). Older runs: all.
            same_load = [r for r in res.msgs if r["path"].endswith("_paced") or r["path"] == "broadcast"]
            rows = same_load if any(r["path"].endswith("_paced") for r in same_load) else res.msgs
            ow = [r for r in rows if r["impl"] == impl and int(r["n"]) == n]
            rw = [r for r in rows if r["impl"] == "real" and int(r["n"]) == n]
            paths = sorted({r["path"] for r in ow} & {r["path"] for r in rw})
            if paths:
                # The whole workload: each path's median, summed over the paths both sides ran.
                def total(side):
                    return sum(statistics.median(num(r["cpu_s_node_min"]) for r in side if r["path"] == p)
                               for p in paths)
                o, r = total(ow), total(rw)
                add(f"CPU per node under the message workload (same offered load) ≤ 0.3× at N = {n}{tag}", ratio(o, r), o / r <= 0.3)
    ce = ceilings(res)
    real_ceiling = ce.get("real", (None,))[0]
    for impl, goal in (("ours", 5), ("pool", 5), ("c", 10)):
        mine = ce.get(impl, (None,))[0]
        fig = f"{mine or 'none'} vs {real_ceiling or 'none'}"
        if impl in ce and ce[impl][1] is None and mine:
            fig += " (did not fail: a lower bound)"
        if impl == "pool" and impl not in ce:
            continue
        add(f"scale ceiling ≥ {goal}× memberlist's ({LABEL[impl]})", fig,
            (mine / real_ceiling >= goal) if mine and real_ceiling else None)
    for impl in sides:
        rs = res.rows(impl, 1024)
        what = "create+join of 1,024 nodes ≤ 10 s (" + ("Go package" if impl == "ours" else LABEL[impl]) + ")"
        cj = [r for r in rs if r.get("status") != "nojoin" and num(r.get("join_s")) is not None and num(r.get("create_s")) is not None]
        if cj:
            t = statistics.median(num(r["create_s"]) + num(r["join_s"]) for r in cj)
            add(what, f"{t:.1f} s", t <= 10)
        elif rs:
            add(what, f"did not finish joining within the deadline ({res.outcome(impl, 1024)})", False)
    slower = []
    for impl in sides:
        tag = "" if impl == "ours" else f" ({LABEL[impl]})"
        for n in res.sizes:
            for col in ("converge_s", "detect_s", "leave_s"):
                o, r = res.med(impl, n, col), res.med("real", n, col)
                if o is not None and r is not None and o > r * 1.1:
                    slower.append(f"{col} at {n}{tag}: {o:.2f} vs {r:.2f} s")
    add("convergence and detection no slower than memberlist's (10% noise allowance)", "; ".join(slower) or "never slower", not slower)
    # Flat-out paths measure throughput (their latency is the queueing of a saturated cluster);
    # paced paths measure latency at the same offered rate on both sides; broadcasts both.
    judged = (("best_effort", True, False), ("reliable", True, False), ("broadcast", True, True),
              ("best_effort_paced", False, True), ("reliable_paced", False, True))
    for path, rate, latency in judged:
        if not any(r["path"] == path for r in res.msgs):
            continue
        worse = []
        for n in sorted({int(r["n"]) for r in res.msgs}):
            def col(impl, c):
                return [num(r[c]) for r in res.msgs if r["impl"] == impl and int(r["n"]) == n and r["path"] == path]
            o, t = col("ours", "rate_per_s"), col("real", "rate_per_s")
            if rate and o and t and statistics.median(o) < 0.95 * statistics.median(t):
                worse.append(f"rate at {n}: {statistics.median(o):.0f} vs {statistics.median(t):.0f}/s")
            for q in ("p50_ms", "p99_ms") if latency else ():
                o, t = col("ours", q), col("real", q)
                if o and t and None not in o + t and statistics.median(o) > 1.1 * statistics.median(t):
                    worse.append(f"{q[:3]} at {n}: {statistics.median(o):.2f} vs {statistics.median(t):.2f} ms")
        what = "throughput and latency" if rate and latency else "throughput" if rate else "latency"
        add(f"{path}: {what} ≥ memberlist's", "; ".join(worse) or "never worse", not worse)
    return "\n".join(lines)


def machine(res):
    r = res.run
    return (f"Run {r.get('date', '?')} on {r.get('machine', '?')}; load average before {r.get('load_before', '?')}, "
            f"after {r.get('load_after', '?')}; {r.get('elapsed_s', '?')} s in all. Settings: `{r.get('settings', '?')}`"
            + (f"; the ceiling phase was run again at {r['ceiling_run']}." if "ceiling_run" in r else "."))


def plot(res, pngdir):
    if not shutil.which("gnuplot"):
        print("report.py: gnuplot not found (apt-get install gnuplot-nox); no PNG", file=sys.stderr)
        return []
    tmp = tempfile.mkdtemp()
    try:
        for impl in IMPLS:
            with open(os.path.join(tmp, f"{impl}.dat"), "w") as f:
                for n in res.sizes:
                    vals = [res.stat(impl, n, c) for c in ("cpu_s_node_min", "rss_kb_node", "converge_s", "detect_s")]
                    if all(v is None for v in vals):
                        continue
                    cells = []
                    for v in vals:
                        cells += ["NaN"] * 3 if v is None else [repr(v[1]), repr(v[0]), repr(v[2])]
                    f.write(f"{n} " + " ".join(cells) + "\n")
        ce = ceilings(res)
        with open(os.path.join(tmp, "ceiling.dat"), "w") as f:
            for i, impl in enumerate(IMPLS):
                if impl in ce:
                    f.write(f'{i} "{LABEL[impl]}" {ce[impl][0] or 0} {1 if ce[impl][1] is None else 0}\n')
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plot.gp")
        subprocess.run(["gnuplot", "-e", f"dir='{tmp}'; outdir='{pngdir}'", script], check=True)
    finally:
        shutil.rmtree(tmp)
    return ["cluster-per-node.png", "cluster-ceiling.png"]


def replace_section(path, name, content, title):
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    text = open(path).read() if os.path.exists(path) else ""
    if begin not in text:
        text = (text or f"# {title}\n") + f"\n{begin}\n{end}\n"
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    with open(path, "w") as f:
        f.write(f"{head}{begin}\n{content}\n{end}{tail}")
    print(f"== wrote {path} ({name})", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--doc")
    ap.add_argument("--readme")
    ap.add_argument("--png")
    a = ap.parse_args()
    res = Results(a.out)
    if not res.idle:
        sys.exit(f"report.py: no results in {a.out}")
    settings = res.run.get("ceiling_run", "").replace(",", " ") + " " + res.run.get("settings", "")
    hold = next((p.split("=")[1] for p in settings.split() if p.startswith("HOLD=")), "?")
    sections = {
        "cluster-machine": machine(res),
        "cluster-headline": headline(res),
        "cluster-targets": targets(res),
        "cluster-detail": detail(res),
        "cluster-messages": messages(res),
        "cluster-ceiling": ceiling_table(res, hold),
    }
    if not a.doc:
        for k, v in sections.items():
            print(f"## {k}\n\n{v}\n")
        return
    if a.png:
        plot(res, a.png)
    for k, v in sections.items():
        replace_section(a.doc, k, v, "Cluster benchmark: libmemberlist against hashicorp/memberlist")
    if a.readme:
        replace_section(a.readme, "cluster-headline", machine(res) + "\n\n" + headline(res), "README")


if __name__ == "__main__":
    main()
