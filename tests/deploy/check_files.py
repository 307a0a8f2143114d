#!/usr/bin/env python3
"""Static checks of deploy/: every ROSTRUM_* variable the deployment files name is one the
binary knows, the systemd unit keeps its hardening, and the Kubernetes manifest parses and
holds together.

Usage: check_files.py KNOWN_VARS_FILE (one ROSTRUM_* name per line, from `rostrum --help`).
"""

import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
failures = []


def check(cond, what):
    print(f"  {'ok  ' if cond else 'FAIL'} {what}")
    if not cond:
        failures.append(what)


known = set(pathlib.Path(sys.argv[1]).read_text().split())
check("ROSTRUM_PUBLIC_URL" in known, f"rostrum --help lists its variables ({len(known)})")
files = [
    "deploy/Dockerfile",
    "deploy/rostrum.service",
    "deploy/rostrum.env.example",
    "deploy/k8s/rostrum.yaml",
    "deploy/nginx/rostrum.conf",
    "deploy/Caddyfile",
    "docs/deploy.md",
    "deploy/cluster/compose.yaml",
    "deploy/cluster/cluster.env.example",
    "docs/cluster.md",
]
# The docs may also name the knobs the tests read (a soak's length, say), never the deploy files.
test_knobs = set()
for t in (ROOT / "tests" / "it").glob("*.rs"):
    test_knobs |= set(re.findall(r'"(ROSTRUM_[A-Z_]+)"', t.read_text()))
for f in files:
    used = set(re.findall(r"\bROSTRUM_[A-Z_]+\b", (ROOT / f).read_text()))
    unknown = sorted(used - known - (test_knobs if f.startswith("docs/") else set()))
    check(not unknown, f"{f}: every ROSTRUM_* variable exists {unknown or ''}")

unit = (ROOT / "deploy/rostrum.service").read_text().splitlines()
for line in [
    "StateDirectory=rostrum",
    "EnvironmentFile=-/etc/rostrum/rostrum.env",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "SystemCallFilter=@system-service",
    "MemoryDenyWriteExecute=yes",
    "Restart=on-failure",
    "KillSignal=SIGTERM",
]:
    check(line in unit, f"rostrum.service: {line}")
nofile = next(int(l.split("=")[1]) for l in unit if l.startswith("LimitNOFILE="))
check(nofile >= 65536, f"rostrum.service: LimitNOFILE={nofile} leaves room for many WebSockets")
stop = next(l.split("=")[1] for l in unit if l.startswith("TimeoutStopSec="))
check(stop.endswith("s") and int(stop[:-1]) > 10, f"rostrum.service: TimeoutStopSec={stop} covers the 10 s shutdown grace")

docs = list(yaml.safe_load_all((ROOT / "deploy/k8s/rostrum.yaml").read_text()))
docs = [d for d in docs if d]
by_kind = {}
for d in docs:
    check({"apiVersion", "kind", "metadata"} <= d.keys(), f"{d.get('kind')} has apiVersion, kind, metadata")
    by_kind.setdefault(d["kind"], []).append(d)
check(sorted(by_kind) == ["Ingress", "Service", "StatefulSet"], f"kinds: {sorted(by_kind)}")

sts = by_kind["StatefulSet"][0]["spec"]
pod = sts["template"]["spec"]
(c,) = pod["containers"]
check(sts["replicas"] == 1, "one replica (SQLite has one writer)")
check(
    sts["selector"]["matchLabels"].items() <= sts["template"]["metadata"]["labels"].items(),
    "the selector matches the pod's labels",
)
services = {s["metadata"]["name"]: s["spec"] for s in by_kind["Service"]}
check(sts["serviceName"] in services and services[sts["serviceName"]].get("clusterIP") == "None",
      "serviceName is a headless Service")
for name, svc in services.items():
    check(svc["selector"].items() <= sts["template"]["metadata"]["labels"].items(),
          f"Service {name} selects the pod")
port_names = {p["name"] for p in c["ports"]}
for name, svc in services.items():
    check(all(p["targetPort"] in port_names for p in svc["ports"]), f"Service {name} targets a named container port")

