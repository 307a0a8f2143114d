#!/usr/bin/env python3
"""Two builds of the hub against each other: BASE (another build's binary, e.g. one made at an
earlier commit) and this tree's `target/release/rostrum`, alternating run by run on the same
scenarios as benches/table.py, the server pinned to CPU 0 and this tree's `rostrum bench` on
CPU 1 for both. Prints each run and the medians; it writes nothing.

    git worktree add /tmp/base REV && (cd /tmp/base && cargo build --release --bin rostrum)
    python3 benches/ab.py /tmp/base/target/release/rostrum --runs 3 --only saturation,plenary
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import table  # noqa: E402

NEW = table.HUB


def run(binary, args):
    """One scenario against a fresh server made from `binary`; the bench is always this tree's."""
    table.HUB = binary
    server = table.Server("hub", "0")
    try:
        cmd = ["taskset", "-c", "1", NEW, "bench", "--json", "--url", f"http://127.0.0.1:{table.PORT}",
               "--pid", str(server.proc.pid), "--admin-token", table.ADMIN] + [str(a) for a in args]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        return json.loads(out.stdout)
    finally:
        server.stop()
        time.sleep(2)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("base", help="the other build's rostrum binary")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--only", default="saturation,plenary,steady_200")
    opts = p.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "rostrum"], cwd=table.ROOT, check=True)
    scenarios = table.scenarios(5)
    for name in opts.only.split(","):
        reports = {"base": [], "this": []}
        for _ in range(opts.runs):
            for kind, binary in (("base", opts.base), ("this", NEW)):
                r = run(binary, scenarios[name])
                reports[kind].append(r)
                print(f"{name} {kind}: p99 {r['delivery']['p99_ms']:.2f} ms, {r['deliveries_per_sec']:.0f}/s, "
                      f"{r['server']['cpu_us_per_delivery']:.2f} us/delivery", flush=True)
        for kind, rs in reports.items():
            print(f"== {name} {kind}: median p99 {statistics.median(r['delivery']['p99_ms'] for r in rs):.2f} ms, "
                  f"{statistics.median(r['deliveries_per_sec'] for r in rs):.0f}/s, "
                  f"{statistics.median(r['server']['cpu_us_per_delivery'] for r in rs):.2f} us/delivery", flush=True)


if __name__ == "__main__":
    main()
