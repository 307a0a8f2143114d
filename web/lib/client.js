// One console's connection to its session: hello and resume, the view kept current from
// snapshots and patches, commands with their answers, and reconnects with backoff and jitter.
// Commands not yet answered when the connection drops are sent again with the same `req`; the
// server answers a resend from its record instead of acting twice. The record is keyed by the
// client secret the server issued in the first `welcome`: it is kept in memory for the life of
// this Connection and presented in every later hello. Not in storage: a reload starts numbering
// `req` from 1 again and has no unanswered commands to resend, so it takes a fresh secret. In a cluster the welcome names
// the other nodes: each reconnect tries the next one, so a node that dies takes no page with it.

import { applyPatch, applyOrder, fullView, Diverged } from "./view.js";

/** Refusals that no reconnect can cure. */
const FATAL = new Set(["bad_token", "revoked", "unknown_session", "unsupported_version", "damaged"]);
const OPEN = 1;
const SUBPROTOCOL = "rostrum";

/** Base64url without padding, as a subprotocol token allows. */
function base64url(text) {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The socket `early.js` opened in the page's head, handed over once. */
function takeEarly() {
  const early = globalThis.rostrumEarly;
  delete globalThis.rostrumEarly;
  return early;
}

export class Connection extends EventTarget {
  #ws = null;
  #timer = null;
  #attempt = 0;
  #nextReq = 0;
  #pending = new Map();
  #welcomed = false;
  #resyncing = false;
  #stopped = true;
  #fatal = null;
  #lastError = null;
  #urls = [];
  #at = 0;

  /**
   * @param {object} o `url` of /ws, `session` id, capability `token` (null for the public view),
   *   optional `clock` (a Clock fed with every frame's server time); the rest are injectable for
   *   tests. (A `clientId` is ignored: the server issues the client's secret.)
   */
  constructor({ url, session, token = null, clock = null, WebSocketImpl = globalThis.WebSocket, random = Math.random, setTimeout: setT = (f, ms) => globalThis.setTimeout(f, ms), clearTimeout: clearT = (t) => globalThis.clearTimeout(t), now = Date.now, early = takeEarly }) {
    super();
    Object.assign(this, { url, session, token, clock });
    /** The client secret from the server's first welcome, presented on every reconnect. */
    this.secret = null;
    this.#urls = [url];
    this.view = null;
    this.presence = {}; // moderators: who is connected, by participant id
    this.epoch = null;
    this.seq = 0;
    this.role = null;
    this.participant = null;
    this.status = "connecting";
    this._io = { WebSocketImpl, random, setT, clearT, now, early };
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.#emit("status", status);
  }

  /** Connect, and keep reconnecting until `stop()` or a fatal refusal. */
  start() {
    this.#stopped = false;
    this.#open();
  }

  /** The network went away (the browser says so): drop the socket now rather than wait for it
   * to time out; reconnecting goes on as usual. */
  networkLost() {
    this.#ws?.close(4000);
  }

  /** The network is back: reconnect at once instead of waiting out the backoff. */
  networkBack() {
    if (this.#stopped || this.#fatal || this.#ws) return;
    this._io.clearT(this.#timer);
    this.#attempt = 0;
    this.#open();
  }

  /** Close for good. */
  stop() {
    this.#stopped = true;
    this._io.clearT(this.#timer);
    this.#ws?.close(1000);
  }

  #open() {
    this.#setStatus("connecting");
    this.#welcomed = false;
    // The hello rides in the handshake (a subprotocol), so the welcome comes as the socket opens:
    // a round trip sooner. A server (or proxy) that does not select the subprotocol gets the
    // hello as the first message instead.
    const hello = this.#hello();
    const url = this.#urls[this.#at];
    const protocols = [SUBPROTOCOL, `${SUBPROTOCOL}.hello.${base64url(JSON.stringify(hello))}`];
    const early = this.#early(url, protocols);
    const ws = early?.ws ?? new this._io.WebSocketImpl(url, protocols);
    this.#ws = ws;
    ws.onopen = () => {
      if (ws.protocol !== SUBPROTOCOL) this.#raw(hello);
    };
    ws.onmessage = (e, at) => this.#frame(JSON.parse(e.data), at);
    ws.onclose = (e) => this.#closed(e);
    ws.onerror = () => {}; // a close follows
    // What the early socket heard before this script came, in order, as if it came now (but
    // timed when it came, for the clock).
    for (const { e, at } of early?.heard ?? []) ws[`on${e.type}`](e, at);
  }

  /** The socket the page's head opened (`early.js`), if it sent this very hello to this URL;
   * taken once. Any other is closed. */
  #early(url, protocols) {
    const early = this._io.early();
    if (!early) return null;
    if (early.url === url && early.protocols.join() === protocols.join()) return early;
    early.ws.close(1000);
    return null;
  }

  #hello() {
    const hello = { type: "hello", v: 2, session: this.session };
    if (this.secret) hello.client = this.secret;
    if (this.token) hello.token = this.token;
    if (this.view && this.epoch != null) hello.resume = { epoch: this.epoch, seq: this.seq };
    return hello;
  }

  #raw(msg) {
    if (this.#ws?.readyState === OPEN) this.#ws.send(JSON.stringify(msg));
  }

  #closed(e) {
    this.#ws = null;
    this.#setStatus("offline");
    if (this.#stopped || this.#fatal) return;
    // 1009: a command was larger than the server takes. It is the largest one waiting; it is
    // refused here and never sent again (resending it on every reconnect would loop forever).
    if (e?.code === 1009) this.#dropLargest();
    // 1008 is a refused link, unless the server said the page sent too much too fast: then
    // reconnecting (after the backoff) is the cure.
    if (e?.code === 1008 && this.#lastError !== "too_many_messages") {
      this.#fatal = "bad_token";
      this.#emit("fatal", this.#fatal);
      return;
    }
    const delay = this._io.random() * Math.min(15000, 500 * 2 ** this.#attempt);
    this.#attempt += 1;
    this.#at = (this.#at + 1) % this.#urls.length;
    this.#timer = this._io.setT(() => this.#open(), delay);
  }

  #dropLargest() {
    let largest = null;
    let size = -1;
    for (const [req, { msg }] of this.#pending) {
      const n = new TextEncoder().encode(JSON.stringify(msg)).length;
      if (n > size) [largest, size] = [req, n];
    }
    if (largest != null) {
      this.#answer({ req: largest, code: "message_too_big", message: `${size} bytes is more than the server takes` }, true);
    }
  }

  #resync() {
    this.#resyncing = true;
    this.#raw({ type: "resync" });
  }

  #frame(f, at = this._io.now()) {
    if (f.server_time != null) this.clock?.observe(f.server_time, at);
    switch (f.type) {
      case "welcome":
        if (typeof f.client === "string") this.secret = f.client;
        this.role = f.role;
        if (f.participant != null) this.participant = f.participant;
        if (Array.isArray(f.nodes)) {
          const here = this.#urls[this.#at];
          this.#urls = [here, ...new Set([this.url, ...f.nodes].filter((u) => u !== here))];
          this.#at = 0;
        }
        this.#welcomed = true;
        this.#attempt = 0;
        for (const { msg } of this.#pending.values()) this.#raw(msg);
        this.#setStatus("online");
        return;
      case "snapshot":
        this.view = fullView(f.view);
        this.epoch = f.epoch;
        this.seq = f.seq;
        this.#resyncing = false;
        this.#emit("view", { view: this.view, events: [] });
        return;
      case "update":
        if (this.#resyncing || !this.view) return;
        // `from` is the seq after this audience's previous frame: at or before ours.
        if (f.seq <= this.seq) return; // already held (a replay)
        if (f.from > this.seq + 1) return this.#resync();
        const prev = this.view;
        try {
          this.view = applyPatch(this.view, f.patch, f.server_time);
        } catch (err) {
          if (err instanceof Diverged) return this.#resync();
          throw err;
        }
        this.seq = f.seq;
        this.#emit("view", { view: this.view, events: f.events ?? [], prev, patch: f.patch });
        return;
      case "order":
        if (this.#resyncing || !this.view) return;
        this.view = applyOrder(this.view, f.queue);
        this.#emit("view", { view: this.view, events: [] });
        return;
      case "presence": // moderators only: the whole book first, then only who changed
        this.presence = f.whole ? { ...f.participants } : { ...this.presence, ...f.participants };
        return this.#emit("presence", this.presence);
      case "ack":
        return this.#answer(f, null);
      case "error":
        this.#lastError = f.code;
        if (FATAL.has(f.code)) {
          this.#fatal = f.code;
          return this.#emit("fatal", f.code);
        }
        if (f.req != null && this.#pending.has(f.req)) return this.#answer(f, f);
        return this.#emit("error", f);
    }
  }

  #answer(f, error) {
    const p = this.#pending.get(f.req);
    if (!p) return;
    this.#pending.delete(f.req);
    if (error) {
      const err = new Error(f.message);
      err.code = f.code;
      err.frame = f;
      p.reject(err);
      return;
    }
    if (f.token) {
      this.token = f.token;
      this.participant = f.participant;
      this.#emit("joined", { participant: f.participant, token: f.token });
    }
    p.resolve(f);
  }

  /** Send a command; resolves with its `ack`, rejects with an Error carrying `code`. */
  send(command) {
    const req = ++this.#nextReq;
    const msg = { ...command, req };
    return new Promise((resolve, reject) => {
      this.#pending.set(req, { msg, resolve, reject });
      if (this.#welcomed) this.#raw(msg);
    });
  }
}
