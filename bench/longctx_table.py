#!/usr/bin/env python3
"""Merges attnscope-bench-longctx and hf_eager_baseline.py JSON lines into the issue-10 table.

    python3 bench/longctx_table.py results.jsonl
"""
import json, sys


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    by = {}
    for r in rows:
        by.setdefault((r["shape"], r["T"]), {})[r["impl"]] = r
    print("| shape | T | (a) ours: forward + all-layer stats (s) | (a) peak GiB | (a') + pooled maps (s) | ours: forward alone (s) "
          "| (b) HF eager + column sums (s) | (b) peak GiB | (c) HF SDPA forward (s) | (c) peak GiB "
          "| (a)/(c) | (a')/(c) | (a-) no entropy (s) | (a-)/(c) | (b)/(a) | memory (b)/(a) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (shape, T) in sorted(by, key=lambda k: (k[0], k[1])):
        d = by[(shape, T)]
        a, b, c = d.get("ours"), d.get("hf_eager_colsum"), d.get("hf_sdpa")

        def cell(r, key="time_s", fmt="%.3f"):
            if r is None:
                return "n/a"
            if r.get("oom"):
                return "OOM"
            return fmt % r[key]

        ta = a["stats_s"] if a else None
        tb = b["time_s"] if b and not b.get("oom") else None
        tc = c["time_s"] if c and not c.get("oom") else None
        ratio_ac = "%.2f" % (ta / tc) if ta and tc else "n/a"
        ratio_mc = "%.2f" % (a["maps_s"] / tc) if a and tc else "n/a"
        lean = "%.3f" % a["lean_s"] if a and "lean_s" in a else "n/a"
        ratio_lc = "%.2f" % (a["lean_s"] / tc) if a and tc and "lean_s" in a else "n/a"
        ratio_ba = "%.2f" % (tb / ta) if ta and tb else ("OOM" if b and b.get("oom") else "n/a")
        mem_ba = "%.2f" % (b["peak_gib"] / a["peak_gib"]) if a and b and not b.get("oom") else "n/a"
        print(f"| {shape} | {T} | {'%.3f' % ta if ta else 'n/a'} | {'%.2f' % a['peak_gib'] if a else 'n/a'} "
              f"| {'%.3f' % a['maps_s'] if a else 'n/a'} | {'%.3f' % a['forward_s'] if a else 'n/a'} | {cell(b)} | {cell(b, 'peak_gib', '%.2f') if b and not b.get('oom') else ('OOM at %.1f' % b['peak_gib'] if b else 'n/a')} "
              f"| {cell(c)} | {cell(c, 'peak_gib', '%.2f')} | {ratio_ac} | {ratio_mc} | {lean} | {ratio_lc} | {ratio_ba} | {mem_ba} |")


if __name__ == "__main__":
    main()
