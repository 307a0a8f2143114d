#!/usr/bin/env python3
"""The cluster's numbers (issue 9): fan-out latency from a commander on node A to viewers on
node B through NATS JetStream, against the same load on one node (SQLite, and NATS), and
durable commands per second on SQLite, one NATS server, and three NATS servers keeping three
copies, each with NATS's default fsync interval and with `sync_interval: always`. Real processes:
the nats-server on PATH (tests/tools/nats-server.sh's pinned one), the release binary, `rostrum
bench`.

    python3 benches/cluster.py              # writes its section of docs/performance.md
    python3 benches/cluster.py --runs 3 --no-write

Nothing is pinned: up to three NATS servers, two nodes and the load generator share the cores,
so read the ratios, which are taken within one run of this script.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table import write_section  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release/rostrum")
ADMIN = "bench-admin-token"
SECRET = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, what):
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


class Procs:
    """Processes started for one scenario, stopped together."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="rostrum-cluster-bench-")
        self.procs = []

    def spawn(self, name, cmd, env=None):
        log = open(os.path.join(self.dir, f"{name}.log"), "w")
        p = subprocess.Popen(cmd, stdout=log, stderr=log, env={**os.environ, **(env or {})})
        self.procs.append(p)
        return p

    def nats(self, servers, sync=False):
        """`servers` NATS servers (routed to each other when more than one), each flushing every
        write before acknowledging it when `sync`; their URLs."""
        ports = [free_port() for _ in range(servers)]
        routes = [free_port() for _ in range(servers)]
        for i in range(servers):
            conf = f"server_name: n{i}\nlisten: 127.0.0.1:{ports[i]}\n" \
                   f"jetstream {{ store_dir: {os.path.join(self.dir, f'js{i}')!r}" \
                   + (", sync_interval: always" if sync else "") + " }\n"
            if servers > 1:
                conf += f"cluster {{ name: bench, listen: 127.0.0.1:{routes[i]}, routes: [" \
                        + ", ".join(f"nats-route://127.0.0.1:{r}" for r in routes) + "] }\n"
            path = os.path.join(self.dir, f"nats{i}.conf")
            open(path, "w").write(conf.replace("'", '"'))
            self.spawn(f"nats{i}", ["nats-server", "-c", path])
        for p in ports:
            wait_port(p, "nats-server")
        return [f"nats://127.0.0.1:{p}" for p in ports]

    def node(self, name, store, replicas=1):
        """A rostrum node; its URL."""
        port = free_port()
        data = os.path.join(self.dir, name)
        cmd = [BIN, "serve", "--bind", f"127.0.0.1:{port}", "--data-dir", data,
               "--admin-token", ADMIN, "--secret", SECRET, "--store", store,
               "--nats-replicas", str(replicas),
               "--messages-per-sec", "100000", "--message-burst", "100000",
               "--max-connections-per-ip", "100000", "--api-per-sec", "100000", "--api-burst", "100000"]
        p = self.spawn(name, cmd, {"RUST_LOG": "warn"})
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 40
        while True:
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=0.5).read()
                return url
            except OSError:
                if time.time() > deadline or p.poll() is not None:
                    raise RuntimeError(f"{name} did not start; see {self.dir}/{name}.log")
                time.sleep(0.1)

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def bench(url, args, viewers_url=None):
    cmd = [BIN, "bench", "--json", "--url", url, "--admin-token", ADMIN] + [str(a) for a in args]
    if viewers_url:
        cmd += ["--viewers-url", viewers_url]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "RUST_BACKTRACE": "0"})
    if out.returncode != 0:
        raise RuntimeError(f"bench {args} failed: {out.stderr}")
    return json.loads(out.stdout)


FANOUT = ["--viewers", 1000, "--rate", 20, "--duration", "20s"]
DURABLE = ["--sessions", 20, "--viewers", 5, "--commanders", 2, "--rate", 0, "--window", 8,
           "--duration", "10s"]


# Each scenario: NATS servers (0: the node uses SQLite), the load, whether the viewers connect
# to a second node, and whether NATS flushes every write before acknowledging it.
SCENARIOS = {
    "fanout_sqlite": (0, FANOUT, False, False),
    "fanout_nats_one_node": (1, FANOUT, False, False),
    "fanout_nats_cross_node": (1, FANOUT, True, False),
    "durable_sqlite": (0, DURABLE, False, False),
    "durable_nats_r1": (1, DURABLE, False, False),
    "durable_nats_r1_sync": (1, DURABLE, False, True),
    "durable_nats_r3": (3, DURABLE, False, False),
    "durable_nats_r3_sync": (3, DURABLE, False, True),
}


