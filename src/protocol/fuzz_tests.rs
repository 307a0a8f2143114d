//! The inbound path never panics on arbitrary bytes: one WebSocket text frame is parsed,
//! converted for every kind of caller, and handed to the real session core
//! ([`session::core::Core`](crate::session::core::Core), the actor's code without its I/O),
//! which decides it against a realistic session, applies it when accepted, and publishes it;
//! every answer is phrased as the connection phrases it.
//!
//! [`drive`] is that path. The property tests at the bottom feed it random bytes, random JSON
//! and structurally valid commands with random field values, and check on the way that a
//! refusal changes nothing, that accepted events survive the store's JSON round trip, that the
//! order patch clients get rebuilds the new order, that a resend is answered from the record,
//! and that every frame is JSON.
//!
//! This file is also the body of the cargo-fuzz target (`fuzz/fuzz_targets/ws_frame.rs` includes
//! it by path, with `rostrum`'s `protocol`, `queue` and `session` imported at its root):
//! everything outside `mod props` uses only the crate's public API, so the fuzzer and `cargo
//! test` drive the very same code.

use std::sync::OnceLock;

use serde_json::Value;

use crate::protocol::{
    self, Audience, Incoming, OrderPatch, Outgoing, Patch, Resume, View, WireCommand, WireError,
};
use crate::queue::{
    Actor, AgendaItem, Command, Event, Fact, FloorSeen, Modality, ParticipantId, Policy, Profile,
    Refusal, RequestId, RequestKind, State, Target, TimeLimits, Timestamp, decide,
};
use crate::session::core::{Core, Decision};
use crate::session::{Answer, Frame, Sender, SessionConfig};

/// 2025-11-22 14:00 UTC, when the realistic session opens.
pub(crate) const T0: u64 = 1_763_820_000_000;

/// A live session: the actor's core, the log it folds from, and the clock.
pub(crate) struct Live {
    /// The session core commands are decided by.
    pub core: Core,
    /// Every event applied, in order (`State::replay` of it is the core's state).
    pub log: Vec<Event>,
    /// Server time of the next command; it only moves forward, as the actor's clock does.
    pub now: Timestamp,
    /// A client of each audience (moderator, public): the view it holds from the frames it was
    /// sent, and the seq it is at.
    pub clients: [(View, u64); 2],
    /// The clients as they were after each earlier frame, to resume from.
    pub history: Vec<[(View, u64); 2]>,
}

/// The realistic session's log and clock, built once.
#[derive(Clone)]
struct Built {
    state: State,
    log: Vec<Event>,
    now: Timestamp,
}

impl Live {
    /// An opened session with an agenda (the first item has a roster speaker), six participants
    /// (onsite, online, a hub; one of them removed), a speaker on the floor, a waiting queue
    /// with a ready remote request, a pinned entry, a parked request and a proxy, and a link.
    pub(crate) fn realistic() -> Live {
        static BASE: OnceLock<Built> = OnceLock::new();
        let base = BASE.get_or_init(build_realistic);
        let core = Core::new(
            (1, 1),
            &SessionConfig::default(),
            &base.log,
            Vec::new(),
            base.now,
        );
        assert!(core.state() == &base.state, "the core replays the log");
        let seq = base.state.seq();
        let clients = [Audience::Moderator, Audience::Public]
            .map(|a| (View::of(&base.state, a, base.now), seq));
        Live {
            core,
            log: base.log.clone(),
            now: base.now,
            history: vec![clients.clone()],
            clients,
        }
    }

    /// The session's state.
    pub(crate) fn state(&self) -> &State {
        self.core.state()
    }

    /// Advance the clock by `ms`.
    pub(crate) fn tick(&mut self, ms: u64) {
        self.now = self.now.plus(ms);
    }
}

impl Built {
    fn ok(&mut self, actor: Actor, command: Command) -> Vec<Event> {
        let what = format!("{command:?}");
        let events = decide(&self.state, actor, command, self.now)
            .unwrap_or_else(|r| panic!("building the session: {what} refused: {r}"));
        for e in &events {
            self.state.apply(e);
        }
        self.log.extend_from_slice(&events);
        self.now = self.now.plus(1_000);
        events
    }

    fn join(&mut self, profile: Profile) -> ParticipantId {
        let events = self.ok(Actor::Newcomer, Command::Join { profile });
        events
            .iter()
            .find_map(|e| match e.fact {
                Fact::ParticipantJoined { participant, .. } => Some(participant),
                _ => None,
            })
            .expect("a join is a ParticipantJoined")
    }

    fn raise(&mut self, p: ParticipantId, kind: RequestKind, note: Option<&str>) -> RequestId {
        let events = self.ok(
            Actor::Participant(p),
            Command::RaiseHand {
                participant: p,
                kind,
                note: note.map(str::to_owned),
            },
        );
        raised(&events)
    }
}

