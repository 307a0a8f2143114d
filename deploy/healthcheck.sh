#!/usr/bin/env bash
# Liveness probe for images without curl: GET /healthz over bash's /dev/tcp, exit 0 on a 200.
#
# It reads the port from ROSTRUM_BIND (as the service does) and asks the loopback address when
# the service listens on every address. Usage: rostrum-healthcheck [PATH] (default /healthz).
set -eu
bind="${ROSTRUM_BIND:-127.0.0.1:8080}"
port="${bind##*:}"
host="${bind%:*}"
host="${host#[}"
host="${host%]}"
case "$host" in
    0.0.0.0 | "") host=127.0.0.1 ;;
    ::) host=::1 ;;
esac
path="${1:-/healthz}"
exec 3<>"/dev/tcp/$host/$port"
printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
IFS=' ' read -r _version status _rest <&3
[ "$status" = 200 ]