def scenario(name):
    """Run one scenario on fresh processes; its report."""
    servers, load, cross, sync = SCENARIOS[name]
    procs = Procs()
    try:
        store = ",".join(procs.nats(servers, sync)) if servers else "sqlite"
        a = procs.node("a", store, replicas=max(servers, 1))
        b = procs.node("b", store) if cross else None
        return bench(a, load, viewers_url=b)
    finally:
        procs.stop()
        time.sleep(1)


def table(r):
    base = r["fanout_sqlite"]["delivery"]
    rows = ["| Fan-out, 1,000 viewers, 20 commands/s | delivery p50 | p99 | p99 / one node on SQLite |",
            "|---|---|---|---|"]
    for name, label in [("fanout_sqlite", "one node, SQLite (baseline)"),
                        ("fanout_nats_one_node", "one node, NATS (1 server)"),
                        ("fanout_nats_cross_node", "commander on node A, viewers on node B, NATS")]:
        d = r[name]["delivery"]
        rows.append(f"| {label} | {d['p50_ms']:.2f} ms | {d['p99_ms']:.2f} ms | {d['p99_ms'] / base['p99_ms']:.2f}x |")
    base_rate = r["durable_sqlite"]["commands"]["acked"] / r["durable_sqlite"]["duration_secs"]
    rows += ["", "| Durable commands, 20 sessions x 2 commanders, 8 in flight each | acknowledged/s | command p99 | rate / SQLite |",
             "|---|---|---|---|"]
    for name, label in [("durable_sqlite", "one node, SQLite `synchronous=FULL` (baseline)"),
                        ("durable_nats_r1", "one node, NATS, 1 server"),
                        ("durable_nats_r1_sync", "one node, NATS, 1 server, `sync_interval: always`"),
                        ("durable_nats_r3", "one node, NATS, 3 servers, 3 replicas"),
                        ("durable_nats_r3_sync", "one node, NATS, 3 servers, 3 replicas, `sync_interval: always`")]:
        rep = r[name]
        rate = rep["commands"]["acked"] / rep["duration_secs"]
        rows.append(f"| {label} | {rate:,.0f} | {rep['command']['p99_ms']:.2f} ms | {rate / base_rate:.2f}x |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1, help="runs per scenario (the median p99 kept)")
    ap.add_argument("--no-write", action="store_true", help="print, do not edit docs/performance.md")
    opts = ap.parse_args()
    if not shutil.which("nats-server"):
        sys.exit("nats-server is not on PATH: PATH=\"$(tests/tools/nats-server.sh):$PATH\"")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "rostrum"], cwd=ROOT, check=True)
    started = time.time()
    results = {}
    for name in SCENARIOS:
        reports = [scenario(name) for _ in range(opts.runs)]
        key = (lambda x: x["delivery"]["p99_ms"]) if name.startswith("fanout") else \
            (lambda x: x["commands"]["acked"])
        results[name] = sorted(reports, key=key)[len(reports) // 2]
        rep = results[name]
        print(f"{name}: delivery p99 {rep['delivery']['p99_ms']:.2f} ms, "
              f"{rep['commands']['acked']} acked in {rep['duration_secs']} s", flush=True)
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                         capture_output=True, text=True).stdout.strip()
    nats = subprocess.run(["nats-server", "--version"], capture_output=True, text=True).stdout.strip()
    block = (f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores ({cpu}), loopback, {nats}, "
             f"nothing pinned, by `python3 benches/cluster.py {' '.join(sys.argv[1:])}` "
             f"({(time.time() - started) / 60:.0f} min, {opts.runs} run(s) per scenario, median).\n\n"
             + table(results) + "\n\n<details><summary>Raw reports</summary>\n\n```json\n"
             + "\n".join(json.dumps({"scenario": k, **v}) for k, v in results.items())
             + "\n```\n</details>")
    print(block)
    if not opts.no_write:
        write_section("cluster-table", block)


if __name__ == "__main__":
    main()
