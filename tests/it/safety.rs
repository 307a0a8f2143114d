//! Trust and safety: every defence tried through a real socket, as an attacker would, and shown
//! to fail without harming anyone else in the session.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use super::support::*;

const POLICY: u16 = 1008;

async fn hello_refused(
    app: &App,
    session: &str,
    token: &str,
    resume: Option<(u64, u64)>,
) -> (Option<u16>, Option<String>) {
    let mut c = Client::open(&app.ws_url).await;
    let mut hello = json!({"type": "hello", "v": 2, "session": session, "token": token});
    if let Some((epoch, seq)) = resume {
        hello["resume"] = json!({"epoch": epoch, "seq": seq});
    }
    c.send_json(&hello).await;
    c.until_closed().await
}

async fn rotate(app: &App, session: &str, bearer: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/sessions/{session}/rotate", app.url))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn rotating_the_keys_closes_every_old_link_at_once_and_new_links_work() {
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Zoom-bombed"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let mut display = app.connect(&s.id, Some(&s.display)).await;
    let mut ana = app.connect(&s.id, Some(&s.participant)).await;
    ana.join("Ana", "online").await;
    let mut public = app.connect(&s.id, None).await;

    // Only the chair (or the organizer) may rotate; a participant's link may not.
    let r = rotate(&app, &s.id, ana.token.as_deref().unwrap()).await;
    assert_eq!(r.status(), 403);
    let r = rotate(&app, &s.id, &s.chair).await;
    assert_eq!(r.status(), 200);
    let fresh: Value = r.json().await.unwrap();
    for client in [&mut chair, &mut display, &mut ana] {
        assert_eq!(
            client.until_closed().await,
            (Some(POLICY), Some("revoked".into())),
            "every socket on an old link is closed"
        );
    }
    // Old links are refused at hello, with or without a resume position.
    for token in [
        &s.chair,
        &s.participant,
        &s.display,
        ana.token.as_ref().unwrap(),
    ] {
        assert_eq!(
            hello_refused(&app, &s.id, token, None).await,
            (Some(POLICY), Some("revoked".into()))
        );
    }
    assert_eq!(
        hello_refused(&app, &s.id, &s.chair, Some((chair.epoch, chair.seq)))
            .await
            .1,
        Some("revoked".into())
    );
    // The old chair link cannot rotate again; the new one works, and the public view stayed.
    assert_eq!(rotate(&app, &s.id, &s.chair).await.status(), 403);
    let mut chair = app
        .connect(&s.id, Some(&fragment(&fresh["links"]["chair"])))
        .await;
    chair.ok(json!({"type": "reopen_list"})).await;
    let mut newcomer = app
        .connect(&s.id, Some(&fragment(&fresh["links"]["participant"])))
        .await;
    newcomer.join("Bo", "online").await;
    // The public is sent no frame for a rotation or a join: a raise shows it is still served.
    let raised = newcomer.ok(json!({"type": "raise_hand"})).await;
    public.sync_to(raised["seq"].as_u64().unwrap()).await;
    // The organizer may rotate too.
    assert_eq!(rotate(&app, &s.id, ADMIN).await.status(), 200);
    assert_eq!(newcomer.until_closed().await.1, Some("revoked".into()));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_removed_participant_is_cut_off_and_cannot_come_back_even_by_resume() {
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Spam"})).await;
    let mut om = app.connect(&s.id, Some(&s.moderator)).await;
    let mut spammer = app.connect(&s.id, Some(&s.participant)).await;
    let id = spammer.join("Spammer", "online").await;
    spammer.ok(json!({"type": "raise_hand"})).await;
    let mut ana = app.connect(&s.id, Some(&s.participant)).await;
    let ana_id = ana.join("Ana", "online").await;
    ana.ok(json!({"type": "raise_hand"})).await;
    let at = (spammer.epoch, spammer.seq);
    om.ok(json!({"type": "remove_participant", "participant": id, "reason": "spam"}))
        .await;
    assert_eq!(
        spammer.until_closed().await,
        (Some(POLICY), Some("revoked".into()))
    );
    let token = spammer.token.clone().unwrap();
    assert_eq!(
        hello_refused(&app, &s.id, &token, Some(at)).await.1,
        Some("revoked".into())
    );
    assert_eq!(
        hello_refused(&app, &s.id, &token, None).await.1,
        Some("revoked".into())
    );
    // Ana is untouched: still connected, now first.
    ana.sync_to(om.seq).await;
    let first = ana.view.as_ref().unwrap().queue[0].request;
    assert_eq!(Some(u64::from(first)), ana.my_request(ana_id));
    ana.ok(json!({"type": "update_profile", "profile": {"name": "Ana M."}}))
        .await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn foreign_look_alike_and_null_origins_are_refused_before_the_upgrade() {
    let app = spawn_app_with(|s| {
        s.ws.allowed_origins
            .push("https://events.example.org".into())
    })
    .await;
    let port = app.url.rsplit(':').next().unwrap().to_owned();
    for origin in [
        "https://evil.example".to_owned(),
        "null".to_owned(),
        format!("http://127.0.0.1:{port}.evil.example"),
        format!("https://127.0.0.1:{port}"),
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}"),
        "https://events.example.org.evil.example".to_owned(),
        "https://sub.events.example.org".to_owned(),
    ] {
        let refused = Client::open_with(&app.ws_url, &[("origin", &origin)]).await;
        match refused {
            Err((status, body)) => {
                assert_eq!(status, 403, "{origin}");
                assert!(body.contains("origin_not_allowed"), "{body}");
            }
            Ok(_) => panic!("{origin} was let in"),
        }
    }
    for origin in [app.url.clone(), "https://events.example.org".to_owned()] {
        assert!(
            Client::open_with(&app.ws_url, &[("origin", &origin)])
                .await
                .is_ok(),
            "{origin}"
        );
    }
    assert!(
        Client::open_with(&app.ws_url, &[]).await.is_ok(),
        "no Origin: not a browser"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_flooding_socket_is_closed_with_1008_and_slows_nobody() {
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Flood"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let mut viewer = app.connect(&s.id, None).await;
    let mut flood = app.connect(&s.id, Some(&s.participant)).await;
    for i in 0..200 {
        let frame = json!({"type": "resync_please", "req": i}).to_string();
        if flood.ws_send(Message::text(frame)).await.is_err() {
            break;
        }
    }
    assert_eq!(
        flood.until_closed().await,
        (Some(POLICY), Some("too_many_messages".into()))
    );
    // Flooding before the hello is no way around it.
    let mut early = Client::open(&app.ws_url).await;
    for i in 0..100 {
        if early
            .ws_send(Message::text(
                json!({"type": "raise_hand", "req": i}).to_string(),
            ))
            .await
            .is_err()
        {
            break;
        }
    }
    assert_eq!(early.until_closed().await.0, Some(POLICY));
    // Within the rate is fine: 15 commands at 20 per second pass.
    for _ in 0..15 {
        chair.ok(json!({"type": "reopen_list"})).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    chair.ok(json!({"type": "close_list"})).await;
    viewer.sync_to(chair.seq).await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn connections_per_address_are_capped_and_given_back() {
    let app = spawn_app_with(|s| s.ws.max_connections_per_ip = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(Client::open(&app.ws_url).await);
    }
    let refused = Client::open_with(&app.ws_url, &[])
        .await
        .err()
        .expect("the fourth is refused");
    assert_eq!(refused.0, 429);
    assert!(refused.1.contains("too_many_connections"));
    held.pop().unwrap().close().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if Client::open_with(&app.ws_url, &[]).await.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "the slot was given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_client_that_never_answers_pings_is_dropped() {
    let app = spawn_app_with(|s| s.ws.ping_every = Duration::from_millis(200)).await;
    let s = app.create_session(json!({"title": "Idle"})).await;
    // A raw socket: the handshake and a hello, then silence (no pongs, no reads that answer).
    let addr = app.url.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let handshake = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(handshake.as_bytes()).await.unwrap();
    let hello = json!({"type": "hello", "v": 2, "session": s.id}).to_string();
    // A masked client text frame (mask of zeros).
    let mut frame = vec![0x81, 0x80 | u8::try_from(hello.len()).unwrap(), 0, 0, 0, 0];
    frame.extend_from_slice(hello.as_bytes());
    tcp.write_all(&frame).await.unwrap();
    let started = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(_)) => {}
            Err(_) => panic!("still connected after {:?}", started.elapsed()),
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "dropped after about three pings"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn oversized_headers_and_bodies_and_api_floods_are_refused() {
    let app = spawn_app_with(|s| {
        s.http.api_per_sec = 1;
        s.http.api_burst = 5;
    })
    .await;
    let http = reqwest::Client::new();
    let mut req = http.get(format!("{}/healthz", app.url));
    for i in 0..100 {
        req = req.header(format!("x-junk-{i}"), "x");
    }
    assert_eq!(req.send().await.unwrap().status(), 431, "too many headers");
    let big = "x".repeat(20 * 1024);
    let r = http
        .get(format!("{}/healthz", app.url))
        .header("x-big", big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431, "too many header bytes");
    // The WebSocket upgrade is routed outside the layers, and checks the same limits itself.
    let junk: Vec<(String, &str)> = (0..70).map(|i| (format!("x-junk-{i}"), "x")).collect();
    let junk: Vec<(&str, &str)> = junk.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    match Client::open_with(&app.ws_url, &junk).await {
        Err((status, body)) => {
            assert_eq!(status, 431, "a WebSocket upgrade with too many headers");
            assert!(body.contains("headers_too_large"), "{body}");
        }
        Ok(_) => panic!("a WebSocket upgrade with 70 extra headers was let in"),
    }
    let big = "x".repeat(20 * 1024);
    match Client::open_with(&app.ws_url, &[("x-big", &big)]).await {
        Err((status, _)) => assert_eq!(status, 431, "a WebSocket upgrade with a huge header"),
        Ok(_) => panic!("a WebSocket upgrade with 20 KiB of one header was let in"),
    }
    let r = http
        .post(format!("{}/api/sessions", app.url))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json")
        .body(format!("{{\"title\": \"{}\"}}", "t".repeat(100 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413, "body over the limit");
    // The burst is spent (the three requests above counted one each for the API, two left).
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = http
            .get(format!(
                "{}/api/sessions/00000000000000000000000000000000",
                app.url
            ))
            .send()
            .await
            .unwrap();
        statuses.push((
            r.status().as_u16(),
            r.headers().get("retry-after").is_some(),
        ));
    }
    assert!(statuses.contains(&(404, false)), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&(429, true)), "{statuses:?}");
    // Pages and health are not API calls: still served.
    assert_eq!(
        http.get(format!("{}/healthz", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn security_headers_and_framing_follow_the_configuration() {
    let app = spawn_app().await;
    let r = reqwest::get(format!("{}/", app.url)).await.unwrap();
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.ends_with("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    app.stop().await.unwrap();
    let app =
        spawn_app_with(|s| s.http.frame_ancestors = "https://events.example.org".into()).await;
    let r = reqwest::get(format!("{}/", app.url)).await.unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.ends_with("frame-ancestors https://events.example.org"),
        "{csp}"
    );
    assert!(
        r.headers().get("x-frame-options").is_none(),
        "framing by the event site is allowed"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn hand_flapping_gains_nothing_is_throttled_and_others_stay_timely() {
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Flapping"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let mut ana = app.connect(&s.id, Some(&s.participant)).await;
    let ana_id = ana.join("Ana", "online").await;
    let mut flapper = app.connect(&s.id, Some(&s.participant)).await;
    let flapper_id = flapper.join("Flapper", "online").await;
    flapper.ok(json!({"type": "raise_hand"})).await;
    ana.ok(json!({"type": "raise_hand"})).await;
    let mut refused = 0;
    let mut worst = Duration::ZERO;
    for i in 0..12 {
        if let Some(r) = flapper.my_request(flapper_id) {
            flapper
                .ok(json!({"type": "lower_hand", "request": r}))
                .await;
        }
        let v = flapper.command(json!({"type": "raise_hand"})).await;
        if v["type"] == "error" {
            assert_eq!(v["code"], "too_fast", "{v}");
            assert!(v["retry_after_ms"].as_u64().unwrap() <= 30_000);
            refused += 1;
        } else {
            // Raised again: behind Ana, never ahead.
            flapper.sync_to(v["seq"].as_u64().unwrap()).await;
            let queue = &flapper.view.as_ref().unwrap().queue;
            assert_eq!(
                Some(u64::from(queue[0].request)),
                flapper.my_request(ana_id)
            );
            assert_eq!(
                flapper.my_request(flapper_id),
                Some(u64::from(queue.last().unwrap().request))
            );
        }
        // Meanwhile the chair's commands reach Ana quickly.
        let t = Instant::now();
        let seq = chair
            .ok(json!({"type": "set_control", "control": "rename_lock", "on": i % 2 == 0}))
            .await["seq"]
            .as_u64()
            .unwrap();
        ana.sync_to(seq).await;
        worst = worst.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    println!(
        "flapping: {refused} of 12 raises refused; slowest chair-to-participant update {worst:?}"
    );
    assert!(
        refused >= 8,
        "the throttle held the flapping back ({refused} refused)"
    );
    assert!(
        worst < Duration::from_millis(500),
        "others' updates stayed timely ({worst:?})"
    );
    let queue = &ana.view.as_ref().unwrap().queue;
    assert_eq!(
        Some(u64::from(queue[0].request)),
        ana.my_request(ana_id),
        "Ana is first"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn hostile_names_are_refused_and_twins_are_told_apart_for_everyone() {
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Names"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let mut public = app.connect(&s.id, None).await;
    let mut joiner = app.connect(&s.id, Some(&s.participant)).await;
    for name in [
        "Moderator",
        "IGF Secretariat",
        "Chаir", // Cyrillic а
        "Ana\u{202E}rotaredom",
        "Ana\u{200B}",
        "Ana\u{0007}",
        &"A".repeat(81),
        "   ",
        "会议主持人",
        "Présidente",
    ] {
        let v = joiner
            .refused(
                json!({"type": "join", "profile": {"name": name}}),
                "invalid",
            )
            .await;
        assert!(v["message"].as_str().unwrap().starts_with("name:"), "{v}");
    }
    let mut a = app.connect(&s.id, Some(&s.participant)).await;
    let a_id = a.join("Ana Silva", "online").await;
    a.ok(json!({"type": "raise_hand"})).await;
    let b_id = joiner.join("ANA SILVA", "online").await;
    joiner.ok(json!({"type": "raise_hand"})).await;
    public.sync_to(joiner.seq).await;
    let names = public.request_names();
    assert!(
        names.contains(&"Ana Silva".to_owned()) && names.contains(&"ANA SILVA (2)".to_owned()),
        "{names:?}"
    );
    // The chair locks renaming: nobody can take the other's name back and forth.
    chair
        .ok(json!({"type": "set_control", "control": "rename_lock", "on": true}))
        .await;
    joiner
        .refused(
            json!({"type": "update_profile", "profile": {"name": "Ana"}}),
            "renaming_locked",
        )
        .await;
    let _ = (a_id, b_id);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn lock_suspend_and_end_hold_for_participants_while_moderators_work_and_exports_stay() {
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Controls"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let mut om = app.connect(&s.id, Some(&s.moderator)).await;
    let mut ana = app.connect(&s.id, Some(&s.participant)).await;
    ana.join("Ana", "online").await;
    // Lock: no newcomers; Ana, already in, still raises her hand.
    om.ok(json!({"type": "set_control", "control": "lock", "on": true}))
        .await;
    let mut late = app.connect(&s.id, Some(&s.participant)).await;
    late.refused(
        json!({"type": "join", "profile": {"name": "Late"}}),
        "session_locked",
    )
    .await;
    ana.ok(json!({"type": "raise_hand"})).await;
    assert!(ana.view.as_ref().unwrap().session.controls.locked);
    // Suspend: participants can do nothing; moderators keep running the floor.
    chair
        .ok(json!({"type": "set_control", "control": "suspend", "on": true}))
        .await;
    let r = ana.my_request(0).unwrap();
    ana.refused(json!({"type": "lower_hand", "request": r}), "suspended")
        .await;
    chair
        .ok(json!({"type": "grant", "seen": null, "force": true}))
        .await;
    om.ok(json!({"type": "add_proxy", "profile": {"name": "From the chat"}, "kind": "question"}))
        .await;
    // End: read-only for good, for everyone; the record stays exportable.
    om.refused(json!({"type": "end_session"}), "forbidden")
        .await;
    chair.ok(json!({"type": "end_session"})).await;
    for c in [&mut chair, &mut om] {
        c.refused(
            json!({"type": "set_control", "control": "suspend", "on": false}),
            "session_ended",
        )
        .await;
    }
    ana.sync_to(chair.seq).await;
    let view = ana.view.as_ref().unwrap();
    assert!(
        view.session.controls.ended && view.floor.is_none(),
        "the floor closed"
    );
    let export = reqwest::Client::new()
        .get(format!("{}/api/sessions/{}/events.ndjson", app.url, s.id))
        .bearer_auth(&s.chair)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    let text = export.text().await.unwrap();
    assert!(
        text.lines()
            .last()
            .unwrap()
            .contains("\"type\":\"session_ended\""),
        "{text}"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn tokens_never_reach_the_logs_even_at_debug_level() {
    use std::process::Stdio;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncBufReadExt, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
        .args(["serve", "--bind", "127.0.0.1:0", "--log-format", "json"])
        .args(["--admin-token", ADMIN, "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    tokio::spawn({
        let log = log.clone();
        async move {
            let mut addr_tx = Some(addr_tx);
            while let Ok(Some(line)) = out.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && v["fields"]["message"] == "rostrum serving"
                    && let Some(tx) = addr_tx.take()
                {
                    let _ = tx.send(v["fields"]["addr"].as_str().unwrap().to_owned());
                }
                log.lock().unwrap().push_str(&line);
            }
        }
    });
    tokio::spawn({
        let log = log.clone();
        async move {
            while let Ok(Some(line)) = err.next_line().await {
                log.lock().unwrap().push_str(&line);
            }
        }
    });
    let addr = tokio::time::timeout(Duration::from_secs(20), addr_rx)
        .await
        .unwrap()
        .unwrap();
    let url = format!("http://{addr}");
    let v = create_session_at(&url, &json!({"title": "Logs"})).await;
    let id = v["id"].as_str().unwrap().to_owned();
    let mut tokens: Vec<String> = ["chair", "online_moderator", "participant", "display"]
        .iter()
        .map(|r| fragment(&v["links"][r]))
        .collect();
    let ws_url = format!("ws://{addr}/ws");
    let mut chair = Client::open(&ws_url).await;
    chair.session.clone_from(&id);
    chair.token = Some(tokens[0].clone());
    chair.hello(None).await;
    let mut ana = Client::open(&ws_url).await;
    ana.session.clone_from(&id);
    ana.token = Some(tokens[2].clone());
    ana.hello(None).await;
    ana.join("Ana", "online").await;
    tokens.push(ana.token.clone().unwrap());
    // A forged token, a wrong session, an export and a rotation: everything that handles tokens.
    let forged = format!("{}x", tokens[0]);
    let mut bad = Client::open(&ws_url).await;
    bad.send_json(&json!({"type": "hello", "v": 2, "session": id, "token": forged}))
        .await;
    bad.until_closed().await;
    let http = reqwest::Client::new();
    http.get(format!("{url}/api/sessions/{id}/events.ndjson"))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .unwrap();
    let rotated: Value = http
        .post(format!("{url}/api/sessions/{id}/rotate"))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens.push(fragment(&rotated["links"]["chair"]));
    assert_eq!(chair.until_closed().await.1, Some("revoked".into()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let log = log.lock().unwrap().clone();
    assert!(log.contains("role links rotated"), "the log was captured");
    for secret in tokens.iter().chain([&forged, &ADMIN.to_owned()]) {
        // Any 24-character piece of a token (the MAC alone is longer) would be a leak.
        let piece = &secret[secret.len().saturating_sub(24)..];
        assert!(!log.contains(piece), "a token reached the log");
    }
}
