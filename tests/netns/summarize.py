#!/usr/bin/env python3
"""Prints the results netns.py appended to a JSON-lines file (--json) as Markdown tables, one
row per run and variant, for docs/reliability.md.  Usage: summarize.py results.jsonl..."""
import json
import sys

COLS = {
    "loss10": ["false_deaths", "suspicions", "tcp_fallback_ok_lines", "tcp_fallback_failed_lines", "full_after"],
    "loss20": ["false_deaths", "suspicions", "tcp_fallback_ok_lines", "tcp_fallback_failed_lines", "full_after"],
    "loss30": ["false_deaths", "suspicions", "tcp_fallback_ok_lines", "tcp_fallback_failed_lines", "full_after"],
    "sigstop": ["suspected_after_s", "declared_dead_by", "alive_again_after_s", "other_deaths"],
    "partition": ["first_far_death_s", "last_far_death_s", "own_declarations", "max_health_score", "healed", "heal_s", "heal_waited_s",
                  "same_side_deaths"],
    "restart": ["down_s", "alive_after_s", "suspected_by", "max_leaves_per_observer", "max_joins_per_observer",
                "conflict_lines", "other_deaths"],
    "renumber": ["moved_after_s", "moved_by", "observers", "stays_moved", "conflict_lines_others", "conflict_lines_restarted",
                 "reclaim_lines", "max_leaves_per_observer", "max_joins_per_observer", "other_deaths"],
    "udpblock": ["fallback_seen_after_s", "victim_deaths"],
    "soak": ["minutes", "churn", "sends", "growth", "full_at_end"],
}


def cell(v):
    if isinstance(v, list):
        return str(len(v))
    if isinstance(v, dict):
        return ", ".join(f"{k} {x}" for k, x in v.items())
    return "—" if v is None else str(v)


def steady(rows):
    by = {}
    for r in rows:
        by.setdefault(r["kind"], []).append(r)
    out = []
    for kind, rs in sorted(by.items()):
        rss = sorted(r["rss_kib"] for r in rs)
        cpu = sorted(r["cpu_pct"] for r in rs)
        out.append(f"{kind} ×{len(rs)}: RSS {rss[len(rss) // 2] / 1024:.1f} MiB (max {rss[-1] / 1024:.1f}), "
                   f"CPU {cpu[len(cpu) // 2]:.2f}% (max {cpu[-1]:.2f}%), threads {rs[0]['threads']}, fds {rs[0]['fds']}")
    return "; ".join(out)


def main():
    runs = []
    for path in sys.argv[1:]:
        with open(path) as f:
            runs += [json.loads(l) for l in f if l.strip()]
    for sc in ["loss10", "loss20", "loss30", "sigstop", "partition", "restart", "renumber", "udpblock", "steady", "soak"]:
        rs = [r for r in runs if r["scenario"] == sc]
        if not rs:
            continue
        print(f"\n### {sc}\n")
        if sc == "steady":
            for r in rs:
                for v, res in r["results"].items():
                    print(f"- {r['time']} {'long' if r['long'] else 'CI'} {v}: {steady(res.get('agents', []))}")
            continue
        cols = COLS[sc]
        print("| run | variant | " + " | ".join(cols) + " | wall s |")
        print("|---|---|" + "---|" * len(cols) + "---|")
        for r in rs:
            for v, res in r["results"].items():
                err = f" (error: {res['error']})" if "error" in res else ""
                print(f"| {r['time']} {'long' if r['long'] else 'CI'} | {v}{err} | "
                      + " | ".join(cell(res.get(c)) for c in cols) + f" | {res.get('wall_s')} |")


if __name__ == "__main__":
    main()