fn raised(events: &[Event]) -> RequestId {
    events
        .iter()
        .find_map(|e| match e.fact {
            Fact::HandRaised { request, .. } => Some(request),
            _ => None,
        })
        .expect("a raise is a HandRaised")
}

fn build_realistic() -> Built {
    let mut l = Built {
        state: State::default(),
        log: Vec::new(),
        now: Timestamp(T0),
    };
    l.ok(
        Actor::Organizer,
        Command::OpenSession {
            title: "Main session: cybersecurity norms".into(),
            policy: Policy::default(),
            limits: TimeLimits::default(),
            agenda: vec![
                AgendaItem {
                    title: "Norms".into(),
                    roster: vec![Profile::new("Panelist", "EuroDIG", Modality::Onsite)],
                },
                AgendaItem {
                    title: "Capacity building".into(),
                    roster: Vec::new(),
                },
            ],
        },
    );
    let ana = l.join(Profile::new("Ana Lima", "Brazil", Modality::Online));
    let bo = l.join(Profile::new("Bo Mwangi", "Kenya", Modality::Onsite));
    let mut hub = Profile::new("Pacific hub", "Vanuatu IGF", Modality::Hub);
    hub.head_count = 12;
    let hub = l.join(hub);
    let dee = l.join(Profile::new("Dee Chen", "APNIC", Modality::Online));
    let eve = l.join(Profile::new("Eve Martin", "France", Modality::Onsite));
    let mal = l.join(Profile::new("Mallory", "", Modality::Online));

    let ana_r = l.raise(ana, RequestKind::Question, Some("On CERT cooperation"));
    l.raise(bo, RequestKind::Intervention, None);
    let hub_r = l.raise(hub, RequestKind::Intervention, None);
    l.raise(
        dee,
        RequestKind::TextIntervention,
        Some("From the chat: small CERTs?"),
    );
    let eve_r = l.raise(eve, RequestKind::Intervention, None);

    // Someone speaks (the roster's panelist, first in line).
    l.ok(
        Actor::Chair,
        Command::GrantFloor {
            target: Target::Next,
            force: true,
            seen: FloorSeen::Any,
            reason: None,
        },
    );
    l.ok(
        Actor::OnlineModerator,
        Command::MarkReady {
            request: ana_r,
            ready: true,
        },
    );
    l.ok(
        Actor::Participant(eve),
        Command::DeclineForNow { request: eve_r },
    );
    l.ok(
        Actor::Chair,
        Command::Move {
            request: hub_r,
            position: 1,
            reason: Some("the hub has a hard stop".into()),
        },
    );
    l.ok(
        Actor::Chair,
        Command::AddProxy {
            profile: Profile::new("Walk-in speaker", "ISOC", Modality::Onsite),
            kind: RequestKind::Question,
            note: None,
        },
    );
    l.ok(
        Actor::Chair,
        Command::PostLink {
            title: "Input presentation".into(),
            url: "https://igf.example/slides.pdf".into(),
        },
    );
    l.ok(
        Actor::Chair,
        Command::RemoveParticipant {
            participant: mal,
            reason: Some("spam".into()),
        },
    );
    l
}

/// Everyone a frame could come from, as the core's actor (`None`: the read-only display): both
/// moderators, a newcomer, the display, every participant (the removed one too, capped), and
/// participant ids the session never issued.
fn callers(s: &State) -> Vec<Option<Actor>> {
    let mut callers = vec![
        Some(Actor::Chair),
        Some(Actor::OnlineModerator),
        Some(Actor::Newcomer),
        None,
    ];
    let n = u32::try_from(s.participants().len()).unwrap_or(u32::MAX);
    // The first eight and the newest: a long sequence of joins must not make a frame slower.
    callers.extend((0..n.min(8)).map(|p| Some(Actor::Participant(ParticipantId(p)))));
    if n > 8 {
        callers.push(Some(Actor::Participant(ParticipantId(n - 1))));
    }
    callers.push(Some(Actor::Participant(ParticipantId(n))));
    callers.push(Some(Actor::Participant(ParticipantId(u32::MAX))));
    callers
}

/// One incoming text frame, end to end, for every caller in turn (accepted commands change the
/// session the next caller sees). Panics only when an invariant of the path breaks.
pub(crate) fn drive(live: &mut Live, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    // The actor's timers: whatever the time passing brought (the starvation guard, presence).
    let passed = live.core.handle_timeout(live.now);
    if let Some(order) = passed.order {
        for (i, audience) in [Audience::Moderator, Audience::Public]
            .into_iter()
            .enumerate()
        {
            let v = frame(&order, audience, "order").expect("an order frame goes to everyone");
            live.clients[i].0.queue =
                serde_json::from_value(v["queue"].clone()).expect("an order reads back");
        }
    }
    match protocol::parse(&text) {
        Err((req, e)) => phrase_wire(req, &e),
        // On an established connection a second hello is an error; a resync is a snapshot.
        Ok(Incoming::Hello(_)) => phrase_wire(None, &WireError::HelloTwice),
        Ok(Incoming::Resync) => subscribe(live),
        Ok(Incoming::Command { req, command }) => {
            let rooms: &[bool] = match command {
                WireCommand::Join { .. } => &[false, true],
                _ => &[false],
            };
            for caller in callers(live.state()) {
                for &in_room in rooms {
                    submit(live, req, caller, command.clone(), in_room);
                }
            }
        }
    }
}

