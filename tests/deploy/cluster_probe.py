#!/usr/bin/env python3
"""Check deploy/cluster through its proxy (plain HTTP inside the compose network): a session
created through the proxy, a chair's socket taking commands, then (after the caller kills the
node that served it) a new socket through the same proxy resuming on the other node with
nothing lost.

    cluster_probe.py --url http://127.0.0.1:PORT --admin-token T --state FILE start
    cluster_probe.py --url http://127.0.0.1:PORT --admin-token T --state FILE resume

Standard library only; the WebSocket client is probe.py's.
"""

import argparse
import json
import socket
import sys

import probe


class Plain(probe.Target):
    """probe.Target without TLS: the proxy of the compose network."""

    def __init__(self, url):
        self.url = url.rstrip("/")
        self.host_header = self.url.split("://", 1)[1]
        host, port = self.host_header.rsplit(":", 1)
        self.addr = (host, int(port))

    def connect(self, source="127.0.0.1"):
        return socket.create_connection(self.addr, probe.TIMEOUT)

    def http(self, method, path, body=None, headers=None, source="127.0.0.1"):
        import http.client
        conn = http.client.HTTPConnection(*self.addr, timeout=probe.TIMEOUT)
        conn.request(method, path, body=body, headers={"Host": self.host_header, **(headers or {})})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp.headers, data


def chair(target, state, resume):
    ws = probe.WebSocket(target, origin=target.url)
    probe.check(ws.status == 101, f"the socket upgrades through the proxy ({ws.status})")
    hello = {"type": "hello", "v": 2, "session": state["id"], "client": "probe", "token": state["chair"]}
    if resume:
        hello["resume"] = {"epoch": state["epoch"], "seq": state["seq"]}
    ws.send(hello)
    _, welcome = ws.frame()
    if welcome.get("type") != "welcome":
        raise probe.Failed(f"no welcome: {welcome}")
    return ws, welcome


def command(ws, req, name):
    ws.send({"type": "add_proxy", "req": req, "profile": {"name": name, "modality": "onsite"}})
    while True:
        kind, f = ws.frame()
        if kind != "text":
            raise probe.Failed(f"the socket closed: {f}")
        if f.get("req") == req and f["type"] in ("ack", "error"):
            if f["type"] != "ack":
                raise probe.Failed(f"{name} not acknowledged: {f}")
            return f["seq"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--admin-token", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("step", choices=["start", "resume"])
    a = ap.parse_args()
    target = Plain(a.url)
    if a.step == "start":
        status, _, body = target.http("POST", "/api/sessions", json.dumps({"title": "cluster check"}),
                                      {"Authorization": f"Bearer {a.admin_token}",
                                       "Content-Type": "application/json"})
        probe.check(status == 201, f"a session is created through the proxy ({status})")
        created = json.loads(body)
        state = {"id": created["id"], "chair": created["links"]["chair"].split("#t=")[1]}
        ws, welcome = chair(target, state, resume=False)
        for i in range(5):
            state["seq"] = command(ws, i + 1, f"Walk-in {i}")
        state["epoch"] = welcome["epoch"]
        ws.close()
        print(f"  ok   five commands acknowledged through the proxy (seq {state['seq']})")
    else:
        state = json.load(open(a.state))
        ws, welcome = chair(target, state, resume=True)
        probe.check(welcome["seq"] >= state["seq"], f"the other node has every acknowledged command ({welcome})")
        seq = command(ws, 100, "After the node died")
        # A walk-in is two events: joined, then queued.
        probe.check(seq == state["seq"] + 2, f"the session goes on from where it was (seq {seq})")
        ws.close()
        print(f"  ok   after the node died, the socket resumed through the proxy on the other node (seq {seq})")
    json.dump(state, open(a.state, "w"))


if __name__ == "__main__":
    try:
        main()
    except probe.Failed as e:
        print(f"  FAIL {e}", file=sys.stderr)
        sys.exit(1)
