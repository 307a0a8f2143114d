#!/usr/bin/env bash
# Every test rostrum has, as CI runs it: formatting, lints, docs, then the unit, property and
# integration tests, then a smoke run of the benchmarks (numbers come from `cargo bench`).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --quiet
# The cluster tests start real NATS servers: a current one, pinned (tests/tools/nats-server.sh).
# The partition test (run below, on its own; docs/cluster.md) puts them in
# network namespaces (iproute2's ip, as root) and runs one node with its clock ahead (faketime).
need=(); command -v ip >/dev/null || need+=(iproute2); command -v faketime >/dev/null || need+=(faketime)
# The pages' bundles are run by Node in `cargo test --test bundle`; the web and browser tests need it and npm.
command -v node >/dev/null || need+=(nodejs); command -v npm >/dev/null || need+=(npm)
[ ${#need[@]} -eq 0 ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }
PATH="$(tests/tools/nats-server.sh):$PATH"
export PATH
nats-server --version
# examples/client.py, run by the integration tests, needs Python's `websockets`.
python3 -c 'import websockets' 2>/dev/null || python3 -m pip install --quiet websockets
cargo test --locked
# The cluster under partitions and pauses, two rounds of faults with the history checked, on
# its own so the other tests' load does not stretch its schedule (docs/cluster.md).
ROSTRUM_PARTITION_SECS=120 cargo test --locked --test it partition::the_history -- --nocapture

# The deployment files for real: rostrum behind nginx and Caddy over TLS (installs them if missing).
tests/deploy/run.sh
tests/deploy/cluster.sh

# The consoles: their client logic under Node, then the pages in Debian's Chromium.
node --test web/test/
command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core fonts-noto-cjk >/dev/null; }
(cd tests/browser && npm ci --no-audit --no-fund --silent && node --test --test-concurrency=1 .)
ROSTRUM_BENCH_QUICK=1 cargo bench --locked --bench queue --bench store