/// What the connection (`ws/submit.rs`) and the session actor do with one command: a viewer
/// (no actor) is read-only; otherwise convert it for the actor, and have the core decide it,
/// apply it (as if the store took the append) and answer it.
fn submit(live: &mut Live, req: u64, caller: Option<Actor>, command: WireCommand, in_room: bool) {
    let Some(actor) = caller else {
        return phrase_wire(Some(req), &WireError::ReadOnly);
    };
    let command = match command.into_command(actor, in_room) {
        Err(e) => return phrase_wire(Some(req), &e),
        Ok(command) => command,
    };
    let now = live.core.now(live.now);
    live.tick(1_000);
    let sender = Sender::new(actor, "fuzz");
    let before = live.state().clone();
    let answer = match live.core.decide(actor, command, now) {
        Decision::Refused(r) => {
            assert!(live.state() == &before, "a refusal changes nothing");
            phrase_refusal(req, &r);
            Answer::Refused(r)
        }
        Decision::Done(answer) => answer,
        Decision::Append(events) => accept(live, req, &events, now),
    };
    if let Answer::Ack { seq, participant } = answer {
        let ack = protocol::encode(&Outgoing::Ack {
            req,
            seq,
            participant: participant.map(|p| p.0),
            token: None,
        });
        let v = json_frame(&ack, "ack");
        assert_eq!(v["req"], Value::from(req));
    }
    live.core
        .remember(Some(sender.clone()), req, answer.clone(), now);
    assert!(
        live.core.answered(Some(&sender), req, live.now) == Some(answer),
        "a resend is answered from the record"
    );
}

/// Append (the store's JSON round trip), apply and publish accepted events; the ack.
fn accept(live: &mut Live, req: u64, events: &[Event], now: Timestamp) -> Answer {
    // What clients were last sent: the update's order patch is from it.
    let old_order = live.core.order().to_vec();
    let from = live.state().seq() + 1;
    for e in events {
        assert!(e.at == now, "an event carries the decision's time");
        // The store keeps events as JSON and replays them from it.
        let stored = serde_json::to_string(e).expect("events serialize");
        let back: Event = serde_json::from_str(&stored)
            .unwrap_or_else(|err| panic!("a stored event reads back: {err}\n{stored}"));
        assert!(&back == e, "a stored event reads back as itself");
    }
    let published = live.core.applied(req, events, now);
    live.log.extend_from_slice(events);
    let seq = live.state().seq();
    assert_eq!(seq + 1 - from, events.len() as u64, "one seq per event");
    assert_eq!((published.frame.from, published.frame.seq), (from, seq));

    let new_order = protocol::slots(live.state(), now);
    let audiences = [Audience::Moderator, Audience::Public];
    for (i, audience) in audiences.into_iter().enumerate() {
        let fresh = View::of(live.state(), audience, now);
        let Some(update) = frame(&published.frame, audience, "update") else {
            // Not sent: the audience's view did not change.
            assert_eq!(audience, Audience::Public, "moderators get every update");
            assert!(
                live.clients[i].0 == fresh,
                "a change the public is not sent leaves its view as it was"
            );
            continue;
        };
        // The stream applies: `from` reaches back to the audience's previous frame, and the
        // patch moves the client's view to a fresh snapshot's.
        let (view, at) = &mut live.clients[i];
        let update_from = update["from"].as_u64().expect("from");
        assert!(update_from <= *at + 1 && seq > *at, "no gap, no replay");
        if audience == Audience::Moderator {
            assert_eq!(update_from, *at + 1, "moderators get every update");
        }
        let patch: Patch =
            serde_json::from_value(update["patch"].clone()).expect("a patch reads back");
        view.apply(&patch, now)
            .unwrap_or_else(|e| panic!("a patch applies: {e}"));
        assert!(
            *view == fresh,
            "patches bring a view to a fresh snapshot ({audience:?})"
        );
        *at = seq;
        if audience == Audience::Public {
            assert!(update.get("events").is_none(), "the public gets no events");
            continue;
        }
        assert_eq!(update["req"], Value::from(req));
        // Events are written straight into the frame; they read as the stored form made flat.
        let flat: Vec<Value> = events
            .iter()
            .zip(from..)
            .filter_map(|(e, seq)| flat_event(seq, e, audience))
            .collect();
        assert_eq!(update["events"], Value::Array(flat), "events as moderator");
        // The order patch clients get rebuilds the new order from the old one (less a new
        // floor's request, which the floor takes out of the queue).
        let mut rebuilt = old_order.clone();
        if let Some(id) = update["patch"]["floor"]["request"].as_u64() {
            rebuilt.retain(|s| u64::from(s.request) != id);
        }
        if let Some(patch) = update["patch"].get("order") {
            let patch: OrderPatch =
                serde_json::from_value(patch.clone()).expect("an order patch reads back");
            patch
                .apply(&mut rebuilt)
                .unwrap_or_else(|e| panic!("an order patch applies: {e}"));
        }
        assert!(
            rebuilt == new_order,
            "an order patch rebuilds the new order"
        );
    }
    live.history.push(live.clients.clone());
    live.core.ack(events)
}

