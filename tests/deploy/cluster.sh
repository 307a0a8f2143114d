#!/usr/bin/env bash
# deploy/cluster run for real, without Docker: the three NATS servers from their shipped
# configurations, the two rostrum nodes with compose.yaml's settings, nginx with the cluster's
# nginx.conf (only addresses, ports and paths substituted). A session is driven through the
# proxy; the node that served it is killed with SIGKILL; the next socket through the proxy
# resumes on the other node with nothing lost. Installs Debian's nats-server and nginx if
# missing. Exits nonzero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v nats-server >/dev/null || need+=(nats-server)
command -v nginx >/dev/null || need+=(nginx-light)
python3 -c 'import yaml' 2>/dev/null || need+=(python3-yaml)
# shellcheck source=tests/deploy/common.sh
. tests/deploy/common.sh

echo "deploy/cluster: three NATS servers, two nodes, nginx"
declare -A client route monitor
for i in 1 2 3; do client[$i]=$(free_port) route[$i]=$(free_port) monitor[$i]=$(free_port); done
drop_sync=()
nats-server --version | grep -Eq 'v2\.[0-9]\.' && drop_sync=(-e "/sync_interval/d")
for i in 1 2 3; do
    # tests/run.sh puts a current nats-server first on PATH; Debian's 2.9 predates
    # sync_interval (docs/cluster.md), so with that one the line is dropped. Everything else is
    # the file as shipped.
    sed -e "s#listen: 0.0.0.0:4222#listen: 127.0.0.1:${client[$i]}#" \
        -e "s#http: 0.0.0.0:8222#http: 127.0.0.1:${monitor[$i]}#" \
        -e "s#listen: 0.0.0.0:6222#listen: 127.0.0.1:${route[$i]}#" \
        -e "s#store_dir: /data#store_dir: $T/nats-$i#" \
        -e "s#nats-route://nats-1:6222#nats-route://127.0.0.1:${route[1]}#" \
        -e "s#nats-route://nats-2:6222#nats-route://127.0.0.1:${route[2]}#" \
        -e "s#nats-route://nats-3:6222#nats-route://127.0.0.1:${route[3]}#" \
        "${drop_sync[@]}" \
        "deploy/cluster/nats-$i.conf" >"$T/nats-$i.conf"
    if grep -v '^ *#' "$T/nats-$i.conf" | grep -Eq '0\.0\.0\.0|nats-[123]:|/data\b'; then
        fail "deploy/cluster/nats-$i.conf changed: the test's substitutions no longer apply"
    fi
    nats-server -t -c "$T/nats-$i.conf" >/dev/null 2>&1 || fail "nats-server -t nats-$i.conf: $(nats-server -t -c "$T/nats-$i.conf" 2>&1)"
    nats-server -c "$T/nats-$i.conf" >"$T/nats-$i.log" 2>&1 &
    pids+=($!)
done
for i in 1 2 3; do wait_port 127.0.0.1 "${client[$i]}" "nats-$i"; done
ok "the three NATS servers start from deploy/cluster/nats-{1,2,3}.conf"

# The nodes' settings: compose.yaml's environment, cluster.env.example's, this run's addresses.
proxy=$(free_port)
token=cluster-test-admin-token
eval "$(python3 - <<'EOF'
import shlex, yaml
env = yaml.safe_load(open("deploy/cluster/compose.yaml"))["x-rostrum"]["environment"]
for k, v in env.items():
    print(f"export {k}={shlex.quote(str(v))}")
EOF
)"
declare -A node_port node_pid
start_node() { # name
    node_port[$1]=$(free_port)
    (
        set -a
        # shellcheck source=/dev/null
        . deploy/cluster/cluster.env.example
        ROSTRUM_SECRET=$(printf '%064d' 7)
        ROSTRUM_ADMIN_TOKEN=$token
        ROSTRUM_PUBLIC_URL=http://127.0.0.1:$proxy
        ROSTRUM_STORE=$(sed -e "s#nats-1:4222#127.0.0.1:${client[1]}#" -e "s#nats-2:4222#127.0.0.1:${client[2]}#" \
            -e "s#nats-3:4222#127.0.0.1:${client[3]}#" <<<"$ROSTRUM_STORE")
        ROSTRUM_BIND=127.0.0.1:${node_port[$1]}
        ROSTRUM_DATA_DIR=$T/data-$1
        ROSTRUM_LOG_FORMAT=text
        RUST_LOG=info
        exec "$BIN" serve
    ) >"$T/rostrum-$1.log" 2>&1 &
    pids+=($!)
    node_pid[$1]=$!
    for _ in $(seq 400); do
        ROSTRUM_BIND=127.0.0.1:${node_port[$1]} deploy/healthcheck.sh 2>/dev/null && return 0
        sleep 0.1
    done
    fail "rostrum-$1 did not come up"
}
start_node a
start_node b
ok "two nodes on the cluster (ROSTRUM_STORE and ROSTRUM_NATS_REPLICAS from compose.yaml)"

sed -e "s#server rostrum-a:8080#server 127.0.0.1:${node_port[a]}#" \
    -e "s#server rostrum-b:8080#server 127.0.0.1:${node_port[b]}#" \
    -e "s#listen 8080;#listen 127.0.0.1:$proxy;#" \
    deploy/cluster/nginx.conf >"$T/nginx-cluster.conf"
if grep -v '^ *#' "$T/nginx-cluster.conf" | grep -Eq 'rostrum-[ab]:|listen 8080'; then
    fail "deploy/cluster/nginx.conf changed: the test's substitutions no longer apply"
fi
# The proxy's access log names the upstream: the test kills the node that served the socket.
start_nginx "$T/nginx-cluster.conf"
wait_port 127.0.0.1 "$proxy" nginx

probe() { python3 tests/deploy/cluster_probe.py --url "http://127.0.0.1:$proxy" --admin-token "$token" --state "$T/state.json" "$1"; }
probe start
served=$(awk '$2 == "/ws" {print $NF}' "$T/nginx-access.log" | tail -n 1)
case $served in
    "127.0.0.1:${node_port[a]}") victim=a ;;
    "127.0.0.1:${node_port[b]}") victim=b ;;
    *) fail "the proxy's log does not say which node served the socket: $served" ;;
esac
kill -9 "${node_pid[$victim]}"
wait "${node_pid[$victim]}" 2>/dev/null || true
ok "rostrum-$victim, which served the socket, killed with SIGKILL"
probe resume
served=$(awk '$2 == "/ws" {print $NF}' "$T/nginx-access.log" | tail -n 1)
[[ $served != "127.0.0.1:${node_port[$victim]}" ]] || fail "the resumed socket went to the dead node"
ok "the proxy sent the resumed socket to the live node ($served)"
echo "cluster deploy tests passed"
