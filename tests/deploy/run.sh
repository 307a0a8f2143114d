#!/usr/bin/env bash
# The deployment files of deploy/, run for real: rostrum behind nginx and behind Caddy with the
# shipped configurations (only ports and certificate paths substituted), checked over HTTPS
# with a real WebSocket (tests/deploy/probe.py); a backup restored; the Docker image's
# entrypoint and health check against the service; the Kubernetes manifest and every ROSTRUM_*
# name checked; the systemd unit verified when systemd-analyze is here. Installs Debian's nginx
# and caddy if missing. Exits nonzero on any failure; takes about ten seconds after installs.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v nginx >/dev/null || need+=(nginx-light)
command -v caddy >/dev/null || need+=(caddy)
command -v openssl >/dev/null || need+=(openssl)
python3 -c 'import yaml' 2>/dev/null || need+=(python3-yaml)
# shellcheck source=tests/deploy/common.sh
. tests/deploy/common.sh

# A server's certificate, not a CA's (rustls refuses a CA certificate used by a server).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost \
    -addext basicConstraints=critical,CA:FALSE -addext extendedKeyUsage=serverAuth \
    -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null

echo "static checks"
{ "$BIN" --help; "$BIN" session create --help; } | grep -o 'env: ROSTRUM_[A-Z_]*' | cut -c6- | sort -u >"$T/vars"
python3 tests/deploy/check_files.py "$T/vars"
if command -v systemd-analyze >/dev/null; then
    # The unit as shipped, but for where the binary is: verify prints nothing when it is sound.
    sed "s#/usr/local/bin/rostrum#$BIN#" deploy/rostrum.service >"$T/rostrum.service"
    out=$(systemd-analyze verify "$T/rostrum.service" 2>&1) || fail "systemd-analyze verify: $out"
    [ -z "$out" ] || fail "systemd-analyze verify warns: $out"
    ok "systemd-analyze verify deploy/rostrum.service"
    systemd-analyze security --offline=true --threshold=11 "$T/rostrum.service" >"$T/security.txt" 2>&1 ||
        fail "systemd-analyze security: exposure above 1.1: $(tail -n 1 "$T/security.txt")"
    ok "systemd-analyze security: $(tail -n 1 "$T/security.txt" | sed 's/.*: //')"
else
    echo "  skip systemd-analyze is not installed: deploy/rostrum.service not verified"
fi

# rostrum configured as deploy/rostrum.env.example configures it, with this run's addresses.
# At most one WebSocket per client address and a small API burst: the probe uses them to see
# which address the service saw. Logs in text format, to find the address refused.
start_rostrum() { # name app-port public-url
    (
        set -a
        # shellcheck source=/dev/null
        . deploy/rostrum.env.example
        ROSTRUM_BIND=127.0.0.1:$2
        ROSTRUM_PUBLIC_URL=$3
        ROSTRUM_DATA_DIR=$T/data-$1
        ROSTRUM_ADMIN_TOKEN=deploy-test-admin-token
        ROSTRUM_MAX_CONNECTIONS_PER_IP=1
        ROSTRUM_API_PER_SEC=1
        ROSTRUM_API_BURST=5
        ROSTRUM_LOG_FORMAT=text
        RUST_LOG=info
        exec "$BIN" serve
    ) >"$T/rostrum-$1.log" 2>&1 &
    pids+=($!)
    rostrum_pid=$!
    for _ in $(seq 100); do
        ROSTRUM_BIND=127.0.0.1:$2 deploy/healthcheck.sh 2>/dev/null && return 0
        sleep 0.1
    done
    fail "rostrum ($1) did not come up"
}

stop_rostrum() { # name
    kill -TERM "$rostrum_pid"
    local status=0
    timeout 15 tail --pid="$rostrum_pid" -f /dev/null || fail "rostrum ($1) still running 15 s after SIGTERM"
    wait "$rostrum_pid" || status=$?
    ((status == 0)) || fail "rostrum ($1) exited with $status after SIGTERM"
    ok "rostrum stops cleanly on SIGTERM (KillSignal of the unit, STOPSIGNAL of the image)"
}

