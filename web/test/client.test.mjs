import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";
import { Connection } from "../lib/client.js";
import { fromFragment } from "../lib/link.js";

/** A socket the test drives: it records what the client sends and delivers frames on demand. */
class FakeSocket {
  static all = [];
  constructor(url, protocols = []) {
    this.url = url;
    this.protocols = protocols;
    this.protocol = "";
    this.readyState = 0;
    this.sent = [];
    FakeSocket.all.push(this);
  }
  send(text) { this.sent.push(JSON.parse(text)); }
  close(code = 1000) { this.readyState = 3; this.onclose?.({ type: "close", code }); }
  open(protocol = "") { this.readyState = 1; this.protocol = protocol; this.onopen?.({ type: "open" }); }
  deliver(frame) { this.onmessage?.({ type: "message", data: JSON.stringify(frame) }); }
  drop(code = 1006) { this.readyState = 3; this.onclose?.({ type: "close", code }); }
}

function setup(opts = {}) {
  FakeSocket.all = [];
  const timers = [];
  const conn = new Connection({
    url: "ws://x/ws", session: "S", token: "T",
    WebSocketImpl: FakeSocket, random: opts.random ?? (() => 1), now: () => 1000,
    setTimeout: (f, ms) => { timers.push({ f, ms }); return timers.length; }, clearTimeout: () => {},
  });
  const events = [];
  for (const t of ["status", "view", "error", "fatal", "joined"]) conn.addEventListener(t, (e) => events.push([t, e.detail]));
  conn.start();
  return { conn, timers, events, socket: () => FakeSocket.all.at(-1) };
}

const view = { session: {}, requests: {}, queue: [], floor: null };
const welcome = (extra = {}) => ({ type: "welcome", v: 2, role: "chair", participant: null, epoch: 1, seq: 5, recovered: false, client: "c1.SECRET", ...extra });

test("hello carries the token, then the secret the welcome issued and a resume once there is a view", () => {
  const { conn, socket, timers } = setup();
  socket().open();
  assert.deepEqual(socket().sent[0], { type: "hello", v: 2, session: "S", token: "T" }, "no client id of its own");
  socket().deliver(welcome());
  assert.equal(conn.secret, "c1.SECRET");
  socket().deliver({ type: "snapshot", epoch: 1, seq: 5, server_time: 900, view });
  socket().drop();
  timers.at(-1).f();
  socket().open();
  assert.equal(socket().sent[0].client, "c1.SECRET");
  assert.deepEqual(socket().sent[0].resume, { epoch: 1, seq: 5 });
  // A server that does not honour it (another secret) issues another: that one is kept.
  socket().deliver(welcome({ client: "c1.OTHER" }));
  socket().drop();
  timers.at(-1).f();
  socket().open();
  assert.equal(socket().sent[0].client, "c1.OTHER");
});

test("unanswered commands are resent with the same req after a reconnect", async () => {
  const { conn, socket, timers } = setup();
  socket().open();
  socket().deliver(welcome());
  socket().deliver({ type: "snapshot", epoch: 1, seq: 5, view });
  const answered = conn.send({ type: "raise_hand" });
  assert.deepEqual(socket().sent.at(-1), { type: "raise_hand", req: 1 });
  socket().drop();
  timers.at(-1).f();
  socket().open();
  assert.equal(socket().sent[0].client, "c1.SECRET", "the resend comes from the same sender");
  socket().deliver(welcome({ recovered: true }));
  assert.deepEqual(socket().sent.at(-1), { type: "raise_hand", req: 1 }, "the same req");
  socket().deliver({ type: "ack", req: 1, seq: 6 });
  assert.equal((await answered).seq, 6);
});

test("reconnects back off exponentially with full jitter, up to 15 s", () => {
  const draws = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
  const { socket, timers } = setup({ random: () => draws.shift() ?? 1 });
  for (let i = 0; i < 8; i++) {
    socket().drop();
    timers.at(-1).f();
  }
  assert.deepEqual(timers.map((t) => t.ms), [250, 500, 1000, 2000, 4000, 7500, 7500, 7500]);
  assert.ok(timers.every((t) => t.ms <= 15000));
});

