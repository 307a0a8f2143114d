//! A rolling restart of one node, through the real binary: SIGTERM in the middle of a session's
//! traffic, a new process on the same address and data directory, and every client resuming.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{ADMIN, Server};

/// Connect to a session with a token and say hello.
#[tokio::test]
async fn a_rolling_restart_loses_nothing_and_clients_resume_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let (session, chair_token, join_token) = server.create_session("Rolling restart").await;
    let mut chair = server.connect(&session, Some(&chair_token)).await;
    let mut people = Vec::new();
    for (i, modality) in ["online", "hub", "online"].iter().enumerate() {
        let mut p = server.connect(&session, Some(&join_token)).await;
        let id = p.join(&format!("Speaker {i}"), modality).await;
        people.push((p, id));
    }
    // Traffic: hands raised and lowered, the chair granting and ending turns; every ack kept.
    let mut acked: Vec<u64> = Vec::new();
    for round in 0..3 {
        for (i, (p, id)) in people.iter_mut().enumerate() {
            p.sync_to(chair.seq).await;
            if p.my_request(*id).is_none() {
                let ack = p
                    .ok(json!({"type": "raise_hand", "kind": "question"}))
                    .await;
                acked.push(ack["seq"].as_u64().unwrap());
            }
            if round == 1 && i == 0 {
                let request = p.my_request(*id).unwrap();
                let ack = p
                    .ok(json!({"type": "lower_hand", "request": request}))
                    .await;
                acked.push(ack["seq"].as_u64().unwrap());
            }
        }
        chair.sync_to(*acked.iter().max().unwrap()).await;
        let ack = chair
            .ok(json!({"type": "grant", "force": true, "seen": chair.floor_turn()}))
            .await;
        acked.push(ack["seq"].as_u64().unwrap());
        let ack = chair
            .ok(json!({"type": "end_turn", "seen": chair.floor_turn()}))
            .await;
        acked.push(ack["seq"].as_u64().unwrap());
    }
    // One more command goes out as the node is told to stop: it is either acknowledged (and
    // then kept) or answered with nothing (and the client may resend it after the restart).
    chair
        .send_json(
            &json!({"type": "grant", "req": 9_000, "force": true, "seen": chair.floor_turn()}),
        )
        .await;
    let addr = server.addr.clone();
    let status = server.terminate().await;
    assert!(status.success(), "a graceful stop exits 0: {status:?}");
    // Read what the chair was still sent: perhaps that ack, then the close.
    let (mut last_grant, mut code) = (None, None);
    loop {
        match chair.next_message().await {
            Some(Message::Text(t)) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "ack" && v["req"] == 9_000 {
                    last_grant = v["seq"].as_u64();
                }
            }
            Some(Message::Close(f)) => {
                code = f.map(|f| u16::from(f.code));
                break;
            }
            Some(_) => {}
            None => break,
        }
    }
    assert_eq!(
        code,
        Some(1001),
        "clients are told the server is going away"
    );
    for (p, _) in &mut people {
        assert_eq!(p.until_closed().await.0, Some(1001));
    }
    acked.extend(last_grant);

    // The next process on the same address and data directory.
    let stopped = Instant::now();
    let server = Server::start_at(dir.path(), &addr).await;
    let mut resumed_in = Vec::new();
    for c in std::iter::once(&mut chair).chain(people.iter_mut().map(|(p, _)| p)) {
        let seq_before = c.seq;
        let welcome = c.resume(&server.ws_url).await;
        resumed_in.push(stopped.elapsed());
        // Everything the client had seen is still there: the same epoch, nothing behind it.
        assert_eq!(welcome["epoch"], json!(c.epoch), "{welcome}");
        assert!(welcome["seq"].as_u64().unwrap() >= seq_before, "{welcome}");
    }
    let slowest = resumed_in.iter().max().unwrap();
    println!("every client resumed within {slowest:?} of the old process's exit");
    assert!(*slowest < Duration::from_secs(5), "{resumed_in:?}");

    // Nothing acknowledged was lost: every acked seq is in the log, and the clients' views
    // equal a fresh snapshot.
    let log = reqwest::Client::new()
        .get(format!(
            "{}/api/sessions/{session}/events.ndjson",
            server.url
        ))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let seqs: Vec<u64> = log
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    for seq in &acked {
        assert!(seqs.contains(seq), "acked seq {seq} is in the log");
    }
    // And the session goes on: a command after the restart reaches everyone.
    let (p, id) = &mut people[2];
    let ack = match p.my_request(*id) {
        Some(request) => {
            p.ok(json!({"type": "lower_hand", "request": request}))
                .await
        }
        None => p.ok(json!({"type": "raise_hand"})).await,
    };
    let seq = ack["seq"].as_u64().unwrap();
    let fresh = server.connect(&session, Some(&chair_token)).await;
    for (p, _) in &mut people {
        p.sync_to(seq).await;
        assert_eq!(p.seq, seq);
    }
    chair.sync_to(seq).await;
    assert_eq!(
        serde_json::to_value(&chair.view).unwrap(),
        serde_json::to_value(&fresh.view).unwrap(),
        "the resumed console holds what a fresh one is sent"
    );
    server.terminate().await;
}

/// Every client of a session reconnecting at once to a fresh process (a restart, a node's
/// clients failing over) makes its log load once, not once per client: the first hello starts
/// the actor and the others wait for it (`Hub::get`'s gate), as `/metrics` counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_reconnecting_at_once_load_the_session_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = Server::start(dir.path()).await;
    let (session, chair_token, _) = first.create_session("Reconnect storm").await;
    let mut chair = first.connect(&session, Some(&chair_token)).await;
    let names: Vec<String> = (0..15).map(|i| format!("Walk-in {i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    chair.add_walk_ins(&names).await;
    first.kill9().await;

    let server = Server::start(dir.path()).await;
    let loads = |text: &str| crate::support::sample(text, "rostrum_session_loads_total");
    let (_, before) = server.scrape(ADMIN).await;
    assert_eq!(loads(&before).unwrap_or(0.0), 0.0, "nothing loaded yet");
    let clients = futures_util::future::join_all(
        (0..50).map(|_| crate::support::Client::connect_to(&server.ws_url, &session, None)),
    )
    .await;
    let seq = clients[0].seq;
    assert!(seq > 15, "the whole session: seq {seq}");
    for c in &clients {
        assert_eq!(c.seq, seq, "each client has the whole session");
    }
    let (_, after) = server.scrape(ADMIN).await;
    assert_eq!(loads(&after), Some(1.0), "one load for fifty clients");
    assert_eq!(
        crate::support::sample(&after, "rostrum_sessions_live"),
        Some(1.0)
    );
}