/// The event as its audience sees it, made from its stored form by hand: the reference the
/// frames' events are checked against. Flat, with a `type`; no gender ever; the public sees no
/// joins, profile changes or notes.
fn flat_event(seq: u64, e: &Event, audience: Audience) -> Option<Value> {
    let public = audience == Audience::Public;
    if public
        && matches!(
            e.fact,
            Fact::ParticipantJoined { .. } | Fact::ProfileUpdated { .. }
        )
    {
        return None;
    }
    let Value::Object(mut obj) = serde_json::to_value(e).expect("events serialize") else {
        unreachable!("an event is an object")
    };
    let mut flat = serde_json::Map::new();
    flat.insert("seq".into(), seq.into());
    flat.insert("at".into(), obj.remove("at").expect("at"));
    flat.insert("actor".into(), obj.remove("actor").expect("actor"));
    match obj.remove("fact").expect("fact") {
        Value::String(name) => {
            flat.insert("type".into(), name.into());
        }
        Value::Object(tagged) => {
            let (name, fields) = tagged.into_iter().next().expect("a fact has its name");
            flat.insert("type".into(), name.into());
            if let Value::Object(fields) = fields {
                flat.extend(fields);
            }
        }
        other => panic!("a fact is a name or a tagged object: {other}"),
    }
    if let Some(Value::Object(profile)) = flat.get_mut("profile") {
        profile.remove("gender");
    }
    if public {
        flat.remove("note");
    }
    Some(Value::Object(flat))
}

/// An audience's bytes of a frame, if it is sent to them: a JSON object of the given type.
fn frame(frame: &Frame, audience: Audience, kind: &str) -> Option<Value> {
    frame.bytes(audience).map(|bytes| {
        let text = std::str::from_utf8(&bytes).expect("frames are UTF-8");
        json_frame(text, kind)
    })
}

/// What a connection starts with: a snapshot for both audiences, as a resync gets; and, for a
/// client that resumes from any earlier point the ring still holds, the missed frames of its
/// audience, which bring its view to the snapshot's.
fn subscribe(live: &mut Live) {
    let now = live.now;
    for (i, audience) in [Audience::Moderator, Audience::Public]
        .into_iter()
        .enumerate()
    {
        let start = live.core.subscribe(audience, None, now);
        assert!(!start.recovered);
        let first = std::str::from_utf8(&start.initial[0]).expect("UTF-8");
        let snapshot = json_frame(first, "snapshot");
        let mut fresh: View = serde_json::from_value(snapshot["view"].clone()).expect("a view");
        // A resume ends with the order as last published (a reorder with no event is
        // published by the actor's timer, which these tests do not run).
        fresh.queue = live.core.order().to_vec();
        for earlier in &live.history {
            let (mut view, mut at) = earlier[i].clone();
            let resume = Resume {
                epoch: live.core.epoch(),
                seq: at,
            };
            let start = live.core.subscribe(audience, Some(resume), now);
            if !start.recovered {
                continue; // past the ring: a snapshot, checked above
            }
            for bytes in &start.initial {
                let v: Value = serde_json::from_slice(bytes).expect("a resumed frame is JSON");
                match v["type"].as_str() {
                    Some("update") => {
                        let from = v["from"].as_u64().expect("from");
                        assert!(from <= at + 1, "a resume has no gap");
                        let patch: Patch =
                            serde_json::from_value(v["patch"].clone()).expect("a patch");
                        view.apply(&patch, Timestamp(v["server_time"].as_u64().expect("time")))
                            .expect("a resumed patch applies");
                        at = v["seq"].as_u64().expect("seq");
                    }
                    Some("order") => {
                        view.queue = serde_json::from_value(v["queue"].clone()).expect("an order");
                    }
                    _ => {}
                }
            }
            assert!(
                view == fresh,
                "a resumed view equals a fresh snapshot ({audience:?})"
            );
        }
    }
}