probe() { # name https-port http-port
    python3 tests/deploy/probe.py --url "https://localhost:$2" --connect "127.0.0.1:$2" \
        --cafile "$T/cert.pem" --admin-token deploy-test-admin-token
    # The service's own account of the refused socket names the client, not the proxy.
    grep -Eq 'too many connections from one address.*ip=127\.0\.0\.2|ip=127\.0\.0\.2.*too many connections' \
        "$T/rostrum-$1.log" || fail "rostrum's log does not name 127.0.0.2 as the refused client"
    ok "rostrum's log names the client 127.0.0.2, not the proxy"
    local redirect
    redirect=$(python3 - "$3" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.request("GET", "/s/x", headers={"Host": "localhost"})
r = c.getresponse()
print(r.status, r.getheader("Location"))
EOF
)
    [[ $redirect =~ ^30[18]\ https://localhost(:[0-9]+)?/s/x$ ]] || fail "plain HTTP is not redirected to HTTPS: $redirect"
    ok "plain HTTP redirects to HTTPS ($redirect)"
}

echo "the Docker image's entrypoint and health check"
# ENTRYPOINT and CMD as Docker runs them, with the binary's path here and a soft limit of 1024.
mapfile -t entrypoint < <(python3 - "$BIN" <<'EOF'
import json, re, sys
text = open("deploy/Dockerfile").read()
argv = [json.loads(re.search(rf"^{k} (.*)$", text, re.M).group(1)) for k in ("ENTRYPOINT", "CMD")]
for arg in argv[0] + argv[1]:
    print(arg.replace("/usr/local/bin/rostrum", sys.argv[1]))
EOF
)
port=$(free_port)
(
    ulimit -Sn 1024
    ROSTRUM_BIND=127.0.0.1:$port ROSTRUM_DATA_DIR=$T/data-health exec "${entrypoint[@]}"
) >"$T/rostrum-health.log" 2>&1 &
pids+=($!)
rostrum_pid=$!
for _ in $(seq 100); do
    ROSTRUM_BIND=0.0.0.0:$port deploy/healthcheck.sh 2>/dev/null && break
    sleep 0.1
done
read -r soft hard < <(awk '/Max open files/ {print $4, $5}' "/proc/$rostrum_pid/limits")
[[ $(readlink "/proc/$rostrum_pid/exe") == "$BIN" ]] || fail "the entrypoint did not exec rostrum"
[[ $soft == "$hard" ]] || fail "the entrypoint left the open-files limit at $soft (hard $hard)"
ok "the entrypoint runs rostrum with the open-files limit raised from 1024 to $soft"
ROSTRUM_BIND=0.0.0.0:$port deploy/healthcheck.sh || fail "healthcheck.sh fails against a live service"
ok "healthcheck.sh passes against the live service (ROSTRUM_BIND=0.0.0.0:$port)"
if ROSTRUM_BIND=0.0.0.0:$port deploy/healthcheck.sh /no-such-page 2>/dev/null; then
    fail "healthcheck.sh passes on a 404"
fi
ok "healthcheck.sh fails on a 404"
stop_rostrum health
if ROSTRUM_BIND=0.0.0.0:$port deploy/healthcheck.sh 2>/dev/null; then
    fail "healthcheck.sh passes with the service stopped"
fi
ok "healthcheck.sh fails with the service stopped"

echo "nginx with deploy/nginx/rostrum.conf"
app=$(free_port) https=$(free_port) http=$(free_port)
sed -e "s#/etc/letsencrypt/live/rostrum.example.org/fullchain.pem#$T/cert.pem#" \
    -e "s#/etc/letsencrypt/live/rostrum.example.org/privkey.pem#$T/key.pem#" \
    -e "s#rostrum\.example\.org#localhost#g" \
    -e "s#127\.0\.0\.1:8080#127.0.0.1:$app#" \
    -e "s#listen 443 #listen 127.0.0.1:$https #" \
    -e "s#listen 80;#listen 127.0.0.1:$http;#" \
    -e "/listen \[::\]:/d" \
    deploy/nginx/rostrum.conf >"$T/nginx-rostrum.conf"
if grep -v '^ *#' "$T/nginx-rostrum.conf" | grep -Eq 'example\.org|letsencrypt|:8080|listen (443|80)\b'; then
    fail "the nginx snippet changed: the test's substitutions no longer apply"
fi
start_rostrum nginx "$app" "https://localhost:$https"
start_nginx "$T/nginx-rostrum.conf"
wait_port 127.0.0.1 "$https" nginx
probe nginx "$https" "$http"
# The organizer's client over TLS (reqwest on rustls), trusting the test's certificate through
# SSL_CERT_FILE, and refusing the connection without it.
out=$(SSL_CERT_FILE="$T/cert.pem" "$BIN" session create --url "https://localhost:$https" \
    --admin-token deploy-test-admin-token --title "over TLS" 2>&1) || fail "rostrum session create over https: $out"
grep -q '^session [0-9a-f]\{32\}$' <<<"$out" || fail "rostrum session create over https printed: $out"
ok "rostrum session create --url https://... through nginx (rustls, the certificate in SSL_CERT_FILE)"
if out=$(SSL_CERT_FILE="$T/no-such-cert.pem" SSL_CERT_DIR="$T/no-such-dir" "$BIN" session list \
    --url "https://localhost:$https" --admin-token deploy-test-admin-token 2>&1); then
    fail "rostrum session list trusted an unknown certificate: $out"
fi
grep -q 'invalid peer certificate: UnknownIssuer' <<<"$out" || fail "an unknown certificate, refused for another reason: $out"
ok "rostrum session list refuses a certificate it was not told to trust (UnknownIssuer)"
# docs/deploy.md's backup while serving, and its restore into a fresh data directory.
"$BIN" backup --data-dir "$T/data-nginx" "$T/backup.db" >/dev/null || fail "rostrum backup while serving"
kill -QUIT "$nginx_pid"
stop_rostrum nginx
session=$(grep -o 'session created session=[0-9a-f]*' "$T/rostrum-nginx.log" | head -n 1 | cut -d= -f2)
mkdir -m 0700 "$T/restored"
cp "$T/backup.db" "$T/restored/rostrum.db"
cp "$T/data-nginx/secrets.json" "$T/restored/"
"$BIN" export "$session" --data-dir "$T/restored" >"$T/restored.ndjson" || fail "rostrum export from the restored backup"
grep -q '"deploy check"' "$T/restored.ndjson" || fail "the restored backup lacks the session created through the proxy"
ok "a backup taken while serving restores the session ($(wc -l <"$T/restored.ndjson") events)"

echo "Caddy with deploy/Caddyfile"
app=$(free_port) https=$(free_port) http=$(free_port)
{
    # This run's ports, no admin endpoint, state in the temp directory; then the site as shipped.
    printf '{\n\tadmin off\n\thttp_port %s\n\thttps_port %s\n\tdefault_bind 127.0.0.1\n\tskip_install_trust\n\tstorage file_system %s\n}\n\n' \
        "$http" "$https" "$T/caddy"
    sed -e "s#rostrum\.example\.org {#localhost {#" \
        -e "s@# tls /etc/rostrum/tls/fullchain.pem /etc/rostrum/tls/privkey.pem@tls $T/cert.pem $T/key.pem@" \
        -e "s#127\.0\.0\.1:8080#127.0.0.1:$app#" \
        deploy/Caddyfile
} >"$T/Caddyfile"
if grep -v '^\s*#' "$T/Caddyfile" | grep -Eq 'example\.org|:8080' || ! grep -q "^\s*tls $T" "$T/Caddyfile"; then
    fail "the Caddyfile changed: the test's substitutions no longer apply"
fi
export XDG_DATA_HOME=$T/caddy XDG_CONFIG_HOME=$T/caddy
caddy validate --adapter caddyfile --config "$T/Caddyfile" >"$T/caddy-validate.log" 2>&1 ||
    fail "caddy validate: $(tail -n 3 "$T/caddy-validate.log")"
start_rostrum caddy "$app" "https://localhost:$https"
caddy run --adapter caddyfile --config "$T/Caddyfile" >"$T/caddy.log" 2>&1 &
pids+=($!)
caddy_pid=$!
wait_port 127.0.0.1 "$https" caddy
probe caddy "$https" "$http"
kill -TERM "$caddy_pid"
stop_rostrum caddy

echo "deploy tests passed"
