//! The protocol page (`docs/protocol.md`) against the implementation, and parsing edge cases.

use super::*;
use crate::queue::Actor;
use serde_json::Value;

const PAGE: &str = include_str!("../../docs/protocol.md");

/// The ```json blocks of the page tagged `tag`, as text.
fn examples(tag: &str) -> Vec<String> {
    let fence = format!("```json {tag}\n");
    PAGE.split(fence.as_str())
        .skip(1)
        .map(|rest| rest.split("\n```").next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn every_client_example_on_the_page_parses() {
    let blocks = examples("client");
    assert!(blocks.len() > 30, "the page shows every command");
    for text in &blocks {
        match parse(text) {
            Ok(Incoming::Command { command, .. }) => {
                // Each converts for the role it is shown for (or fails only by role).
                let moderator = command.clone().into_command(Actor::Chair, false);
                let participant =
                    command.into_command(Actor::Participant(crate::queue::ParticipantId(5)), false);
                assert!(moderator.is_ok() || participant.is_ok(), "{text}");
            }
            Ok(_) => {}
            Err(e) => panic!("example does not parse: {text}\n{e:?}"),
        }
    }
}

#[test]
fn every_server_example_on_the_page_has_a_known_type() {
    let blocks = examples("server");
    for text in &blocks {
        let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let t = v["type"].as_str().unwrap();
        assert!(
            [
                "welcome", "snapshot", "update", "order", "presence", "ack", "error"
            ]
            .contains(&t),
            "{t}"
        );
        if t == "snapshot" {
            let _: View =
                serde_json::from_value(v["view"].clone()).expect("the page's view is a View");
        }
        if t == "update" {
            let _: Patch =
                serde_json::from_value(v["patch"].clone()).expect("the page's patch is a Patch");
        }
    }
}

#[test]
fn every_command_type_is_on_the_page() {
    let src = include_str!("command.rs");
    let body = src
        .split("pub enum WireCommand {")
        .nth(1)
        .unwrap()
        .split("\nimpl")
        .next()
        .unwrap();
    let variants: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|l| l.chars().next().is_some_and(char::is_uppercase))
        .map(|l| l.split([' ', ',', '{']).next().unwrap())
        .collect();
    assert!(variants.len() >= 25, "{variants:?}");
    for v in variants {
        let snake: String = v
            .chars()
            .enumerate()
            .flat_map(|(i, c)| {
                let sep = (i > 0 && c.is_uppercase()).then_some('_');
                sep.into_iter().chain(c.to_lowercase())
            })
            .collect();
        assert!(
            PAGE.contains(&format!("\"type\": \"{snake}\"")),
            "`{snake}` is not shown on the page"
        );
    }
}

#[test]
fn the_command_types_are_the_derives() {
    // The schema is generated from the same derive that reads commands.
    let schema = schemars::schema_for!(WireCommand).to_value();
    let mut derived: Vec<&str> = schema["oneOf"]
        .as_array()
        .expect("one schema per command")
        .iter()
        .map(|c| {
            let t = &c["properties"]["type"];
            t["const"]
                .as_str()
                .or_else(|| t["enum"][0].as_str())
                .unwrap_or_else(|| panic!("a command names its type: {c}"))
        })
        .collect();
    let mut listed = WireCommand::TYPES.to_vec();
    derived.sort_unstable();
    listed.sort_unstable();
    assert_eq!(derived, listed);
    for t in WireCommand::TYPES {
        let frame = format!(r#"{{"type":"{t}","req":1,"no_such_field":0}}"#);
        assert_eq!(parse(&frame).unwrap_err().1.code(), "bad_field", "{frame}");
    }
}

#[test]
fn non_objects_and_trailing_text_are_bad_json() {
    for text in [
        "[1,2]",
        "\"hi\"",
        "3",
        "null",
        "true",
        "[{\"type\":\"resync\"}]",
    ] {
        assert_eq!(
            parse(text).unwrap_err(),
            (None, WireError::BadJson("expected a JSON object".into())),
            "{text}"
        );
    }
    for text in [
        "[1] x",
        "{\"type\":\"resync\"} {}",
        "{\"type\":\"resync\",}",
        "",
    ] {
        let (req, e) = parse(text).unwrap_err();
        assert_eq!((req, e.code()), (None, "bad_json"), "{text}");
        assert!(e.to_string().contains("line 1"), "serde says where: {e}");
    }
    // The last of a repeated key counts, as when the object was read whole.
    assert!(matches!(
        parse(r#"{"type":"fly","type":"resync","req":"x","req":2}"#),
        Ok(Incoming::Resync)
    ));
    assert_eq!(
        parse(r#"{"type":"resync","zeta":1,"alpha":2}"#)
            .unwrap_err()
            .1,
        WireError::BadField("unknown field `alpha`: resync has no fields".into())
    );
}

#[test]
fn bad_input_gets_typed_errors_with_the_req_when_readable() {
    let code = |t: &str| parse(t).unwrap_err();
    assert_eq!(code("{not json").1.code(), "bad_json");
    assert_eq!(code("[1,2]").1.code(), "bad_json");
    assert_eq!(
        code(r#"{"type":"fly","req":3}"#),
        (Some(3), WireError::UnknownType("fly".into()))
    );
    for bad_value in [
        r#"{"type":"raise_hand","req":5,"kind":"shout"}"#,
        r#"{"type":"set_control","req":5,"control":"mute","on":true}"#,
        r#"{"type":"join","req":5,"profile":{"name":"A","modality":"space"}}"#,
    ] {
        let (req, e) = code(bad_value);
        assert_eq!((req, e.code()), (Some(5), "bad_field"), "{bad_value}: {e}");
    }
    let (req, e) = code(r#"{"type":"lower_hand","req":4}"#);
    assert_eq!((req, e.code()), (Some(4), "bad_field"));
    assert!(
        e.to_string().contains("request"),
        "names the missing field: {e}"
    );
    assert_eq!(
        code(r#"{"type":"raise_hand"}"#).1.code(),
        "bad_field",
        "commands need a req"
    );
    assert_eq!(
        code(r#"{"type":"raise_hand","req":-1}"#).1.code(),
        "bad_field"
    );
    let (_, e) = code(r#"{"type":"grant","req":5}"#);
    assert!(
        e.to_string().contains("seen"),
        "seen is required even though it may be null: {e}"
    );
    assert!(matches!(
        parse(r#"{"type":"grant","req":5,"seen":null}"#),
        Ok(Incoming::Command { .. })
    ));
}

#[test]
fn viewers_and_newcomers_cannot_act_beyond_their_role() {
    let raise = WireCommand::RaiseHand {
        kind: crate::queue::RequestKind::Question,
        note: None,
    };
    assert_eq!(
        raise
            .clone()
            .into_command(Actor::Newcomer, false)
            .unwrap_err()
            .code(),
        "not_joined"
    );
    let onsite: WireCommand =
        serde_json::from_str(r#"{"type":"join","profile":{"name":"X","modality":"onsite"}}"#)
            .unwrap();
    assert_eq!(
        onsite
            .clone()
            .into_command(Actor::Newcomer, false)
            .unwrap_err()
            .code(),
        "onsite_needs_room_code"
    );
    assert!(
        onsite.into_command(Actor::Chair, false).is_ok(),
        "moderators register people in the room"
    );
}

#[test]
fn the_public_never_sees_notes_joins_or_gender() {
    use crate::queue::*;
    let mut profile = Profile::new("Ana", "Brazil", Modality::Online);
    profile.gender = Some(Gender::Woman);
    let joined = Event {
        at: Timestamp(1),
        actor: Actor::Newcomer,
        fact: Fact::ParticipantJoined {
            participant: ParticipantId(0),
            profile,
        },
    };
    assert!(event_json(1, &joined, Audience::Public).is_none());
    let moderator = event_json(1, &joined, Audience::Moderator).unwrap();
    assert!(
        moderator["profile"].get("gender").is_none(),
        "gender is aggregate only"
    );
    assert_eq!(moderator["profile"]["name"], "Ana");
    let raised = Event {
        at: Timestamp(2),
        actor: Actor::Participant(ParticipantId(0)),
        fact: Fact::HandRaised {
            request: RequestId(0),
            participant: ParticipantId(0),
            kind: RequestKind::Question,
            note: Some("private".into()),
            origin: Origin::SelfRaised,
        },
    };
    assert!(
        event_json(2, &raised, Audience::Public)
            .unwrap()
            .get("note")
            .is_none()
    );
    assert_eq!(
        event_json(2, &raised, Audience::Moderator).unwrap()["note"],
        "private"
    );
}

#[test]
fn onsite_joins_need_the_rooms_current_code() {
    let join = |room: &str| -> WireCommand {
        serde_json::from_str(&format!(
            r#"{{"type":"join",{room}"profile":{{"name":"X","modality":"onsite"}}}}"#
        ))
        .unwrap()
    };
    assert!(
        join("").into_command(Actor::Newcomer, true).is_ok(),
        "with the room's code"
    );
    let stale = join(r#""room":"123456","#).into_command(Actor::Newcomer, false);
    assert_eq!(stale.unwrap_err().code(), "room_code_expired");
    let online: WireCommand =
        serde_json::from_str(r#"{"type":"join","profile":{"name":"Y"}}"#).unwrap();
    assert!(
        online.into_command(Actor::Newcomer, false).is_ok(),
        "online needs no code"
    );
}

#[test]
fn the_online_moderator_is_told_when_remote_requests_wait_through_room_turns() {
    use crate::queue::testkit::{Sim, profile};
    use crate::queue::*;
    let mut sim = Sim::new(Order::Fifo);
    let (_, _) = sim.queue_up("Room 1", Modality::Onsite);
    let (_, _) = sim.queue_up("Room 2", Modality::Onsite);
    let relay = Command::AddProxy {
        profile: profile("From chat", Modality::Online),
        kind: RequestKind::TextIntervention,
        note: Some("text".into()),
    };
    sim.ok(Actor::OnlineModerator, relay);
    let p = sim.join("Remote", Modality::Hub);
    sim.raise(p, RequestKind::Question);
    let counts = |sim: &Sim| RemoteCounts::of(&sim.s);
    assert_eq!(
        counts(&sim),
        RemoteCounts {
            asked: 2,
            forwarded: 1,
            answered: 0,
            room_turns_waited: 0
        }
    );
    for _ in 0..2 {
        sim.grant_next();
        sim.end();
    }
    assert_eq!(
        counts(&sim).room_turns_waited,
        2,
        "two room turns while remote requests waited"
    );
    sim.grant_next(); // the relayed text
    assert_eq!(counts(&sim).answered, 1);
    assert_eq!(
        counts(&sim).room_turns_waited,
        2,
        "the hub's question still waits, through both room turns"
    );
    sim.end();
    sim.grant_next();
    assert_eq!(
        counts(&sim),
        RemoteCounts {
            asked: 2,
            forwarded: 1,
            answered: 2,
            room_turns_waited: 0
        }
    );
}

#[test]
fn the_public_sees_the_text_read_out_only_while_it_is_shown_and_why_a_request_is_parked() {
    use crate::queue::testkit::{Sim, profile};
    use crate::queue::*;
    let mut sim = Sim::new(Order::Fifo);
    let (_, ana) = sim.queue_up("Ana", Modality::Online);
    sim.ok(
        Actor::OnlineModerator,
        Command::AudioFailed { request: ana },
    );
    let relay = Command::AddProxy {
        profile: profile("From chat", Modality::Online),
        kind: RequestKind::Question,
        note: Some("What about small CERTs?".into()),
    };
    sim.ok(Actor::OnlineModerator, relay);
    sim.grant_next();
    let now = sim.at();
    let view = |a| View::of(&sim.s, a, now);
    let public = view(Audience::Public);
    assert_eq!(public.floor.as_ref().unwrap().text, None);
    assert!(public.requests.values().all(|r| r.note.is_none()));
    assert_eq!(
        public.requests[&ana.0].parked,
        Some(ParkReason::AudioFailed),
        "the person's own page says why"
    );
    sim.ok(
        Actor::Chair,
        Command::ShowText {
            shown: true,
            seen: FloorSeen::Any,
        },
    );
    let now = sim.at();
    for audience in [Audience::Public, Audience::Moderator] {
        let v = View::of(&sim.s, audience, now);
        assert_eq!(
            v.floor.unwrap().text.as_deref(),
            Some("What about small CERTs?")
        );
    }
}