fn phrase_wire(req: Option<u64>, e: &WireError) {
    error_frame(&protocol::wire_error(req, e), req, e.code());
}

fn phrase_refusal(req: u64, r: &Refusal) {
    error_frame(&protocol::refusal(Some(req), r), Some(req), r.code());
}

/// An `error` frame: JSON, with the request id, the code, and a message.
fn error_frame(frame: &str, req: Option<u64>, code: &str) {
    let v = json_frame(frame, "error");
    assert_eq!(v["req"], req.map_or(Value::Null, Value::from), "{frame}");
    assert_eq!(v["code"], code, "{frame}");
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "an error says what went wrong: {frame}"
    );
}

/// A server frame is one JSON object of the given type.
fn json_frame(frame: &str, kind: &str) -> Value {
    let v: Value = serde_json::from_str(frame)
        .unwrap_or_else(|e| panic!("a server frame is JSON ({e}): {frame}"));
    assert_eq!(v["type"], kind, "{frame}");
    v
}

#[cfg(test)]
mod props {
    use proptest::collection::{btree_map, vec};
    use proptest::option;
    use proptest::prelude::*;
    use proptest::sample::select;
    use serde_json::{Map, Number, Value, json};

    use super::*;

    /// Every command a client can send, with its fields (see `WireCommand` and the "Commands"
    /// section of docs/protocol.md); `hello` and `resync` too.
    const COMMANDS: &[(&str, &[&str])] = &[
        ("hello", &["v", "session", "token", "client", "resume"]),
        ("resync", &[]),
        ("join", &["profile", "room"]),
        ("update_profile", &["profile"]),
        ("raise_hand", &["kind", "note"]),
        ("raise_for", &["participant", "kind", "note"]),
        ("add_proxy", &["profile", "kind", "note"]),
        ("change_request", &["request", "kind", "note"]),
        ("lower_hand", &["request"]),
        ("decline_for_now", &["request"]),
        ("audio_failed", &["request"]),
        ("rejoin", &["request"]),
        ("mark_ready", &["request", "ready"]),
        ("grant", &["request", "force", "seen"]),
        ("end_turn", &["seen"]),
        ("yield", &[]),
        ("pause", &["seen"]),
        ("resume_clock", &["seen"]),
        ("extend", &["by_ms", "seen"]),
        ("show_text", &["shown", "seen"]),
        ("move", &["request", "position", "reason"]),
        ("remove", &["request", "reason"]),
        ("readd_last", &["reason"]),
        ("close_list", &["confirm"]),
        ("reopen_list", &[]),
        ("set_policy", &["policy"]),
        ("set_time_limits", &["limits"]),
        ("set_moderator_scope", &["remote_only"]),
        ("set_agenda", &["items"]),
        ("advance_agenda", &["carry_over"]),
        ("post_link", &["title", "url"]),
        ("remove_link", &["link"]),
        ("set_control", &["control", "on"]),
        ("remove_participant", &["participant", "reason"]),
        ("remove_silent", &["since", "reason"]),
        ("end_session", &[]),
        ("set_takeaways", &["text"]),
    ];

    /// Keys random objects draw from, besides random strings: every field name above, the
    /// envelope's, and the nested objects'.
    const KEYS: &[&str] = &[
        "type",
        "req",
        "v",
        "session",
        "token",
        "client",
        "resume",
        "epoch",
        "seq",
        "profile",
        "room",
        "kind",
        "note",
        "participant",
        "request",
        "ready",
        "force",
        "seen",
        "shown",
        "by_ms",
        "position",
        "reason",
        "confirm",
        "policy",
        "limits",
        "remote_only",
        "items",
        "carry_over",
        "title",
        "url",
        "link",
        "control",
        "on",
        "name",
        "affiliation",
        "modality",
        "head_count",
        "stakeholder",
        "gender",
        "language",
        "order",
        "remote",
        "starvation_ms",
        "default_ms",
        "per_kind",
        "warning_ms",
        "roster",
    ];

    const KINDS: &[&str] = &[
        "intervention",
        "question",
        "direct_reply",
        "point_of_order",
        "text_intervention",
    ];
    const MODALITIES: &[&str] = &["onsite", "online", "hub"];
    const STAKEHOLDERS: &[&str] = &[
        "government",
        "private_sector",
        "civil_society",
        "technical_community",
        "academia",
        "intergovernmental_organization",
        "other",
    ];
    const GENDERS: &[&str] = &["woman", "man", "non_binary", "self_described"];
    const CONTROLS: &[&str] = &["lock", "suspend", "rename_lock"];
    const ORDERS: &[&str] = &["fifo", "alternate", "first_time_first"];