test("a gap or a patch that does not apply asks for a resync", () => {
  const { conn, socket, events } = setup();
  socket().open();
  socket().deliver(welcome());
  socket().deliver({ type: "snapshot", epoch: 1, seq: 5, view });
  socket().deliver({ type: "update", from: 7, seq: 7, events: [], patch: {} });
  assert.deepEqual(socket().sent.at(-1), { type: "resync" });
  socket().deliver({ type: "update", from: 6, seq: 6, events: [], patch: {} });
  assert.equal(conn.seq, 5, "ignored until the snapshot");
  socket().deliver({ type: "snapshot", epoch: 1, seq: 7, view });
  socket().deliver({ type: "update", from: 8, seq: 8, events: [{ type: "list_closed" }], patch: { order: { len: 3 } } });
  assert.deepEqual(socket().sent.at(-1), { type: "resync" }, "a diverged patch");
  socket().deliver({ type: "snapshot", epoch: 1, seq: 8, view });
  socket().deliver({ type: "update", from: 9, seq: 9, events: [{ type: "list_closed" }], patch: { session: { title: "X" } } });
  assert.equal(conn.view.session.title, "X");
  assert.deepEqual(events.filter(([t]) => t === "view").at(-1)[1].events, [{ type: "list_closed" }]);
});

test("version 2's seq rule: an update may reach back over changes not sent; replays are skipped", () => {
  const { conn, socket } = setup();
  socket().open();
  socket().deliver(welcome());
  socket().deliver({ type: "snapshot", epoch: 1, seq: 9, view });
  const sent = socket().sent.length;
  // The public's previous frame ended at 4; seqs 5..9 (joins) were not sent to it.
  socket().deliver({ type: "update", from: 5, seq: 10, patch: { session: { title: "Y" } } });
  assert.equal(conn.seq, 10);
  assert.equal(conn.view.session.title, "Y");
  socket().deliver({ type: "update", from: 5, seq: 10, patch: { session: { title: "Z" } } });
  assert.equal(conn.view.session.title, "Y", "a replay is skipped");
  assert.equal(socket().sent.length, sent, "no resync for either");
  socket().deliver({ type: "update", from: 12, seq: 12, patch: {} });
  assert.deepEqual(socket().sent.at(-1), { type: "resync" }, "a gap");
});

test("errors reject the command with their code; fatal ones stop reconnecting", async () => {
  const { conn, socket, timers, events } = setup();
  socket().open();
  socket().deliver(welcome());
  const p = conn.send({ type: "grant", seen: null });
  socket().deliver({ type: "error", req: 1, code: "conflict", message: "changed", floor: 2 });
  await assert.rejects(p, (e) => e.code === "conflict" && e.frame.floor === 2);
  const before = timers.length;
  socket().deliver({ type: "error", req: null, code: "bad_token", message: "no" });
  socket().drop(1008);
  assert.equal(timers.length, before, "no reconnect");
  assert.ok(events.some(([t, d]) => t === "fatal" && d === "bad_token"));
});

test("a join's personal token is kept for later hellos", async () => {
  const { conn, socket, timers, events } = setup();
  socket().open();
  socket().deliver(welcome({ role: "participant" }));
  const p = conn.send({ type: "join", profile: { name: "Ana" } });
  socket().deliver({ type: "ack", req: 1, seq: 3, participant: 4, token: "PERSONAL" });
  await p;
  assert.equal(conn.participant, 4);
  assert.ok(events.some(([t, d]) => t === "joined" && d.token === "PERSONAL"));
  socket().drop();
  timers.at(-1).f();
  socket().open();
  assert.equal(socket().sent[0].token, "PERSONAL");
});

test("status goes connecting, online, offline", () => {
  const { socket, events } = setup();
  socket().open();
  socket().deliver(welcome());
  socket().drop();
  assert.deepEqual(events.filter(([t]) => t === "status").map(([, d]) => d), ["online", "offline"]);
});

test("losing the network drops the socket; its return reconnects at once", () => {
  const { conn, socket, timers } = setup();
  socket().open();
  socket().deliver(welcome());
  const first = socket();
  conn.networkLost();
  assert.equal(first.readyState, 3);
  assert.equal(conn.status, "offline");
  const sockets = FakeSocket.all.length;
  conn.networkBack();
  assert.equal(FakeSocket.all.length, sockets + 1, "a new socket without waiting for the timer");
  assert.equal(conn.status, "connecting");
  conn.networkBack();
  assert.equal(FakeSocket.all.length, sockets + 1, "only one");
  assert.ok(timers.length >= 1);
});

