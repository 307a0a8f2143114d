//! The live hub through real sockets: convergence, resume, idempotency, conflicts, bad input,
//! roles, shutdown.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::support::{ADMIN, App, Client, Session, spawn_app, spawn_app_with};

fn new_session(title: &str) -> Value {
    json!({"title": title, "agenda": [{"title": "Policy question 1"}]})
}

/// A fresh snapshot's view for a token, from a new connection.
async fn server_view(
    app: &App,
    s: &Session,
    token: Option<&str>,
) -> (u64, rostrum::protocol::View) {
    let c = app.connect(&s.id, token).await;
    let out = (c.seq, c.view.clone().unwrap());
    c.close().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_participants_and_two_moderators_converge_across_three_sessions() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    let mut sessions = Vec::new();
    for (k, people) in [17u64, 17, 16].into_iter().enumerate() {
        let s = app
            .create_session(new_session(&format!("Session {k}")))
            .await;
        for i in 0..people {
            let (ws, id, token) = (app.ws_url.clone(), s.id.clone(), s.participant.clone());
            tasks.push(tokio::spawn(async move {
                let mut c = Client::open(&ws).await;
                c.session = id;
                c.token = Some(token);
                c.hello(None).await;
                let modality = ["online", "hub", "online"][(i % 3) as usize];
                let me = c.join(&format!("P{k}-{i}"), modality).await;
                // Seeded, so a failing run can be replayed.
                let mut rng = StdRng::seed_from_u64(k as u64 * 1000 + i + 1);
                for _ in 0..12 {
                    match (rng.random_range(0..3), c.my_request(me)) {
                        (0 | 1, None) => {
                            let kind = ["intervention", "question", "point_of_order"]
                                [rng.random_range(0..3)];
                            c.command(json!({"type": "raise_hand", "kind": kind})).await;
                        }
                        (_, Some(r)) => {
                            c.command(json!({"type": "lower_hand", "request": r})).await;
                        }
                        _ => {}
                    }
                    tokio::time::sleep(Duration::from_millis(rng.random_range(0..20))).await;
                }
                c
            }));
        }
        for token in [s.chair.clone(), s.moderator.clone()] {
            let (ws, id) = (app.ws_url.clone(), s.id.clone());
            tasks.push(tokio::spawn(async move {
                let mut c = Client::open(&ws).await;
                c.session = id;
                c.token = Some(token);
                c.hello(None).await;
                let mut rng = StdRng::seed_from_u64(0x1234_5678 ^ k as u64);
                for _ in 0..25 {
                    let seen = c.floor_turn();
                    if rng.random_bool(0.5) {
                        c.command(json!({"type": "grant", "force": true, "seen": seen}))
                            .await;
                    } else {
                        c.command(json!({"type": "end_turn", "seen": seen})).await;
                    }
                    tokio::time::sleep(Duration::from_millis(rng.random_range(0..30))).await;
                }
                c
            }));
        }
        sessions.push(s);
    }
    let mut clients = Vec::new();
    for t in tasks {
        clients.push(t.await.unwrap());
    }
    for s in &sessions {
        let (seq, public) = server_view(&app, s, None).await;
        let (_, moderator) = server_view(&app, s, Some(&s.chair)).await;
        assert!(seq > 50, "a busy session ({seq} events)");
        assert_eq!(app.info(&s.id).await["seq"], seq);
        for c in clients.iter_mut().filter(|c| c.session == s.id) {
            c.sync_to(seq).await;
            assert_eq!(c.seq, seq, "every client reaches the server's seq");
            let expected =
                if c.welcome["role"] == "chair" || c.welcome["role"] == "online_moderator" {
                    &moderator
                } else {
                    &public
                };
            assert_eq!(
                c.view.as_ref().unwrap(),
                expected,
                "and holds the server's state"
            );
        }
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn resume_in_the_window_replays_exactly_what_was_missed() {
    let app = spawn_app().await;
    let s = app.create_session(new_session("Resume")).await;
    let mut viewer = app.connect(&s.id, None).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let at = viewer.seq;
    viewer.disconnect().await;
    chair.add_walk_ins(&["A", "B", "C"]).await;
    let welcome = viewer.resume(&app.ws_url).await;
    assert_eq!(welcome["recovered"], true);
    assert_eq!(
        viewer.updates_seen,
        [(at + 1, at + 2), (at + 3, at + 4), (at + 5, at + 6)],
        "each missed update once"
    );
    assert_eq!(
        viewer.snapshots_seen, 1,
        "only the first connection's snapshot"
    );
    let (seq, view) = server_view(&app, &s, None).await;
    assert_eq!((viewer.seq, viewer.view.as_ref().unwrap()), (seq, &view));
}

#[tokio::test]
async fn resume_beyond_the_window_gets_a_snapshot() {
    let app = spawn_app_with(|s| s.session.resume_window = 4).await;
    let s = app.create_session(new_session("Far behind")).await;
    let mut viewer = app.connect(&s.id, None).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    viewer.disconnect().await;
    for i in 0..6 {
        chair.ok(json!({"type": "add_proxy", "profile": {"name": format!("P{i}"), "modality": "onsite"}})).await;
    }
    let welcome = viewer.resume(&app.ws_url).await;
    assert_eq!(welcome["recovered"], false);
    assert_eq!(viewer.snapshots_seen, 2);
    assert_eq!(viewer.updates_seen, []);
    let (seq, view) = server_view(&app, &s, None).await;
    assert_eq!((viewer.seq, viewer.view.as_ref().unwrap()), (seq, &view));
    // An epoch the session never had is no resume either.
    viewer.disconnect().await;
    viewer.epoch = 99;
    assert_eq!(viewer.resume(&app.ws_url).await["recovered"], false);
}

#[tokio::test]
async fn twenty_idle_reconnects_redeliver_nothing() {
    let app = spawn_app().await;
    let s = app.create_session(new_session("Idle")).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    chair
        .ok(json!({"type": "add_proxy", "profile": {"name": "A", "modality": "onsite"}}))
        .await;
    let mut viewer = app.connect(&s.id, None).await;
    for _ in 0..20 {
        viewer.disconnect().await;
        let welcome = viewer.resume(&app.ws_url).await;
        assert_eq!(welcome["recovered"], true);
        assert_eq!(
            viewer.updates_seen,
            [],
            "nothing was missed, nothing is sent twice"
        );
    }
    assert_eq!(viewer.snapshots_seen, 1);
    chair
        .ok(json!({"type": "add_proxy", "profile": {"name": "B", "modality": "onsite"}}))
        .await;
    viewer.sync_to(chair.seq).await;
    assert_eq!(
        viewer.updates_seen.len(),
        1,
        "live updates still flow after the cycles"
    );
}

#[tokio::test]
async fn a_resent_command_takes_effect_once_and_gets_the_original_answer() {
    let app = spawn_app().await;
    let s = app.create_session(new_session("Idempotent")).await;
    let mut p = app.connect(&s.id, Some(&s.participant)).await;
    let join = json!({"type": "join", "req": 1, "profile": {"name": "Ana", "modality": "online"}});
    let first = p.command_with_req(join.clone()).await;
    p.disconnect().await;
    p.resume(&app.ws_url).await; // still the shared join link: the same newcomer and client id
    let again = p.command_with_req(join).await;
    assert_eq!(first, again, "the same participant and token");
    p.token = Some(first["token"].as_str().unwrap().to_owned());
    p.disconnect().await;
    p.resume(&app.ws_url).await;
    let raise = json!({"type": "raise_hand", "req": 2, "kind": "question"});
    let ack = p.command_with_req(raise.clone()).await;
    assert_eq!(ack["type"], "ack");
    p.disconnect().await;
    p.resume(&app.ws_url).await;
    assert_eq!(
        p.command_with_req(raise).await,
        ack,
        "the original ack, not already_queued"
    );
    let view = p.view.as_ref().unwrap();
    assert_eq!(view.requests.len(), 1);
    assert_eq!(
        app.info(&s.id).await["seq"],
        ack["seq"],
        "nothing recorded twice"
    );
}

#[tokio::test]
async fn two_moderators_granting_at_once_grant_once() {
    let app = spawn_app().await;
    let s = app.create_session(new_session("Conflict")).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let mut om = app.connect(&s.id, Some(&s.moderator)).await;
    chair.add_walk_ins(&["A", "B", "C"]).await;
    om.sync_to(chair.seq).await;
    let grant = |req| json!({"type": "grant", "req": req, "seen": null});
    chair.send_json(&grant(100)).await;
    om.send_json(&grant(200)).await;
    let a = answer(&mut chair, 100).await;
    let b = answer(&mut om, 200).await;
    let (won, lost) = if a["type"] == "ack" { (a, b) } else { (b, a) };
    assert_eq!(won["type"], "ack");
    assert_eq!(lost["code"], "conflict", "{lost}");
    assert_eq!(lost["floor"], 0, "the error says who has the floor now");
    chair.sync_to(won["seq"].as_u64().unwrap()).await;
    let view = chair.view.as_ref().unwrap();
    assert_eq!(view.floor.as_ref().unwrap().turn, 0, "one grant");
    assert_eq!(
        view.queue.len(),
        2,
        "the others still wait: a stale click took nobody off"
    );
    // A hand raised meanwhile is no conflict.
    om.sync_to(chair.seq).await;
    let seen = om.floor_turn();
    chair
        .ok(json!({"type": "add_proxy", "profile": {"name": "D", "modality": "onsite"}}))
        .await;
    om.ok(json!({"type": "grant", "seen": seen})).await;
}

async fn answer(c: &mut Client, req: u64) -> Value {
    loop {
        let v = c.recv().await;
        // The command's own update (which names its `req` too) comes before the answer.
        if v["req"].as_u64() == Some(req) && matches!(v["type"].as_str(), Some("ack" | "error")) {
            return v;
        }
    }
}

#[tokio::test]
async fn bad_input_gets_an_error_and_the_connection_stays_open() {
    let app = spawn_app().await;
    let s = app.create_session(new_session("Bad input")).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let seq = chair.seq;
    for (text, code) in [
        ("{not json", "bad_json"),
        ("[]", "bad_json"),
        (r#"{"type":"teleport","req":1}"#, "unknown_type"),
        (r#"{"type":"move","req":2,"request":0}"#, "bad_field"),
        (r#"{"type":"grant","req":3}"#, "bad_field"),
        (r#"{"type":"hello","v":2,"session":"x"}"#, "hello_twice"),
    ] {
        chair.send_raw(Message::text(text)).await;
        let v = chair.recv().await;
        assert_eq!(
            (v["type"].as_str(), v["code"].as_str()),
            (Some("error"), Some(code)),
            "{text} -> {v}"
        );
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    chair.send_raw(Message::binary(vec![1u8, 2, 3])).await;
    assert_eq!(chair.recv().await["code"], "bad_json");
    chair
        .refused(json!({"type": "remove", "request": 99}), "unknown_request")
        .await;
    chair
        .ok(json!({"type": "add_proxy", "profile": {"name": "Still here", "modality": "onsite"}}))
        .await;
    assert_eq!(chair.seq, seq + 2, "errors recorded nothing");
}

/// A field the server does not know is refused, naming it, at every depth and over HTTP: a client
/// never believes something was taken that was dropped (a `reason` on `grant` once was).
#[tokio::test]
async fn unknown_fields_are_refused_by_name() {
    let app = spawn_app().await;
    let s = app.create_session(new_session("Unknown fields")).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let seq = chair.seq;
    for (cmd, field) in [
        (json!({"type": "end_session", "confirm": true}), "confirm"),
        (
            json!({"type": "raise_for", "participant": 0, "urgent": true}),
            "urgent",
        ),
        (
            json!({"type": "add_proxy", "profile": {"name": "A", "modality": "onsite", "country": "Chad"}}),
            "country",
        ),
        (
            json!({"type": "set_policy", "policy": {"order": "fifo", "starvation": 60000}}),
            "starvation",
        ),
        (
            json!({"type": "set_time_limits", "limits": {"default_ms": 60000, "per_kind": {}, "warning_ms": 10000, "hard": true}}),
            "hard",
        ),
        (
            json!({"type": "set_agenda", "items": [{"title": "Norms", "minutes": 30}]}),
            "minutes",
        ),
    ] {
        let v = chair.refused(cmd.clone(), "bad_field").await;
        let message = v["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("`{field}`")),
            "{cmd} -> {message}"
        );
    }
    chair
        .send_raw(Message::text(r#"{"type":"resync","since":3}"#))
        .await;
    let v = chair.recv().await;
    assert_eq!(v["code"], "bad_field");
    assert!(v["message"].as_str().unwrap().contains("`since`"), "{v}");
    assert_eq!(chair.seq, seq, "nothing was recorded");

    let mut c = Client::open(&app.ws_url).await;
    c.send_json(&json!({"type": "hello", "v": 2, "session": s.id, "secret": "x"}))
        .await;
    let v = c.recv().await;
    assert_eq!(v["code"], "bad_field");
    assert!(v["message"].as_str().unwrap().contains("`secret`"), "{v}");

    let resp = reqwest::Client::new()
        .post(format!("{}/api/sessions", app.url))
        .bearer_auth(ADMIN)
        .json(&json!({"title": "T", "limit": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["code"], "bad_field");
    assert!(v["message"].as_str().unwrap().contains("`limit`"), "{v}");
}

/// One starvation-guard default, 15 minutes, whether the policy is omitted or given without it
/// (through the API or `set_policy`); `null` turns the guard off.
#[tokio::test]
async fn the_starvation_guard_has_one_default() {
    let app = spawn_app().await;
    let policy_of = |c: &Client| c.view.as_ref().unwrap().session.policy.starvation_ms;
    for body in [
        json!({"title": "No policy"}),
        json!({"title": "Policy without a guard", "policy": {"order": "first_time_first"}}),
    ] {
        let s = app.create_session(body).await;
        let chair = app.connect(&s.id, Some(&s.chair)).await;
        assert_eq!(policy_of(&chair), Some(900_000));
    }
    let s = app
        .create_session(json!({"title": "Off", "policy": {"order": "fifo", "starvation_ms": null}}))
        .await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    assert_eq!(policy_of(&chair), None);
    chair
        .ok(json!({"type": "set_policy", "policy": {"order": "alternate", "room": 2, "remote": 1}}))
        .await;
    assert_eq!(policy_of(&chair), Some(900_000));
    chair
        .refused(
            json!({"type": "set_policy", "policy": {"order": "alternate", "room": 2}}),
            "bad_field",
        )
        .await;
}

#[tokio::test]
async fn a_frame_over_the_limit_closes_with_1009() {
    let app = spawn_app().await;
    let s = app.create_session(new_session("Big")).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let note = "x".repeat(65 * 1024);
    chair
        .send_raw(Message::text(
            json!({"type": "raise_for", "req": 1, "participant": 0, "note": note}).to_string(),
        ))
        .await;
    loop {
        match chair.next_message().await {
            Some(Message::Close(Some(f))) => {
                assert_eq!(f.code, CloseCode::Size);
                break;
            }
            Some(Message::Close(None)) | None => panic!("closed without 1009"),
            Some(_) => {}
        }
    }
    // Others are unharmed.
    let mut other = app.connect(&s.id, Some(&s.chair)).await;
    other.ok(json!({"type": "reopen_list"})).await;
}

#[tokio::test]
async fn roles_hold_on_the_wire() {
    let app = spawn_app().await;
    let s = app.create_session(new_session("Roles")).await;
    let mut p = app.connect(&s.id, Some(&s.participant)).await;
    p.refused(json!({"type": "raise_hand"}), "not_joined").await;
    p.refused(
        json!({"type": "join", "profile": {"name": "Room", "modality": "onsite"}}),
        "onsite_needs_room_code",
    )
    .await;
    p.join("Ana", "online").await;
    p.ok(json!({"type": "raise_hand"})).await;
    let chair = app.connect(&s.id, Some(&s.chair)).await;
    assert!(
        p.view.as_ref().unwrap().fairness.is_none()
            && chair.view.as_ref().unwrap().fairness.is_some(),
        "the fairness tallies are the moderators'"
    );
    p.ok(json!({"type": "lower_hand", "request": p.my_request(0).unwrap()}))
        .await;
    let seq = p.seq;
    for cmd in [
        json!({"type": "grant", "seen": null, "force": true}),
        json!({"type": "close_list", "confirm": true}),
        json!({"type": "add_proxy", "profile": {"name": "X", "modality": "online"}}),
        json!({"type": "set_policy", "policy": {"order": "fifo", "starvation_ms": null}}),
    ] {
        p.refused(cmd, "forbidden").await;
    }
    assert_eq!(app.info(&s.id).await["seq"], seq, "nothing changed");
    let mut display = app.connect(&s.id, Some(&s.display)).await;
    assert_eq!(display.welcome["role"], "viewer");
    display
        .refused(json!({"type": "reopen_list"}), "forbidden")
        .await;
    let mut public = app.connect(&s.id, None).await;
    public
        .refused(json!({"type": "raise_hand"}), "forbidden")
        .await;
    // Participants and the public never see notes.
    p.ok(json!({"type": "raise_hand", "note": "private to moderators"}))
        .await;
    let chair = app.connect(&s.id, Some(&s.chair)).await;
    public.sync_to(chair.seq).await;
    let note = |c: &Client| {
        c.view
            .as_ref()
            .unwrap()
            .requests
            .values()
            .next()
            .unwrap()
            .note
            .clone()
    };
    assert_eq!(note(&chair).as_deref(), Some("private to moderators"));
    assert_eq!(note(&public), None);
}

#[tokio::test]
async fn bad_hellos_are_refused_and_closed() {
    let app = spawn_app().await;
    let s = app.create_session(new_session("Hello")).await;
    let other = app.create_session(new_session("Other")).await;
    for (session, token, code) in [
        (s.id.clone(), Some("v1.garbage.sig".to_owned()), "bad_token"),
        (s.id.clone(), Some(other.chair.clone()), "bad_token"),
        (
            "0123456789abcdef0123456789abcdef".to_owned(),
            None,
            "unknown_session",
        ),
        ("not-an-id".to_owned(), None, "unknown_session"),
    ] {
        let mut c = Client::open(&app.ws_url).await;
        c.send_raw(Message::text(
            json!({"type": "raise_hand", "req": 1}).to_string(),
        ))
        .await;
        assert_eq!(c.recv().await["code"], "hello_first");
        let mut hello = json!({"type": "hello", "v": 2, "session": session});
        if let Some(t) = token {
            hello["token"] = json!(t);
        }
        c.send_json(&hello).await;
        assert_eq!(c.recv().await["code"], code);
        assert!(
            matches!(c.next_message().await, Some(Message::Close(Some(f))) if f.code == CloseCode::Policy)
        );
    }
}

#[tokio::test]
async fn the_api_needs_the_admin_token_and_validates_sessions() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/sessions", app.url);
    let no = http
        .post(&url)
        .json(&new_session("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(no.status(), 401);
    let wrong = http
        .post(&url)
        .bearer_auth("nope")
        .json(&new_session("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let bad = http
        .post(&url)
        .bearer_auth(ADMIN)
        .json(&json!({"title": "  "}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    assert_eq!(bad.json::<Value>().await.unwrap()["code"], "invalid");
    let s = app.create_session(new_session("Plenary")).await;
    let info = app.info(&s.id).await;
    assert_eq!(
        (info["title"].as_str(), info["list_open"].as_bool()),
        (Some("Plenary"), Some(true))
    );
    let missing = reqwest::get(format!(
        "{}/api/sessions/0123456789abcdef0123456789abcdef",
        app.url
    ))
    .await
    .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        reqwest::get(format!("{}/healthz", app.url))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        reqwest::get(format!("{}/readyz", app.url))
            .await
            .unwrap()
            .status(),
        200
    );
}

/// Every route with a session's `{id}` parses it as a `SessionId` before the handler runs:
/// anything that is not one, and an id no session has, get the same typed 404, whatever the
/// token; the route works for the real id.
#[tokio::test]
async fn every_session_route_answers_a_bad_id_with_the_typed_404() {
    // Seventy-odd requests in a blink: past the API's per-address rate limit otherwise.
    let app = spawn_app_with(|s| s.http.api_burst = 1_000).await;
    let s = app.create_session(new_session("Routes")).await;
    let http = reqwest::Client::new();
    let routes = [
        (reqwest::Method::GET, ""),
        (reqwest::Method::GET, "/links"),
        (reqwest::Method::GET, "/events.ndjson"),
        (reqwest::Method::GET, "/report"),
        (reqwest::Method::GET, "/report.md"),
        (reqwest::Method::GET, "/turns.csv"),
        (reqwest::Method::GET, "/room"),
        (reqwest::Method::GET, "/report.igf.md"),
        (reqwest::Method::GET, "/report.igf.html"),
        (reqwest::Method::GET, "/report.igf.odt"),
        (reqwest::Method::POST, "/rotate"),
        (reqwest::Method::POST, "/end"),
    ];
    let unknown = "0123456789abcdef0123456789abcdef";
    let short = &unknown[1..];
    for (method, tail) in &routes {
        for id in [
            "not-an-id",
            short,
            "%00",
            "0123456789ABCDEFG123456789abcdef",
            unknown,
        ] {
            let resp = http
                .request(
                    method.clone(),
                    format!("{}/api/sessions/{id}{tail}", app.url),
                )
                .bearer_auth(ADMIN)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 404, "{method} {id}{tail}");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["code"], "unknown_session", "{method} {id}{tail}");
            assert_eq!(body["message"], "no such session", "{method} {id}{tail}");
        }
    }
    // The real id passes the extractor (the end last: it ends the session).
    for (method, tail) in &routes {
        let resp = http
            .request(
                method.clone(),
                format!("{}/api/sessions/{}{tail}", app.url, s.id),
            )
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "{method} {tail}: {}",
            resp.status()
        );
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_cli_creates_a_session_on_a_running_server() {
    let app = spawn_app().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
        .args([
            "session",
            "create",
            "--title",
            "From the CLI",
            "--policy",
            "alternate",
            "--agenda-item",
            "Norms",
        ])
        .env("ROSTRUM_URL", &app.url)
        .env("ROSTRUM_ADMIN_TOKEN", ADMIN)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let id = text
        .lines()
        .next()
        .unwrap()
        .strip_prefix("session ")
        .unwrap()
        .to_owned();
    for role in [
        "chair",
        "online_moderator",
        "participant",
        "display",
        "public",
    ] {
        assert!(
            text.contains(&format!("{role}: {}/s/{id}", app.url)),
            "{text}"
        );
    }
    let chair_token = text
        .lines()
        .find(|l| l.trim_start().starts_with("chair:"))
        .unwrap()
        .split_once("#t=")
        .unwrap()
        .1;
    let c = app.connect(&id, Some(chair_token)).await;
    assert_eq!(c.welcome["role"], "chair");
    assert_eq!(
        c.view.as_ref().unwrap().session.policy.order,
        rostrum::queue::Order::Alternate { room: 1, remote: 1 }
    );
}

#[tokio::test]
async fn shutdown_closes_every_socket_with_going_away_and_returns() {
    let app = spawn_app().await;
    let s = app.create_session(new_session("Shutdown")).await;
    let mut clients = Vec::new();
    for token in [Some(s.chair.as_str()), None, Some(s.display.as_str())] {
        clients.push(app.connect(&s.id, token).await);
    }
    let stopped = tokio::spawn(app.stop());
    for c in &mut clients {
        loop {
            match c.next_message().await {
                Some(Message::Close(Some(f))) => {
                    assert_eq!(f.code, CloseCode::Away);
                    break;
                }
                Some(Message::Close(None)) | None => panic!("no going-away frame"),
                Some(_) => {}
            }
        }
    }
    tokio::time::timeout(Duration::from_secs(10), stopped)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_slows_nobody_else_and_is_cut_off() {
    let app = spawn_app_with(|s| {
        s.session.lag_capacity = 4;
        s.session.resume_window = 4;
        s.ws.write_timeout = Duration::from_millis(300);
        // The chair here is a script, far faster than the per-connection rate allows a person.
        s.ws.messages_per_sec = 10_000;
        s.ws.message_burst = 10_000;
    })
    .await;
    let s = app.create_session(new_session("Slow client")).await;
    // Says hello, then never reads again.
    let mut stalled = Client::open(&app.ws_url).await;
    stalled
        .send_json(&json!({"type": "hello", "v": 2, "session": s.id}))
        .await;
    let mut viewer = app.connect(&s.id, None).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    // Each shared link makes every later update carry the whole (growing) list: ~10 MB in all,
    // far more than the socket buffers between the server and the stalled client hold.
    let long = format!("https://igf.example/{}", "x".repeat(1_900));
    let mut slowest = Duration::ZERO;
    for i in 0..100 {
        let t = std::time::Instant::now();
        chair
            .ok(json!({"type": "post_link", "title": format!("Input {i}"), "url": long}))
            .await;
        slowest = slowest.max(t.elapsed());
        viewer.sync_to(chair.seq).await;
    }
    let (seq, view) = server_view(&app, &s, None).await;
    assert_eq!(
        (viewer.seq, viewer.view.as_ref().unwrap()),
        (seq, &view),
        "the reading viewer kept up"
    );
    assert!(
        slowest < Duration::from_secs(1),
        "no command waited on the stalled client ({slowest:?})"
    );
    // The stalled client was cut off (or, had it read again in time, resynced by snapshot):
    // either way it is never fed every update at everyone else's expense.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut updates = 0;
    loop {
        match stalled.next_message().await {
            Some(Message::Text(t)) if t.contains("\"type\":\"update\"") => updates += 1,
            Some(Message::Close(_)) | None => break,
            Some(_) => {}
        }
    }
    assert!(
        updates < 100,
        "the stalled client was dropped ({updates} updates got through)"
    );
}

/// Readiness as docs/protocol.md states it: a plain `grant` is refused with `not_ready` when the
/// head is an unready remote request, a remote point of order and an online roster entry
/// included; a text intervention and an onsite request need no readiness.
#[tokio::test]
async fn a_plain_grant_waits_for_an_unready_remote_head() {
    let app = spawn_app().await;
    let roster = json!([{"name": "Remote panelist", "affiliation": "EuroDIG", "modality": "online", "head_count": 1}]);
    let s = app
        .create_session(json!({"title": "Readiness", "agenda": [{"title": "Opening"}, {"title": "Round", "roster": roster}]}))
        .await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let grant = json!({"type": "grant", "seen": null});

    // An online roster entry, queued when its item starts.
    chair
        .ok(json!({"type": "advance_agenda", "carry_over": true}))
        .await;
    let head = chair.view.as_ref().unwrap().queue[0].request;
    chair.refused(grant.clone(), "not_ready").await;
    chair
        .ok(json!({"type": "mark_ready", "request": head, "ready": true}))
        .await;
    chair.ok(grant.clone()).await;
    chair
        .ok(json!({"type": "end_turn", "seen": chair.floor_turn()}))
        .await;

    // A remote point of order jumps the queue and still needs readiness (or force).
    let mut ana = app.connect(&s.id, Some(&s.participant)).await;
    ana.join("Ana", "online").await;
    ana.ok(json!({"type": "raise_hand", "kind": "point_of_order"}))
        .await;
    chair.sync_to(ana.seq).await;
    chair.refused(grant.clone(), "not_ready").await;
    chair
        .ok(json!({"type": "grant", "seen": null, "force": true}))
        .await;
    chair
        .ok(json!({"type": "end_turn", "seen": chair.floor_turn()}))
        .await;

    // A text intervention is read out by the online moderator: no readiness.
    ana.sync_to(chair.seq).await;
    ana.ok(json!({"type": "raise_hand", "kind": "text_intervention", "note": "Read this out"}))
        .await;
    chair.sync_to(ana.seq).await;
    chair.ok(grant.clone()).await;
    // Nor does anyone in the room.
    chair
        .ok(json!({"type": "add_proxy", "profile": {"name": "Walk-in", "modality": "onsite"}}))
        .await;
    chair
        .ok(json!({"type": "grant", "seen": chair.floor_turn()}))
        .await;
}

/// The hello may ride in the handshake (the pages do this: a round trip sooner on a slow link):
/// the server selects the `rostrum` subprotocol and welcomes the socket before it sends anything.
/// A hello there that cannot be decoded gets a typed error, and a hello sent as a message
/// still admits the socket.
#[tokio::test]
async fn a_hello_in_the_handshake_is_answered_as_the_socket_opens() {
    use base64::Engine as _;
    let app = spawn_app().await;
    let s = app.create_session(new_session("Handshake")).await;
    let hello = json!({"type": "hello", "v": 2, "session": s.id, "token": s.chair});
    let carried = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hello.to_string());
    let offered = format!("rostrum, rostrum.hello.{carried}");
    let mut c = Client::open_with(&app.ws_url, &[("sec-websocket-protocol", &offered)])
        .await
        .expect("the upgrade succeeds");
    let welcome = c.recv().await;
    assert_eq!(
        (welcome["type"].as_str(), welcome["role"].as_str()),
        (Some("welcome"), Some("chair")),
        "{welcome}"
    );
    assert_eq!(c.recv().await["type"], "snapshot");
    c.session = s.id.clone();
    c.welcome = welcome;
    c.add_walk_ins(&["Amina Diallo"]).await;

    let mut bad = Client::open_with(
        &app.ws_url,
        &[(
            "sec-websocket-protocol",
            "rostrum, rostrum.hello.not*base64",
        )],
    )
    .await
    .expect("the upgrade succeeds");
    let error = bad.recv().await;
    assert_eq!(error["code"], "bad_json", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("handshake"),
        "{error}"
    );
    bad.session = s.id.clone();
    bad.token = Some(s.chair.clone());
    assert_eq!(bad.hello(None).await["role"], "chair");
}