    /// Strings that have broken text handling somewhere.
    const NASTY: &[&str] = &[
        "",
        " ",
        "\u{0}",
        "\u{7f}\u{1b}[2J",
        "\r\n\t",
        "\u{202e}evil\u{202c}",
        "a\u{200b}b\u{200d}",
        "\u{feff}",
        "\u{fffd}",
        "🙋\u{200d}♀\u{fe0f}",
        "Ana\u{301}",
        "Аna Lima",
        "ﷺ",
        "\u{10ffff}",
        "<script>alert(1)</script>",
        "javascript:alert(1)",
        "https://",
        "http://x",
        "ftp://igf.example/",
        "https://igf.example/slides.pdf",
        "\"\\",
        "%00",
        "null",
        "18446744073709551616",
    ];

    /// The page's examples and a few broken frames: the starting points of mutated inputs.
    const SEEDS: &[&str] = &[
        r#"{"type": "hello", "v": 2, "session": "6c1f0c2a9d3b4e7f8a1b2c3d4e5f6a7b", "token": "v1.eyJyIjoiY2hhaXIi....", "client": "tab-4f2a", "resume": {"epoch": 1, "seq": 42}}"#,
        r#"{"type": "resync"}"#,
        r#"{"type": "join", "req": 1, "profile": {"name": "Ana Lima", "affiliation": "Brazil", "modality": "online", "stakeholder": "civil_society", "language": "pt"}}"#,
        r#"{"type": "raise_hand", "req": 2, "kind": "question", "note": "On CERT cooperation"}"#,
        r#"{"type": "change_request", "req": 3, "request": 4, "kind": "direct_reply", "note": null}"#,
        r#"{"type": "grant", "req": 21, "request": 4, "force": true, "seen": 0}"#,
        r#"{"type": "extend", "req": 25, "seen": 0, "by_ms": 30000}"#,
        r#"{"type": "move", "req": 29, "request": 4, "position": 1, "reason": "panel asked to respond"}"#,
        r#"{"type": "set_policy", "req": 34, "policy": {"order": "alternate", "room": 1, "remote": 1, "starvation_ms": 600000}}"#,
        r#"{"type": "set_time_limits", "req": 35, "limits": {"default_ms": 120000, "per_kind": {"point_of_order": 60000}, "warning_ms": 20000}}"#,
        r#"{"type": "set_agenda", "req": 37, "items": [{"title": "Norms"}, {"title": "Capacity building", "roster": [{"name": "Panelist", "affiliation": "EuroDIG", "modality": "onsite", "head_count": 1}]}]}"#,
        r#"{"type": "set_control", "req": 41, "control": "lock", "on": true}"#,
        r#"{"type": "raise_for", "req": 99, "participant": 4294967295, "kind": "question"}"#,
        r#"{"type": "raise_hand", "req": -1}"#,
        r#"{"req": 1}"#,
        r#"[{"type": "yield", "req": 7}]"#,
    ];

    fn number() -> BoxedStrategy<Value> {
        prop_oneof![
            12 => (0u64..12).prop_map(Value::from),
            1 => any::<u32>().prop_map(Value::from),
            1 => any::<u64>().prop_map(Value::from),
            1 => any::<i64>().prop_map(Value::from),
            1 => select(vec![
                u64::from(u32::MAX),
                u64::from(u32::MAX) + 1,
                u64::from(u8::MAX) + 1,
                i64::MAX as u64,
                u64::MAX,
            ])
            .prop_map(Value::from),
            1 => select(&[i64::MIN, -1][..]).prop_map(Value::from),
            1 => any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
            1 => select(&[0.5, -0.0, 1e308, 3.0, 4_294_967_296.0][..]).prop_map(Value::from),
        ]
        .boxed()
    }

    fn string() -> BoxedStrategy<String> {
        prop_oneof![
            3 => any::<String>(),
            3 => vec(any::<char>(), 0..24).prop_map(|c| c.into_iter().collect()),
            2 => select(NASTY).prop_map(str::to_owned),
            1 => (1usize..3_000).prop_map(|n| "é".repeat(n)),
        ]
        .boxed()
    }