env = {e["name"]: e for e in c["env"]}
check(env["ROSTRUM_DATA_DIR"]["value"] == "/data", "the data directory is /data")
check(env["ROSTRUM_BIND"]["value"].endswith(":" + str(c["ports"][0]["containerPort"])),
      "ROSTRUM_BIND listens on the container port")
check(env["ROSTRUM_PUBLIC_URL"]["value"].startswith("https://"), "the public URL is https")
check(env.get("ROSTRUM_TRUST_PROXY_HEADERS", {}).get("value") in ("true", "false"),
      "ROSTRUM_TRUST_PROXY_HEADERS is true or false (the only values clap takes)")
check("secretKeyRef" in env["ROSTRUM_ADMIN_TOKEN"].get("valueFrom", {}), "the admin token comes from a Secret")

mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
claims = {t["metadata"]["name"] for t in sts["volumeClaimTemplates"]}
volumes = {v["name"] for v in pod.get("volumes", [])}
check(set(mounts) <= claims | volumes, "every volume mount has a volume or a claim")
check(mounts.get("data") == "/data" and "data" in claims, "/data is a persistent volume claim")
check(mounts.get("tmp") == "/tmp", "/tmp is writable (the root file system is not)")

probes = {k: c[k]["httpGet"]["path"] for k in ("livenessProbe", "readinessProbe")}
check(probes == {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}, f"probes {probes}")
check(all(c[k]["httpGet"]["port"] in port_names for k in ("livenessProbe", "readinessProbe", "startupProbe")),
      "probes use the named port")

sc, psc = c["securityContext"], pod["securityContext"]
check(sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
      and sc["capabilities"]["drop"] == ["ALL"], "container: read-only root, no escalation, no capabilities")
dockerfile = (ROOT / "deploy/Dockerfile").read_text()
uid = re.search(r"useradd .*--uid (\d+)", dockerfile).group(1)
check(psc["runAsNonRoot"] is True and str(psc["runAsUser"]) == uid and str(psc["fsGroup"]) == uid,
      f"pod runs as the image's user {uid} and owns the volume")
check(pod["terminationGracePeriodSeconds"] > 10, "terminationGracePeriodSeconds covers the 10 s shutdown grace")
check("limits" in c["resources"] and "requests" in c["resources"], "resources are set")

ing = by_kind["Ingress"][0]["spec"]
backend = ing["rules"][0]["http"]["paths"][0]["backend"]["service"]
check(backend["name"] in services and services[backend["name"]].get("clusterIP") != "None",
      "the Ingress sends traffic to the ClusterIP Service")
check(ing["rules"][0]["host"] in env["ROSTRUM_PUBLIC_URL"]["value"], "the Ingress host is the public URL's")

compose = yaml.safe_load((ROOT / "deploy/cluster/compose.yaml").read_text())
svc = compose["services"]
nodes = [n for n in svc if n.startswith("rostrum-")]
nats = [n for n in svc if n.startswith("nats-")]
check(len(nats) == 3 and len(nodes) == 2, "compose: three NATS servers and two rostrum nodes")
store = svc[nodes[0]]["environment"]["ROSTRUM_STORE"]
check(sorted(u.split("//")[1].split(":")[0] for u in store.split(",")) == sorted(nats),
      "compose: every node knows every NATS server")
check(svc[nodes[0]]["environment"]["ROSTRUM_NATS_REPLICAS"] == str(len(nats)),
      "compose: the logs are kept on every NATS server")
for n in nats:
    conf = next(v.split(":")[0] for v in svc[n]["volumes"] if v.endswith("/etc/nats/nats.conf:ro"))
    text = (ROOT / "deploy/cluster" / conf).read_text()
    check(f"server_name: {n}" in text and "sync_interval: always" in text
          and all(f"nats-route://{m}:6222" in text for m in nats),
          f"compose: {conf} names {n}, routes to every server, fsyncs every write")
nginx = (ROOT / "deploy/cluster/nginx.conf").read_text()
check(all(f"server {n}:8080" in nginx for n in nodes), "compose: the proxy sends to both nodes")
env_example = (ROOT / "deploy/cluster/cluster.env.example").read_text()
check(all(f"{v}=" in env_example for v in ("ROSTRUM_SECRET", "ROSTRUM_ADMIN_TOKEN")),
      "compose: the shared secret and token are set in cluster.env")

if failures:
    sys.exit(1)