test("in a cluster, each reconnect tries the next node the welcome named, and resumes there", () => {
  const { socket, timers } = setup();
  socket().open();
  socket().deliver(welcome({ nodes: ["ws://b/ws", "ws://c/ws"] }));
  socket().deliver({ type: "snapshot", epoch: 1, seq: 5, server_time: 900, view });
  const tried = [];
  for (let i = 0; i < 4; i++) {
    socket().drop();
    timers.at(-1).f();
    tried.push(socket().url);
  }
  assert.deepEqual(tried, ["ws://b/ws", "ws://c/ws", "ws://x/ws", "ws://b/ws"]);
  socket().open();
  assert.deepEqual(socket().sent[0].resume, { epoch: 1, seq: 5 }, "the resume goes to whichever node answers");
  // The node that answers names the others, itself excluded: the rotation starts over from it.
  socket().deliver(welcome({ nodes: ["ws://x/ws", "ws://c/ws"] }));
  socket().drop();
  timers.at(-1).f();
  assert.equal(socket().url, "ws://x/ws");
});

test("a single node's welcome names no nodes: reconnects stay on the one URL", () => {
  const { socket, timers } = setup();
  socket().open();
  socket().deliver(welcome());
  for (let i = 0; i < 3; i++) {
    socket().drop();
    timers.at(-1).f();
    assert.equal(socket().url, "ws://x/ws");
  }
});

test("a command closed with 1009 is refused, never resent; the others are resent", async () => {
  const { conn, socket, timers } = setup();
  socket().open();
  socket().deliver(welcome());
  socket().deliver({ type: "snapshot", epoch: 1, seq: 5, view });
  const big = conn.send({ type: "set_takeaways", text: "长".repeat(30000) });
  const small = conn.send({ type: "raise_hand" });
  socket().drop(1009);
  await assert.rejects(big, (e) => e.code === "message_too_big");
  timers.at(-1).f();
  socket().open();
  socket().deliver(welcome({ recovered: true }));
  assert.deepEqual(socket().sent.slice(1), [{ type: "raise_hand", req: 2 }], "only the small one again");
  socket().deliver({ type: "ack", req: 2, seq: 6 });
  assert.equal((await small).seq, 6);
});

test("the hello rides in the handshake; a server that selects the subprotocol is sent no second hello", () => {
  const { socket } = setup();
  const [name, carried] = socket().protocols;
  assert.equal(name, "rostrum");
  assert.match(carried, /^rostrum\.hello\.[A-Za-z0-9_-]+$/, "base64url, no padding: a valid subprotocol token");
  const json = Buffer.from(carried.slice("rostrum.hello.".length), "base64url").toString();
  assert.deepEqual(JSON.parse(json), { type: "hello", v: 2, session: "S", token: "T" });
  socket().open("rostrum");
  assert.deepEqual(socket().sent, [], "the handshake's hello is the hello");
});

test("moderators' presence: the whole book first, then only who changed, merged into it", () => {
  const { conn, socket } = setup();
  const books = [];
  conn.addEventListener("presence", (e) => books.push(e.detail));
  socket().open();
  socket().deliver(welcome());
  socket().deliver({ type: "snapshot", epoch: 1, seq: 5, server_time: 900, view });
  socket().deliver({ type: "presence", server_time: 901, participants: { 1: "connected", 2: "connected" }, whole: true });
  socket().deliver({ type: "presence", server_time: 902, participants: { 2: "reconnecting" } });
  assert.deepEqual(books.at(-1), { 1: "connected", 2: "reconnecting" }, "a change is merged, not the whole book");
  // A whole book (a reconnect) replaces what was held: someone no longer listed is forgotten.
  socket().deliver({ type: "presence", server_time: 903, participants: { 2: "gone" }, whole: true });
  assert.deepEqual(conn.presence, { 2: "gone" });
});

// The early socket (web/lib/early.js), run as a page's head runs it.
const EARLY = readFileSync(new URL("../lib/early.js", import.meta.url), "utf8");

/** Hands `early` over once, as the page's `takeEarly` does. */
const once = (early) => () => {
  const e = early;
  early = null;
  return e;
};

/** Run early.js at `href` with `stored` in localStorage; what it left for the Connection. */
function runEarly(href, stored = {}) {
  FakeSocket.all = [];
  const url = new URL(href);
  const window = {};
  const localStorage = { getItem: (k) => stored[k] ?? null };
  const location = { pathname: url.pathname, hash: url.hash, protocol: url.protocol, host: url.host };
  vm.runInNewContext(EARLY, { window, location, localStorage, WebSocket: FakeSocket, TextEncoder, URLSearchParams, btoa, Date });
  return window.rostrumEarly;
}