    /// Mostly ordinary words, sometimes any string.
    fn words(ordinary: &'static [&'static str]) -> BoxedStrategy<Value> {
        prop_oneof![3 => select(ordinary).prop_map(Value::from), 2 => text()].boxed()
    }

    fn text() -> BoxedStrategy<Value> {
        string().prop_map(Value::from).boxed()
    }

    fn one_of(names: &'static [&'static str]) -> BoxedStrategy<Value> {
        prop_oneof![8 => select(names).prop_map(Value::from), 1 => text()].boxed()
    }

    /// Random JSON of every type, nested a few levels.
    fn any_json() -> BoxedStrategy<Value> {
        let key = prop_oneof![2 => select(KEYS).prop_map(str::to_owned), 1 => string()];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            number(),
            text(),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                vec(inner.clone(), 0..6).prop_map(Value::Array),
                btree_map(key.clone(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
        .boxed()
    }

    /// An object with the given fields, each present most of the time, and maybe a stray one.
    fn object(fields: &'static [&'static str]) -> BoxedStrategy<Map<String, Value>> {
        let present: Vec<_> = fields
            .iter()
            .map(|&f| option::weighted(0.85, field(f)).prop_map(move |v| (f, v)))
            .collect();
        let stray = option::weighted(
            0.15,
            (
                prop_oneof![select(KEYS).prop_map(str::to_owned), string()],
                any_json(),
            ),
        );
        (present, stray)
            .prop_map(|(present, stray)| {
                let mut m: Map<String, Value> = present
                    .into_iter()
                    .filter_map(|(f, v)| Some((f.to_owned(), v?)))
                    .collect();
                if let Some((k, v)) = stray {
                    m.insert(k, v);
                }
                m
            })
            .boxed()
    }

    fn profile() -> BoxedStrategy<Value> {
        object(&[
            "name",
            "affiliation",
            "modality",
            "head_count",
            "stakeholder",
            "gender",
            "language",
        ])
        .prop_map(Value::Object)
        .boxed()
    }

    /// A plausible value for a field of this name, or now and then anything at all.
    fn field(name: &'static str) -> BoxedStrategy<Value> {
        let plausible = match name {
            "request" | "participant" | "link" | "position" | "v" | "epoch" | "seq" => number(),
            "seen" => prop_oneof![
                2 => Just(Value::Null),
                2 => (0u32..3).prop_map(Value::from),
                1 => number(),
            ]
            .boxed(),
            "head_count" => prop_oneof![
                4 => Just(Value::from(1)),
                2 => (0u32..30).prop_map(Value::from),
                1 => number(),
            ]
            .boxed(),
            "by_ms" | "starvation_ms" | "default_ms" | "warning_ms" | "remote" => prop_oneof![
                3 => number(),
                1 => select(&[0u64, 1_000, 10_000, 30_000, 3_600_000, 3_600_001][..])
                    .prop_map(Value::from),
            ]
            .boxed(),
            "ready" | "force" | "confirm" | "remote_only" | "carry_over" | "on" => {
                any::<bool>().prop_map(Value::from).boxed()
            }
            "kind" => one_of(KINDS),
            "modality" => one_of(MODALITIES),
            "stakeholder" => one_of(STAKEHOLDERS),
            "gender" => one_of(GENDERS),
            "control" => one_of(CONTROLS),
            "order" => one_of(ORDERS),
            "profile" => profile(),
            "resume" => object(&["epoch", "seq"]).prop_map(Value::Object).boxed(),
            "policy" => {
                // `room` is a string in a join and a count in a policy.
                (object(&["order", "remote", "starvation_ms"]), number())
                    .prop_map(|(mut m, room)| {
                        m.insert("room".into(), room);
                        Value::Object(m)
                    })
                    .boxed()
            }
            "limits" => (
                object(&["default_ms", "warning_ms"]),
                btree_map(
                    one_of(KINDS).prop_map(|k| k.as_str().unwrap_or_default().to_owned()),
                    number(),
                    0..4,
                ),
            )
                .prop_map(|(mut m, per_kind)| {
                    m.insert(
                        "per_kind".into(),
                        Value::Object(per_kind.into_iter().collect()),
                    );
                    Value::Object(m)
                })
                .boxed(),
            "items" => vec(
                (text(), vec(profile(), 0..3))
                    .prop_map(|(title, roster)| json!({"title": title, "roster": roster})),
                0..4,
            )
            .prop_map(Value::Array)
            .boxed(),
            "url" => prop_oneof![
                2 => select(&[
                    "https://igf.example/slides.pdf",
                    "http://igf.example",
                    "HTTPS://IGF.EXAMPLE/",
                    "https://",
                    "javascript:alert(1)",
                    "data:text/html,<b>x</b>",
                    "https://igf.example/\u{202e}fdp.exe",
                ][..])
                .prop_map(Value::from),
                1 => string().prop_map(|s| Value::from(format!("https://{s}"))),
                1 => text(),
            ]
            .boxed(),
            "name" | "affiliation" | "title" => words(&[
                "Ana Lima",
                "Bo Mwangi",
                "Pacific hub",
                "Ministry of ICT",
                "Zoë Ñúñez",
                "محمد الأحمد",
                "李雷",
                "Norms",
            ]),
            "language" => words(&["fr", "pt", "ar", "zh-Hant", "en-GB"]),
            "room" => words(&["4821", "000000", "room"]),
            "note" | "reason" => prop_oneof![
                1 => Just(Value::Null),
                1 => words(&["On CERT cooperation", "was cut off", "spam"]),
            ]
            .boxed(),
            _ => text(),
        };
        prop_oneof![14 => plausible, 1 => any_json()].boxed()
    }

    /// A command (or hello, or resync) of a real type with plausible, random fields.
    fn command() -> BoxedStrategy<Value> {
        let req = prop_oneof![
            8 => (0u64..1_000).prop_map(|r| Some(Value::from(r))),
            1 => number().prop_map(Some),
            1 => Just(None),
        ];
        (select(COMMANDS), req)
            .prop_flat_map(|((kind, fields), req)| {
                object(fields).prop_map(move |mut m| {
                    m.insert("type".into(), Value::from(kind));
                    if let Some(req) = &req {
                        m.insert("req".into(), req.clone());
                    }
                    Value::Object(m)
                })
            })
            .boxed()
    }

    /// One of the seeds with a few bytes flipped, dropped, inserted or cut off.
    fn mutated_seed() -> BoxedStrategy<Vec<u8>> {
        (
            select(SEEDS),
            vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>()), 1..6),
        )
            .prop_map(|(seed, edits)| {
                let mut b = seed.as_bytes().to_vec();
                for (at, op, byte) in edits {
                    if b.is_empty() {
                        b.push(byte);
                        continue;
                    }
                    let i = at.index(b.len());
                    match op {
                        0 => b[i] = byte,
                        1 => {
                            b.remove(i);
                        }
                        2 => b.insert(i, byte),
                        _ => b.truncate(i),
                    }
                }
                b
            })
            .boxed()
    }

    fn frame() -> BoxedStrategy<Vec<u8>> {
        prop_oneof![
            6 => command().prop_map(|v| v.to_string().into_bytes()),
            1 => mutated_seed(),
            1 => any_json().prop_map(|v| v.to_string().into_bytes()),
        ]
        .boxed()
    }

    fn drive_fresh(bytes: &[u8]) {
        let mut live = Live::realistic();
        drive(&mut live, bytes);
        assert!(State::replay(&live.log) == *live.state(), "the log replays");
    }

    #[test]
    fn the_realistic_session_has_everything() {
        let live = Live::realistic();
        let s = live.state();
        assert!(s.is_open());
        assert!(s.floor().is_some(), "someone speaks");
        assert!(s.queued_len() >= 4, "a queue waits");
        assert!(s.participants().iter().any(|p| p.removed));
        assert!(
            s.participants()
                .iter()
                .any(|p| p.profile.modality == Modality::Hub)
        );
        assert!(!s.links().is_empty());
        assert_eq!(State::replay(&live.log), *s);
    }

    #[test]
    fn the_type_list_is_the_protocols() {
        for (kind, _) in COMMANDS {
            let frame = json!({"type": kind, "req": 1}).to_string();
            if let Err((_, WireError::UnknownType(t))) = protocol::parse(&frame) {
                panic!("`{t}` is not a command");
            }
        }
        let page = include_str!("../../docs/protocol.md");
        for block in page.split("```json client\n").skip(1) {
            let text = block.split("\n```").next().unwrap_or_default();
            let v: Value = serde_json::from_str(text).expect("the page's examples are JSON");
            let kind = v["type"].as_str().expect("every example has a type");
            assert!(
                COMMANDS.iter().any(|(k, _)| *k == kind),
                "`{kind}` is missing from COMMANDS"
            );
        }
    }

    #[test]
    fn the_seeds_and_the_pages_examples_drive_cleanly() {
        for seed in SEEDS {
            drive_fresh(seed.as_bytes());
        }
        // Every example in a row on one session: the commands reach `decide` and some apply.
        let mut live = Live::realistic();
        let page = include_str!("../../docs/protocol.md");
        for block in page.split("```json client\n").skip(1) {
            drive(
                &mut live,
                block.split("\n```").next().unwrap_or_default().as_bytes(),
            );
        }
        assert!(live.state().seq() > Live::realistic().state().seq());
        assert!(State::replay(&live.log) == *live.state());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
            drive_fresh(&bytes);
        }

        #[test]
        fn mutated_frames_never_panic(bytes in mutated_seed()) {
            drive_fresh(&bytes);
        }

        #[test]
        fn arbitrary_json_never_panics(v in any_json()) {
            drive_fresh(v.to_string().as_bytes());
        }

        #[test]
        fn commands_with_random_fields_never_panic(v in command()) {
            drive_fresh(v.to_string().as_bytes());
        }

        /// A connection's life: frames one after another on the same session, with time
        /// passing between them (past the starvation guard, sometimes).
        #[test]
        fn frame_sequences_never_panic(
            frames in vec((0u64..1_200_000, frame()), 1..6),
        ) {
            let mut live = Live::realistic();
            for (ms, bytes) in &frames {
                live.tick(*ms);
                drive(&mut live, bytes);
            }
            prop_assert!(State::replay(&live.log) == *live.state());
        }
    }
}
