# What tests/deploy/*.sh share; sourced from the repository root, after each script has listed
# the Debian packages it needs in `need`. Installs them, builds the debug binary into BIN, and
# gives a temporary directory T that goes away at exit (its logs printed first on a failure), the
# processes in `pids` stopped with it.
# shellcheck shell=bash
if ((${#need[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

cargo build --locked --quiet --bin rostrum
BIN=$(realpath "${CARGO_TARGET_DIR:-target}")/debug/rostrum

T=$(mktemp -d)
pids=()
cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if ((status != 0)); then
        for log in "$T"/*.log; do [ -s "$log" ] && { echo "--- $log"; tail -n 20 "$log"; }; done
        echo "$(basename "$0") FAILED" >&2
    fi
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "  FAIL $*" >&2; exit 1; }
ok() { echo "  ok   $*"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { # host port what
    for _ in $(seq 300); do
        (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
        sleep 0.1
    done
    fail "$3 did not listen on $1:$2"
}

# start_nginx SITE: nginx from $T around the site file SITE (checked with nginx -t first), its
# access log naming the upstream that served each request; sets nginx_pid.
start_nginx() {
    mkdir -p "$T/nginx"
    cat >"$T/nginx.conf" <<EOF
$( ((EUID == 0)) && echo "user root;")
pid $T/nginx.pid;
error_log $T/nginx-error.log;
events { worker_connections 256; }
http {
    log_format upstream '\$request \$status \$upstream_addr';
    access_log $T/nginx-access.log upstream;
    client_body_temp_path $T/nginx/body;
    proxy_temp_path $T/nginx/proxy;
    fastcgi_temp_path $T/nginx/fastcgi;
    uwsgi_temp_path $T/nginx/uwsgi;
    scgi_temp_path $T/nginx/scgi;
    include $1;
}
EOF
    nginx -t -q -p "$T/nginx" -e "$T/nginx-error.log" -c "$T/nginx.conf" || fail "nginx -t: $(cat "$T/nginx-error.log")"
    nginx -p "$T/nginx" -e "$T/nginx-error.log" -c "$T/nginx.conf" -g 'daemon off;' >"$T/nginx-stdout.log" 2>&1 &
    pids+=($!)
    nginx_pid=$!
}