/** The Connection common.js makes at `href` (join: the participant's own token first). */
function connectAt(href, stored, early, clock = null) {
  const url = new URL(href);
  const [, , session, role = "public"] = url.pathname.split("/");
  const frag = fromFragment(url.hash).token;
  const token = role === "join" ? stored[`rostrum:${session}:token`] ?? frag : frag;
  const conn = new Connection({
    url: `${url.protocol === "https:" ? "wss:" : "ws:"}//${url.host}/ws`, session, token, clock,
    WebSocketImpl: FakeSocket, now: () => 9999, early: once(early), setTimeout: () => 0, clearTimeout: () => {},
  });
  conn.start();
  return conn;
}

test("the socket the head opens is the one the Connection would open: the same URL and hello", () => {
  const cases = [
    ["http://h:8080/s/S1/join#t=v1.LINK", {}],
    ["http://h:8080/s/S1/join#t=v1.LINK", { "rostrum:S1:token": "v1.MINE" }], // a revisit
    ["https://h/s/S1/chair#t=v1.CHAIR&room=123456", { "rostrum:S1:token": "v1.MINE" }], // not the join page
    ["http://h/s/S1/join#v1.BARE%2Btoken", {}],
    ["http://h/s/S1/display#t=v1.D", {}],
    ["http://h/s/S1", {}], // the public view: no token
  ];
  for (const [href, stored] of cases) {
    const early = runEarly(href, stored);
    assert.ok(early, href);
    assert.equal(FakeSocket.all.length, 1);
    const conn = connectAt(href, stored, early);
    assert.equal(FakeSocket.all.length, 1, `${href}: the Connection took the early socket`);
    assert.equal(early.ws.readyState, 0, `${href}: not closed`);
    early.ws.open("rostrum");
    early.ws.deliver(welcome());
    assert.equal(conn.status, "online", href);
  }
});

test("what the early socket heard before the script came is taken in order, timed when it came", () => {
  const early = runEarly("http://h/s/S1/chair#t=v1.CHAIR");
  early.ws.open("rostrum");
  early.ws.deliver(welcome());
  early.ws.deliver({ type: "snapshot", epoch: 1, seq: 5, server_time: 900, view });
  early.heard.forEach((h, i) => (h.at = 100 + i)); // came at 100, 101, 102
  const seen = [];
  const conn = connectAt("http://h/s/S1/chair#t=v1.CHAIR", {}, early, { observe: (server, at) => seen.push([server, at]) });
  assert.equal(conn.status, "online");
  assert.equal(conn.secret, "c1.SECRET");
  assert.equal(conn.seq, 5);
  assert.ok(conn.view);
  assert.deepEqual(seen, [[900, 102]], "the snapshot's server time, at the time it came");
  assert.deepEqual(early.ws.sent, [], "the hello rode in the handshake: nothing sent");
  // Later frames reach the Connection directly.
  early.ws.deliver({ type: "ack", req: 1, seq: 5 });
  early.ws.drop();
  assert.equal(conn.status, "offline");
});

test("an early socket that guessed another hello is closed, and the Connection opens its own", () => {
  const early = runEarly("http://h/s/S1/join#t=v1.LINK");
  // The page was told otherwise (say, another token): the guess is not used.
  const conn = new Connection({ url: "ws://h/ws", session: "S1", token: "v1.OTHER", WebSocketImpl: FakeSocket, early: once(early) });
  conn.start();
  assert.equal(early.ws.readyState, 3, "closed");
  assert.equal(FakeSocket.all.length, 2);
  assert.notEqual(FakeSocket.all[1], early.ws);
});

test("an early socket closed before the script came: the Connection reconnects as usual", () => {
  const early = runEarly("http://h/s/S1/chair#t=v1.C");
  early.ws.drop();
  const timers = [];
  const conn = new Connection({
    url: "ws://h/ws", session: "S1", token: "v1.C", WebSocketImpl: FakeSocket, early: once(early),
    setTimeout: (f) => timers.push(f), clearTimeout: () => {},
  });
  conn.start();
  assert.equal(conn.status, "offline");
  assert.equal(timers.length, 1, "a reconnect after the backoff");
  timers[0]();
  assert.equal(FakeSocket.all.length, 2, "a socket of its own");
  assert.equal(FakeSocket.all[1].protocols[1], early.protocols[1], "the same hello");
});
