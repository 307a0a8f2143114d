#!/usr/bin/env python3
"""Check a rostrum deployment through its TLS reverse proxy, as a browser would reach it.

Standard library only (no pip): HTTPS with certificate verification, and a small WebSocket
client so each connection can choose its source address (127.0.0.2, 127.0.0.3...) and send
exactly the headers a test needs, forged ones included.

The service under test must run with --trust-proxy-headers, --max-connections-per-ip 1 and a
small --api-burst: the proxy's X-Real-IP is then the only way two loopback clients can be told
apart, and a forged header that got through would let a third one in.

Exits 0 when every check passes; otherwise prints what failed and exits 1.
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import socket
import ssl
import struct
import sys

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TIMEOUT = 10


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)
    print(f"  ok   {what}")


class Target:
    def __init__(self, url, connect, cafile):
        self.url = url.rstrip("/")
        self.host_header = self.url.split("://", 1)[1]
        self.server_name = self.host_header.rsplit(":", 1)[0]
        host, port = connect.rsplit(":", 1)
        self.addr = (host, int(port))
        self.tls = ssl.create_default_context(cafile=cafile)

    def connect(self, source="127.0.0.1"):
        raw = socket.create_connection(self.addr, TIMEOUT, source_address=(source, 0))
        return self.tls.wrap_socket(raw, server_hostname=self.server_name)

    def http(self, method, path, body=None, headers=None, source="127.0.0.1"):
        conn = http.client.HTTPSConnection(
            self.addr[0], self.addr[1], timeout=TIMEOUT, context=self.tls
        )
        # Certificate and Host are the public name's; the socket goes to the proxy's address.
        conn.sock = self.connect(source)
        hdrs = {"Host": self.host_header, **(headers or {})}
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp.headers, data


class WebSocket:
    """One client connection: the upgrade, then text frames in and out."""

    def __init__(self, target, origin, source="127.0.0.1", extra_headers=None):
        self.sock = target.connect(source)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            "GET /ws HTTP/1.1",
            f"Host: {target.host_header}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            f"Origin: {origin}",
        ]
        lines += [f"{k}: {v}" for k, v in (extra_headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        head = self._until(b"\r\n\r\n").decode("latin-1")
        status_line, *header_lines = head.split("\r\n")
        self.status = int(status_line.split(" ")[1])
        self.headers = {}
        for line in header_lines:
            if ":" in line:
                k, v = line.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()
        self.body = b""
        if self.status == 101:
            want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
            if self.headers.get("sec-websocket-accept") != want:
                raise Failed(f"bad Sec-WebSocket-Accept: {self.headers}")
        else:
            length = int(self.headers.get("content-length", "0"))
            self.body = self._exactly(length) if length else b""
            self.sock.close()

    def _recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise Failed("connection closed early")
        self.buf += chunk

    def _until(self, marker):
        while marker not in self.buf:
            self._recv()
        head, self.buf = self.buf.split(marker, 1)
        return head

    def _exactly(self, n):
        while len(self.buf) < n:
            self._recv()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, obj):
        payload = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x81, 0x80 | n)
        else:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def frame(self):
        """The next data or close frame: ("text", dict) or ("close", code)."""
        while True:
            b0, b1 = self._exactly(2)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._exactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._exactly(8))
            payload = self._exactly(n)
            op = b0 & 0x0F
            if op == 0x1:
                return "text", json.loads(payload)
            if op == 0x8:
                return "close", struct.unpack("!H", payload[:2])[0] if n >= 2 else None
            # Pings and pongs: nothing to check here.

    def close(self):
        self.sock.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="the public URL, e.g. https://localhost:8443")
    ap.add_argument("--connect", required=True, help="the proxy's address, host:port")
    ap.add_argument("--cafile", required=True, help="the certificate to trust")
    ap.add_argument("--admin-token", required=True)
    args = ap.parse_args()
    t = Target(args.url, args.connect, args.cafile)
    origin = t.url

    status, _, body = t.http("GET", "/healthz")
    check(status == 200 and body.strip() == b"ok", f"GET /healthz is 200 ok ({status} {body[:40]!r})")
    status, _, _ = t.http("GET", "/readyz")
    check(status == 200, f"GET /readyz is 200 ({status})")
    status, headers, body = t.http("GET", "/")
    check(
        status == 200 and b"<html" in body.lower() and "content-security-policy" in headers,
        f"GET / is the home page with its CSP ({status})",
    )

    created = json.dumps({"title": "deploy check"}).encode()
    auth = {"Authorization": f"Bearer {args.admin_token}", "Content-Type": "application/json"}
    status, _, body = t.http("POST", "/api/sessions", created, auth)
    check(status == 201, f"POST /api/sessions creates a session ({status} {body[:80]!r})")
    session = json.loads(body)
    sid, links = session["id"], session["links"]
    check(
        all(link.startswith(f"{t.url}/s/{sid}") for link in links.values()),
        f"every role link starts with the public URL ({sorted(links.values())[0][:60]}...)",
    )
    status, _, body = t.http("GET", f"/s/{sid}")
    check(status == 200 and b"<html" in body.lower(), f"GET /s/{{id}}, the public view, is 200 ({status})")
    big = b'{"title":"' + b"x" * (100 * 1024) + b'"}'
    status, _, _ = t.http("POST", "/api/sessions", big, auth)
    check(status == 413, f"a 100 KiB body is refused with 413 ({status})")

    # The upgrade goes through: a hello for an unknown session gets the server's own error.
    ws = WebSocket(t, origin, source="127.0.0.4")
    check(ws.status == 101, f"WebSocket upgrade through the proxy is 101 ({ws.status} {ws.body[:80]!r})")
    ws.send({"type": "hello", "v": 2, "session": os.urandom(16).hex()})
    kind, msg = ws.frame()
    check(
        kind == "text" and msg.get("type") == "error" and msg.get("code") == "unknown_session",
        f"hello for an unknown session gets error unknown_session ({kind} {msg})",
    )
    kind, code = ws.frame()
    check(kind == "close" and code == 1008, f"then close 1008 ({kind} {code})")
    ws.close()

    # The Origin header reaches the service unchanged (a dropped one would be let through).
    ws = WebSocket(t, "https://evil.example.org", source="127.0.0.4")
    check(ws.status == 403, f"an upgrade from another origin is refused with 403 ({ws.status})")

    # A real session: welcome, then the snapshot.
    a = WebSocket(t, origin, source="127.0.0.2")
    check(a.status == 101, f"client 127.0.0.2 upgrades ({a.status} {a.body[:80]!r})")
    a.send({"type": "hello", "v": 2, "session": sid})
    kind, msg = a.frame()
    check(
        kind == "text" and msg.get("type") == "welcome" and msg.get("role") == "viewer",
        f"hello as the public view gets welcome ({kind} {str(msg)[:100]})",
    )
    kind, msg = a.frame()
    check(kind == "text" and msg.get("type") == "snapshot", f"then a snapshot ({kind} {str(msg)[:60]})")

    # The hello in the handshake (as the pages send it) passes the proxy: the subprotocol is
    # selected and the welcome comes with nothing sent.
    carried = base64.urlsafe_b64encode(json.dumps({"type": "hello", "v": 2, "session": sid}).encode())
    offered = f"rostrum, rostrum.hello.{carried.rstrip(b'=').decode()}"
    h = WebSocket(t, origin, source="127.0.0.7", extra_headers={"Sec-WebSocket-Protocol": offered})
    check(
        h.status == 101 and h.headers.get("sec-websocket-protocol") == "rostrum",
        f"the hello in the handshake reaches the service: subprotocol rostrum selected ({h.status} {h.headers.get('sec-websocket-protocol')})",
    )
    kind, msg = h.frame()
    check(kind == "text" and msg.get("type") == "welcome", f"and the welcome comes unasked ({kind} {str(msg)[:60]})")
    h.close()

    # One socket per address (--max-connections-per-ip 1): the service tells clients apart only
    # through the proxy's X-Real-IP / X-Forwarded-For.
    b = WebSocket(t, origin, source="127.0.0.3")
    check(
        b.status == 101,
        f"client 127.0.0.3 upgrades while 127.0.0.2 holds its one socket: the service saw the client's address ({b.status} {b.body[:80]!r})",
    )
    b.close()
    forged = {"X-Real-IP": "203.0.113.7", "X-Forwarded-For": "203.0.113.7"}
    c = WebSocket(t, origin, source="127.0.0.2", extra_headers=forged)
    check(
        c.status == 429 and b"too_many_connections" in c.body,
        f"a second socket from 127.0.0.2 with forged X-Real-IP/X-Forwarded-For is refused with 429: the proxy overwrote them ({c.status} {c.body[:80]!r})",
    )
    a.close()

    # The same for plain requests: the API's rate limit is per client address (the service runs
    # with a small burst), so one address running out leaves another one its own allowance.
    room = f"/api/sessions/{sid}/room"
    statuses = []
    while 429 not in statuses and len(statuses) < 30:
        statuses.append(t.http("GET", room, source="127.0.0.5")[0])
    check(statuses[-1] == 429, f"client 127.0.0.5 runs out of API requests ({len(statuses)} requests)")
    status = t.http("GET", room, source="127.0.0.6", headers=forged)[0]
    check(status != 429, f"client 127.0.0.6 still has its own: the service saw the client's address ({status})")
    status = t.http("GET", room, source="127.0.0.5", headers=forged)[0]
    check(status == 429, f"client 127.0.0.5 with forged X-Real-IP/X-Forwarded-For is still limited ({status})")


if __name__ == "__main__":
    try:
        main()
    except (Failed, OSError, ValueError, KeyError) as e:
        print(f"  FAIL {e}", file=sys.stderr)
        sys.exit(1)
