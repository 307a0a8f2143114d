#!/usr/bin/env python3
"""A complete rostrum client, written from docs/protocol.md and docs/api.md alone.

It creates a session (admin token), joins it as an online participant, raises a hand, drives the
chair's console to mark the speaker ready and give the floor, survives a server restart by
resuming where it left off, yields the floor, and checks its view against a fresh snapshot.

    pip install websockets
    python3 examples/client.py http://127.0.0.1:8080 ADMIN_TOKEN [--wait-for-restart]
"""
import asyncio, json, sys, urllib.request, uuid

import websockets


def apply(view, patch, server_time):
    """Move the view along by one patch, in the order docs/protocol.md gives."""
    if "session" in patch:
        view["session"] = patch["session"]
    for rid in patch.get("closed", []):
        view["requests"].pop(str(rid), None)
    for r in patch.get("requests", []):
        held = view["requests"].get(str(r["id"]))
        if held is None:  # a new request: absent fields take their defaults
            at = r.get("requested_at", server_time)
            held = dict(NEW_REQUEST, requested_at=at, queued_at=at, item=view["session"]["item"])
        merged = dict(held, **r)
        for key in ("note", "parked"):  # null: none, which a snapshot leaves out
            if merged.get(key, 0) is None:
                del merged[key]
        view["requests"][str(r["id"])] = merged
    if "floor" in patch:
        view["floor"] = patch["floor"]
        if patch["floor"] is not None:  # its request is speaking, out of the queue
            rid = patch["floor"]["request"]
            if str(rid) in view["requests"]:
                view["requests"][str(rid)]["state"] = "speaking"
            view["queue"] = [s for s in view["queue"] if s["request"] != rid]
    if "fairness" in patch:  # the modalities whose tallies changed
        for m, fields in patch["fairness"].items():
            view.setdefault("fairness", {})[m] = dict(view["fairness"].get(m, {}), **fields)
    if "remote" in patch:
        view["remote"] = dict(view.get("remote", {}), **patch["remote"])
    order = patch.get("order")
    if order:
        queue = [s for s in view["queue"] if s["request"] not in order.get("remove", [])]
        for index, slot in order.get("insert", []):
            if isinstance(slot, int):  # an arrival: the bare request id
                slot = {"request": slot, "reason": "arrival"}
            queue.insert(index, slot)
        changed = {s["request"]: s for s in order.get("reasons", [])}
        view["queue"] = [changed.get(s["request"], s) for s in queue]
        assert len(view["queue"]) == order["len"], "a patch that does not apply"


# A new request's fields when a patch leaves them out (docs/protocol.md, "Applying a patch").
NEW_REQUEST = {"origin": "self", "state": "waiting"}
MODERATORS = ("organizer", "chair", "online_moderator")


class Refused(Exception):
    pass


class Connection:
    """One client: its view, its place in the log, and its own request ids."""

    def __init__(self, url, session, token):
        self.url, self.session, self.token = url, session, token
        self.client = "py-" + uuid.uuid4().hex[:12]  # kept across reconnects: resends are idempotent
        self.view, self.epoch, self.seq, self.req = None, 0, 0, 0

    async def open(self):
        self.ws = await websockets.connect(self.url)
        hello = {"type": "hello", "v": 2, "session": self.session, "client": self.client}
        if self.token:
            hello["token"] = self.token
        if self.view is not None:
            hello["resume"] = {"epoch": self.epoch, "seq": self.seq}
        await self.ws.send(json.dumps(hello))
        self.welcome = await self.frame()
        if self.welcome["type"] != "welcome":
            raise Refused(self.welcome)
        last = "order" if self.welcome["recovered"] else "snapshot"
        while (await self.frame())["type"] != last:
            pass

    async def reconnect(self):
        for delay in (0.1, 0.2, 0.5, 1, 2, 2, 2, 2, 2, 5, 5, 5):
            try:
                return await self.open()
            # Refused, cut, or closed mid-handshake while the server starts again.
            except (OSError, websockets.ConnectionClosed, websockets.InvalidHandshake):
                await asyncio.sleep(delay)
        raise RuntimeError("the server did not come back")

    async def frame(self):
        m = json.loads(await self.ws.recv())
        if m["type"] == "snapshot":
            self.view, self.epoch, self.seq = m["view"], m["epoch"], m["seq"]
        elif m["type"] == "update":
            if m["seq"] <= self.seq:
                pass  # already held
            elif m["from"] > self.seq + 1:
                await self.ws.send(json.dumps({"type": "resync"}))  # a gap: start afresh
            else:
                apply(self.view, m["patch"], m["server_time"])
                self.seq = m["seq"]
        elif m["type"] == "order":
            self.view["queue"] = m["queue"]
        return m

    async def command(self, cmd):
        self.req += 1
        cmd = dict(cmd, req=self.req)
        while True:
            try:
                await self.ws.send(json.dumps(cmd))
                while True:
                    m = await self.frame()
                    if m["type"] in ("ack", "error") and m.get("req") == cmd["req"]:
                        if m["type"] == "error":
                            raise Refused(m["code"], m["message"])
                        # The public's frame (if any) comes before the ack; a moderator's update
                        # may come after it.
                        while self.welcome["role"] in MODERATORS and self.seq < m["seq"]:
                            await self.frame()
                        return m
            except websockets.ConnectionClosed:
                await self.reconnect()  # then the same command with the same req: once only

    async def until(self, done):
        while not done(self.view):
            await self.frame()


def post(url, body, token):
    rq = urllib.request.Request(url, json.dumps(body).encode(), method="POST", headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(rq) as resp:
        return json.load(resp)


async def main(base, admin, wait_for_restart):
    created = post(base + "/api/sessions", {"title": "A Python client"}, admin)
    token = lambda role: created["links"][role].split("#t=")[1].split("&")[0]
    ws_url = base.replace("http", "ws", 1) + "/ws"
    me = Connection(ws_url, created["id"], token("participant"))
    await me.open()
    profile = {"name": "Py Client", "affiliation": "examples/", "modality": "online"}
    joined = await me.command({"type": "join", "profile": profile})
    me.token, pid = joined["token"], joined["participant"]  # our own link from now on
    await me.command({"type": "raise_hand", "kind": "question", "note": "From Python"})
    request = next(r["id"] for r in me.view["requests"].values() if r["participant"] == pid)
    chair = Connection(ws_url, created["id"], token("chair"))
    await chair.open()
    await chair.command({"type": "mark_ready", "request": request, "ready": True})
    await chair.command({"type": "grant", "seen": None})
    await me.until(lambda v: v["floor"] is not None and v["floor"]["participant"] == pid)
    print("floor: turn", me.view["floor"]["turn"], flush=True)
    if wait_for_restart:
        print("restart the server now", flush=True)
        try:
            while True:
                await me.frame()
        except websockets.ConnectionClosed:
            await me.reconnect()
        print("resumed at seq", me.seq, "recovered:", me.welcome["recovered"], flush=True)
    await me.command({"type": "yield"})
    fresh = Connection(ws_url, created["id"], me.token)
    await fresh.open()
    assert (fresh.seq, fresh.view) == (me.seq, me.view), "the view drifted from the server's"
    print("same view as a fresh snapshot at seq", me.seq, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], "--wait-for-restart" in sys.argv))
