//! Durability through the real binary and the real SQLite file: SIGKILL at random moments,
//! restarts, damage, a full database, a read-only directory, exports and backups.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rostrum::protocol::{Audience, Patch, Slot, View};
use rostrum::queue::{Event, Fact, State, Timestamp};
use rostrum::store::{EventLog, SqliteLog, SqliteOptions, StoreError};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::support::{ADMIN, Client, Server, small_database, spawn_app_in, spawn_app_with};

/// What a client saw acknowledged: the session, the seq, and its view at that seq.
#[derive(Clone)]
struct Acked {
    session: String,
    audience: Audience,
    seq: u64,
    view: View,
}

/// How to find a command's effect in the log: a unique text it wrote, or the request it lowered.
#[derive(Clone, Debug)]
enum Mark {
    Text(String),
    Lowered(u32),
}

impl Mark {
    fn in_event(&self, e: &Event) -> bool {
        match self {
            Mark::Text(t) => serde_json::to_string(&e.fact).unwrap().contains(t.as_str()),
            Mark::Lowered(r) => matches!(e.fact, Fact::HandLowered { request } if request.0 == *r),
        }
    }
}

/// A command sent and not answered when the server died: what a page sends again, with the
/// same `req`, once it has reconnected with its secret.
#[derive(Clone, Debug)]
struct InFlight {
    session: String,
    token: String,
    secret: String,
    cmd: Value,
    mark: Mark,
}

/// What one round's clients leave behind.
#[derive(Default)]
struct Round {
    acked: Vec<Acked>,
    in_flight: Vec<InFlight>,
}

/// A client that keeps going until the server dies under it, recording each acknowledged
/// command with the view it held at that seq, and the command it was still waiting for.
async fn crash_client(
    ws_url: String,
    session: String,
    token: String,
    moderator: bool,
    seed: u64,
    out: Arc<Mutex<Round>>,
) {
    let Ok((mut ws, _)) = tokio_tungstenite::connect_async(&ws_url).await else {
        return;
    };
    let hello = json!({"type": "hello", "v": 2, "session": session, "token": token});
    if ws.send(Message::text(hello.to_string())).await.is_err() {
        return;
    }
    let audience = if moderator {
        Audience::Moderator
    } else {
        Audience::Public
    };
    let (mut view, mut seq): (Option<View>, u64) = (None, 0);
    let (mut token, mut secret) = (token, String::new());
    let mut rng = seed | 1;
    let mut me: Option<u64> = None;
    for req in 1.. {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Each command writes a text no other does (or lowers one request), to be found in the log.
        let marker = format!("[{seed}.{req}]");
        let text = Mark::Text(marker.clone());
        let cmd = match (moderator, me, view.as_ref()) {
            (_, _, None) => None,
            (true, _, Some(v)) => Some(match (rng % 3, v.queue.last()) {
                (1, _) => (
                    json!({"type": "post_link", "title": marker, "url": "https://example.org/slides"}),
                    text,
                ),
                (2, Some(last)) => (
                    json!({"type": "move", "request": last.request, "position": 1, "reason": marker}),
                    text,
                ),
                _ => (
                    json!({"type": "add_proxy", "profile": {"name": marker, "modality": "onsite"}, "kind": "question"}),
                    text,
                ),
            }),
            (false, None, Some(_)) => Some((
                json!({"type": "join", "profile": {"name": marker, "modality": "online"}}),
                text,
            )),
            (false, Some(p), Some(v)) => Some(
                match v.requests.values().find(|r| u64::from(r.participant) == p) {
                    Some(r) if rng.is_multiple_of(2) => (
                        json!({"type": "change_request", "request": r.id, "kind": "question", "note": marker}),
                        text,
                    ),
                    Some(r) => (
                        json!({"type": "lower_hand", "request": r.id}),
                        Mark::Lowered(r.id),
                    ),
                    None => (
                        json!({"type": "raise_hand", "kind": "intervention", "note": marker}),
                        text,
                    ),
                },
            ),
        };
        let mut awaiting = None;
        if let Some((mut cmd, mark)) = cmd {
            cmd["req"] = json!(req);
            awaiting = Some(req);
            let flight = InFlight {
                session: session.clone(),
                token: token.clone(),
                secret: secret.clone(),
                cmd: cmd.clone(),
                mark,
            };
            if ws.send(Message::text(cmd.to_string())).await.is_err() {
                out.lock().unwrap().in_flight.push(flight);
                return;
            }
            // Kept until answered: if the server dies first, the command is in flight.
            out.lock().unwrap().in_flight.push(flight);
        }
        // Read until the answer (and the view it speaks of) is in.
        let mut acked_at = None;
        loop {
            let Some(Ok(Message::Text(t))) = ws.next().await else {
                return;
            };
            let v: Value = serde_json::from_str(&t).unwrap();
            match v["type"].as_str().unwrap() {
                "welcome" => secret = v["client"].as_str().unwrap().to_owned(),
                "snapshot" => {
                    view = Some(serde_json::from_value(v["view"].clone()).unwrap());
                    seq = v["seq"].as_u64().unwrap();
                }
                "update" => {
                    let from = v["from"].as_u64().unwrap();
                    assert!(from <= seq + 1 && v["seq"].as_u64().unwrap() > seq, "{v}");
                    let patch: Patch = serde_json::from_value(v["patch"].clone()).unwrap();
                    view.as_mut()
                        .unwrap()
                        .apply(
                            &patch,
                            rostrum::queue::Timestamp(v["server_time"].as_u64().unwrap_or(0)),
                        )
                        .unwrap();
                    seq = v["seq"].as_u64().unwrap();
                }
                "order" => {
                    let q: Vec<Slot> = serde_json::from_value(v["queue"].clone()).unwrap();
                    view.as_mut().unwrap().queue = q;
                }
                "ack" if Some(v["req"].as_u64().unwrap()) == awaiting => {
                    answered(&out, &secret, req);
                    if let Some(p) = v["participant"].as_u64().filter(|_| !moderator) {
                        me = Some(p);
                        token = v["token"].as_str().unwrap().to_owned();
                    }
                    acked_at = Some(v["seq"].as_u64().unwrap());
                }
                "error" if v["req"].as_u64() == awaiting => {
                    answered(&out, &secret, req);
                    awaiting = None;
                }
                _ => {}
            }
            // The public's frame for the command (if it gets one) comes before the ack; a
            // moderator's may come after it. The public's frames skip what it does not see, so
            // one sent before the ack may reach past it (its `from` reaching back over the
            // command, which had nothing for the public): the view is then the one at that
            // later seq, and the public view at the ack's seq, if nothing came past it.
            if let Some(at) = acked_at
                && (seq >= at || !moderator)
            {
                out.lock().unwrap().acked.push(Acked {
                    session: session.clone(),
                    audience,
                    seq: at.max(seq),
                    view: view.clone().unwrap(),
                });
                break;
            }
            if awaiting.is_none() && view.is_some() {
                break;
            }
        }
    }
}

/// The command `req` of the client with `secret` is answered: no longer in flight.
fn answered(out: &Arc<Mutex<Round>>, secret: &str, req: u64) {
    let mut round = out.lock().unwrap();
    round
        .in_flight
        .retain(|f| f.secret != secret || f.cmd["req"] != req);
}

/// An in-flight command sent again after the restart, and what it was answered.
struct Resent {
    flight: InFlight,
    answer: Value,
    /// The session's last seq when the server was killed.
    tip_at_kill: u64,
}

/// Reconnect as the page would (its link, its secret) and send the command again.
async fn resend(ws_url: &str, flight: InFlight, tip_at_kill: u64) -> Resent {
    let mut c = Client::open(ws_url).await;
    c.session = flight.session.clone();
    c.token = Some(flight.token.clone());
    c.client_id = flight.secret.clone();
    c.hello(None).await;
    assert_eq!(
        c.client_id, flight.secret,
        "the secret is honoured after the restart"
    );
    let answer = c.command_with_req(flight.cmd.clone()).await;
    Resent {
        flight,
        answer,
        tip_at_kill,
    }
}

/// What the resent in-flight commands came to, over every round.
#[derive(Default, Debug)]
struct Outcomes {
    in_flight: usize,
    /// Applied before the kill: the resend was answered from the record.
    recorded: usize,
    /// Not applied before the kill: the resend applied it, once.
    applied_after: usize,
    /// Refused on the resend, and not applied.
    refused: usize,
    /// A move with nothing left to move: acknowledged, no event.
    no_op: usize,
    /// Anything else: applied twice, refused though applied, or an ack naming another append.
    wrong: Vec<String>,
}

impl Outcomes {
    /// Check a resend's answer against the log: applied once, answered with the append's seq.
    fn check(&mut self, r: &Resent, events: &[Event]) {
        self.in_flight += 1;
        let hits: Vec<u64> = (1..)
            .zip(events)
            .filter(|(_, e)| r.flight.mark.in_event(e))
            .map(|(seq, _)| seq)
            .collect();
        let what = format!("{} -> {}: at seqs {hits:?}", r.flight.cmd, r.answer);
        match (r.answer["type"].as_str(), hits.as_slice()) {
            (Some("ack"), [m]) => {
                let s = r.answer["seq"].as_u64().unwrap();
                let append = events.get(*m as usize - 1..s as usize).unwrap_or_default();
                if s < *m || s - m > 2 || append.iter().any(|e| e.at != append[0].at) {
                    self.wrong
                        .push(format!("an ack naming another append: {what}"));
                } else if s <= r.tip_at_kill {
                    self.recorded += 1;
                } else {
                    self.applied_after += 1;
                }
            }
            (Some("ack"), []) if r.flight.cmd["type"] == "move" => self.no_op += 1,
            (Some("error"), []) => self.refused += 1,
            (Some("ack"), []) => self
                .wrong
                .push(format!("acknowledged, not applied: {what}")),
            (Some("error"), _) => self.wrong.push(format!("refused, but applied: {what}")),
            _ => self.wrong.push(format!("applied twice: {what}")),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_nothing_acknowledged_and_applies_resends_once() {
    let rounds: u64 = std::env::var("ROSTRUM_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path()).await;
    let sessions = vec![
        server.create_session("Crash A").await,
        server.create_session("Crash B").await,
    ];
    let mut total_acked = 0;
    let mut outcomes = Outcomes::default();
    // The previous round's resends, checked against the log at the next kill.
    let mut resent: Vec<Resent> = Vec::new();
    for round in 0..=rounds {
        let out = Arc::new(Mutex::new(Round::default()));
        let mut clients = Vec::new();
        for (k, (id, chair, participant)) in sessions.iter().enumerate().filter(|_| round < rounds)
        {
            let seed = round * 100 + k as u64 * 10;
            clients.push(tokio::spawn(crash_client(
                server.ws_url.clone(),
                id.clone(),
                chair.clone(),
                true,
                seed + 1,
                out.clone(),
            )));
            for p in 2..4 {
                clients.push(tokio::spawn(crash_client(
                    server.ws_url.clone(),
                    id.clone(),
                    participant.clone(),
                    false,
                    seed + p,
                    out.clone(),
                )));
            }
        }
        let pause = 30 + (round * 7919) % 170;
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server.kill9().await;
        for c in clients {
            // Each client sees its socket die and records what it was still waiting for.
            tokio::time::timeout(Duration::from_secs(10), c)
                .await
                .expect("a client notices the kill")
                .unwrap();
        }
        let Round { acked, in_flight } = std::mem::take(&mut *out.lock().unwrap());
        total_acked += acked.len();
        // The server is down: read its file directly.
        let log = SqliteLog::open(dir.path(), SqliteOptions::default()).unwrap();
        let mut tips = std::collections::HashMap::new();
        for (id, _, _) in &sessions {
            let sid = id.parse().unwrap();
            let events = log
                .load(sid, 0)
                .await
                .expect("a gap-free log whose records all check out");
            for a in acked.iter().filter(|a| &a.session == id) {
                assert!(
                    a.seq <= events.len() as u64,
                    "round {round}: acknowledged seq {} is in the log ({})",
                    a.seq,
                    events.len()
                );
                let state = State::replay(&events[..a.seq as usize]);
                let replayed = View::of(
                    &state,
                    a.audience,
                    Timestamp(events[a.seq as usize - 1].at.0),
                );
                assert_eq!(
                    replayed, a.view,
                    "round {round}: the replayed state is what the client saw at seq {}",
                    a.seq
                );
            }
            for r in resent.iter().filter(|r| &r.flight.session == id) {
                outcomes.check(r, &events);
            }
            tips.insert(id.clone(), events.len() as u64);
        }
        drop(log);
        server = Server::start(dir.path()).await;
        // Every command still in flight is sent again, as the pages do on reconnecting.
        resent = Vec::new();
        for f in in_flight {
            let tip = tips[&f.session];
            resent.push(resend(&server.ws_url, f, tip).await);
        }
    }
    println!("in-flight commands at {rounds} kills, resent after each restart: {outcomes:?}");
    assert!(
        outcomes.wrong.is_empty(),
        "{} of {} in-flight commands: {:#?}",
        outcomes.wrong.len(),
        outcomes.in_flight,
        outcomes.wrong
    );
    assert!(
        total_acked > rounds as usize,
        "the rounds did real work ({total_acked} acknowledged commands)"
    );
    assert!(
        outcomes.in_flight > 0 || rounds < 10,
        "some commands were in flight at a kill"
    );
    // Links from before every crash still work: the signing key persisted.
    let (id, chair, _) = &sessions[0];
    let mut c = Client::open(&server.ws_url).await;
    c.session = id.clone();
    c.token = Some(chair.clone());
    assert_eq!(c.hello(None).await["role"], "chair");
    server.kill9().await;
}

#[tokio::test]
async fn after_a_restart_every_session_and_queue_is_as_it_was_and_clients_resume() {
    let app = spawn_app_with(|_| {}).await;
    let s = app.create_session(json!({"title": "Restart"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    chair.add_walk_ins(&["A", "B", "C"]).await;
    chair.ok(json!({"type": "grant", "seen": null})).await;
    let mut viewer = app.connect(&s.id, None).await;
    let before = viewer.view.clone();
    let (r, dir) = app.stop_keeping_data().await;
    r.unwrap();
    let app = spawn_app_in(dir, |_| {}).await;
    let welcome = viewer.resume(&app.ws_url).await;
    assert_eq!(welcome["recovered"], true, "a reconnect, nothing more");
    assert_eq!(viewer.updates_seen, []);
    assert_eq!(viewer.view, before);
    let chair = app.connect(&s.id, Some(&s.chair)).await;
    assert_eq!(
        chair
            .view
            .as_ref()
            .unwrap()
            .floor
            .as_ref()
            .unwrap()
            .who
            .name,
        "A"
    );
    assert_eq!(chair.view.as_ref().unwrap().queue.len(), 2);
}

#[tokio::test]
async fn a_damaged_session_is_refused_until_repaired_then_clients_resync() {
    let app = spawn_app_with(|_| {}).await;
    let s = app.create_session(json!({"title": "Damage"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    chair.add_walk_ins(&["A", "B", "C"]).await;
    let healthy = app.create_session(json!({"title": "Healthy"})).await;
    let (r, dir) = app.stop_keeping_data().await;
    r.unwrap();
    // Change a byte inside the record of B's join (seq 4: the opening, then two events a proxy).
    let db = rusqlite::Connection::open(dir.path().join("rostrum.db")).unwrap();
    let changed = db.execute("UPDATE events SET body = replace(body, '\"B\"', '\"C\"') WHERE session = ?1 AND seq = 4", [&s.id]).unwrap();
    assert_eq!(changed, 1);
    drop(db);
    let app = spawn_app_in(dir, |_| {}).await;
    let mut c = Client::open(&app.ws_url).await;
    c.send_json(&json!({"type": "hello", "v": 2, "session": s.id, "token": s.chair}))
        .await;
    let e = c.recv().await;
    assert_eq!(e["code"], "damaged", "{e}");
    assert!(
        matches!(c.next_message().await, Some(Message::Close(Some(f))) if f.code == CloseCode::Error)
    );
    let info = reqwest::get(format!("{}/api/sessions/{}", app.url, s.id))
        .await
        .unwrap();
    assert_eq!(info.status(), 503);
    assert_eq!(info.json::<Value>().await.unwrap()["code"], "damaged");
    app.connect(&healthy.id, Some(&healthy.chair)).await; // other sessions are served
    let (r, dir) = app.stop_keeping_data().await;
    r.unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
        .args(["repair", &s.id, "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("kept events 1..=3; its epoch is now 2"));
    let app = spawn_app_in(dir, |_| {}).await;
    let welcome = chair.resume(&app.ws_url).await;
    assert_eq!(
        (welcome["recovered"].as_bool(), welcome["epoch"].as_u64()),
        (Some(false), Some(2)),
        "a new epoch: resync"
    );
    assert_eq!(chair.request_names(), ["A"], "the valid prefix");
}

#[tokio::test]
async fn a_full_database_refuses_commands_and_keeps_serving_reads() {
    let app = spawn_app_with(small_database).await;
    let s = app.create_session(json!({"title": "Full"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let note = "n".repeat(250);
    let failure = loop {
        let v = chair.command(json!({"type": "add_proxy", "profile": {"name": "Walk-in", "modality": "onsite"}, "note": note})).await;
        if v["type"] == "error" {
            break v;
        }
        assert!(chair.seq < 5_000, "the cap is reached");
    };
    assert_eq!(failure["code"], "unavailable", "{failure}");
    let seq = chair.seq;
    assert_eq!(
        app.info(&s.id).await["seq"],
        seq,
        "the state did not advance"
    );
    let viewer = app.connect(&s.id, None).await;
    let waiting = |c: &Client| c.view.as_ref().unwrap().queue.len();
    assert_eq!(
        (viewer.seq, waiting(&viewer)),
        (seq, waiting(&chair)),
        "reads are served"
    );
    chair.ok(json!({"type": "reopen_list"})).await; // a no-op needs no space
}

#[tokio::test]
async fn a_read_only_data_directory_is_refused_at_start_with_a_clear_error() {
    if !std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
    {
        eprintln!("skipped: needs root to run the service as another user");
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let app = spawn_app_in(tempfile::tempdir().unwrap(), |_| {}).await;
    drop(app);
    std::fs::create_dir(&data).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).unwrap();
    let out = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_rostrum"),
            "serve",
            "--bind",
            "127.0.0.1:0",
        ])
        .args([
            "--admin-token",
            ADMIN,
            "--secret",
            &"ab".repeat(32),
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not writable") && err.contains(&data.display().to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn moderators_export_the_log_and_operators_export_and_back_up_from_the_data_directory() {
    let app = spawn_app_with(|_| {}).await;
    let s = app.create_session(json!({"title": "Export"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    chair.ok(json!({"type": "add_proxy", "profile": {"name": "Ana, delegate", "affiliation": "Brazil", "modality": "onsite"}})).await;
    chair.ok(json!({"type": "grant", "seen": null})).await;
    chair.ok(json!({"type": "end_turn", "seen": 0})).await;
    let mut p = app.connect(&s.id, Some(&s.participant)).await;
    p.join("Bo", "online").await;
    let url = format!("{}/api/sessions/{}/events.ndjson", app.url, s.id);
    let http = reqwest::Client::new();
    let ok = http.get(&url).bearer_auth(&s.chair).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["content-type"], "application/x-ndjson");
    let text = ok.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len() as u64,
        chair.seq + 1,
        "every event (Bo's join too)"
    );
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["seq"], i + 1);
    }
    for token in [
        Some(p.token.clone().unwrap()),
        Some(s.participant.clone()),
        None,
    ] {
        let mut r = http.get(&url);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        assert_eq!(r.send().await.unwrap().status(), 403);
    }
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
            .args(args)
            .arg("--data-dir")
            .arg(app.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let csv = cli(&["export", &s.id, "--format", "csv"]);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[0],
        "turn,who,affiliation,modality,kind,requested,granted,waited_s,spoke_s,agenda_item"
    );
    assert_eq!(rows.len(), 2);
    assert!(
        rows[1].starts_with("1,\"Ana, delegate\",Brazil,onsite,intervention,"),
        "{}",
        rows[1]
    );
    assert_eq!(
        cli(&["export", &s.id, "--format", "ndjson"]),
        text,
        "the CLI and the API export the same log"
    );
    let backup = app.dir.path().join("copy.db");
    cli(&["backup", backup.to_str().unwrap()]);
    let copy_dir = tempfile::tempdir().unwrap();
    std::fs::rename(&backup, copy_dir.path().join("rostrum.db")).unwrap();
    let copy = SqliteLog::open(copy_dir.path(), SqliteOptions::default()).unwrap();
    let sid = s.id.parse().unwrap();
    assert_eq!(copy.load(sid, 0).await.unwrap().len(), lines.len());
    assert!(matches!(
        copy.load(rostrum::ids::SessionId::random(), 0).await,
        Err(StoreError::UnknownSession(_))
    ));
}

/// `GET /readyz`: the status and the body.
async fn readyz(url: &str) -> (u16, String) {
    let r = reqwest::get(format!("{url}/readyz")).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Poll `/readyz` until it answers `status`, at most `within`.
async fn ready_becomes(url: &str, status: u16, within: Duration) -> String {
    let until = tokio::time::Instant::now() + within;
    loop {
        let (s, body) = readyz(url).await;
        if s == status {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "/readyz still {s} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_read_only_database_file_fails_readiness_until_it_can_be_written() {
    use std::os::unix::fs::{PermissionsExt, chown};
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let parent = tempfile::tempdir().unwrap();
    std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = parent.path().join("data");
    std::fs::create_dir(&data).unwrap();
    // A database with a session in it, left whole by a clean stop.
    let server = Server::start(&data).await;
    let (id, chair, _) = server.create_session("Read-only").await;
    assert!(server.terminate().await.success());
    // Root writes any file whatever its mode: run the service as nobody, as a locked-down
    // systemd unit would, owning the directory but not allowed to write the database file.
    if root {
        for entry in std::fs::read_dir(&data).unwrap() {
            chown(entry.unwrap().path(), Some(65534), Some(65534)).unwrap();
        }
        chown(&data, Some(65534), Some(65534)).unwrap();
    }
    let db = data.join("rostrum.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let mut cmd = if root {
        let mut c = tokio::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_rostrum"));
        c
    } else {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
    };
    let mut child = cmd
        .args(["serve", "--bind", "127.0.0.1:0", "--log-format", "json"])
        .args(["--admin-token", ADMIN, "--data-dir"])
        .arg(&data)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut logged = Vec::new();
    let addr = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("it starts, serving reads");
        let v: Value = serde_json::from_str(&line).unwrap_or_default();
        logged.push(line);
        if v["fields"]["message"] == "rostrum serving" {
            break v["fields"]["addr"].as_str().unwrap().to_owned();
        }
    };
    let url = format!("http://{addr}");
    assert!(
        logged
            .iter()
            .any(|l| l.contains("the store cannot write") && l.contains("read-only")),
        "said once, at start: {logged:?}"
    );
    let (status, body) = readyz(&url).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("store_unavailable") && body.contains("read-only"),
        "{body}"
    );
    // Reads are served; a command is answered `unavailable`, nothing applied.
    let ws_url = format!("ws://{addr}/ws");
    let mut c = Client::connect_to(&ws_url, &id, Some(&chair)).await;
    let seq = c.seq;
    let e = c
        .command(json!({"type": "add_proxy", "profile": {"name": "Ana", "modality": "onsite"}}))
        .await;
    assert_eq!(e["code"], "unavailable", "{e}");
    // The operator fixes the mode while commands keep coming (so the writer is never idle):
    // within a probe or two the service is ready and writes.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    let ack = loop {
        let v = c
            .command(json!({"type": "add_proxy", "profile": {"name": "Ana", "modality": "onsite"}}))
            .await;
        if v["type"] == "ack" || tokio::time::Instant::now() > until {
            break v;
        }
        assert_eq!(v["code"], "unavailable", "{v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(readyz(&url).await.0, 200);
    if ack["type"] != "ack" {
        child.start_kill().unwrap();
        while let Ok(Ok(Some(l))) =
            tokio::time::timeout(Duration::from_secs(1), lines.next_line()).await
        {
            logged.push(l);
        }
    }
    assert_eq!(
        (ack["type"].as_str(), ack["seq"].as_u64()),
        (Some("ack"), Some(seq + 2)),
        "{ack} {logged:#?}"
    );
    child.start_kill().unwrap();
    child.wait().await.unwrap();
}

#[tokio::test]
async fn a_frozen_disk_is_answered_unavailable_in_bounded_time_and_fails_readiness() {
    // The disk "freezes" for the writer: another process holds SQLite's write lock, so the
    // service's commit cannot proceed, exactly as if its write never returned. (SIGSTOP cannot
    // stop one thread, and a real frozen block device needs privileges a test does not have.)
    let dir = tempfile::tempdir().unwrap();
    let extra = ["--store-timeout-ms", "1000", "--api-per-sec", "1000"].map(String::from);
    let server = Server::start_with(dir.path(), "127.0.0.1:0", "info", &extra).await;
    let (a, chair_a, _) = server.create_session("Frozen A").await;
    let (b, chair_b, _) = server.create_session("Frozen B").await;
    let mut ca = server.connect(&a, Some(&chair_a)).await;
    let mut cb = server.connect(&b, Some(&chair_b)).await;
    let (seq_a, seq_b) = (ca.seq, cb.seq);
    ready_becomes(&server.url, 200, Duration::from_secs(5)).await;

    let lock = rusqlite::Connection::open(dir.path().join("rostrum.db")).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let freeze = std::time::Instant::now();
    let cmd = json!({"type": "add_proxy", "profile": {"name": "Ana", "modality": "onsite"}});
    // Two sessions at once: one command inside the stuck commit, one queued behind it.
    let (ea, eb) = tokio::join!(ca.command(cmd.clone()), cb.command(cmd.clone()));
    let waited = freeze.elapsed();
    assert_eq!(
        (ea["code"].as_str(), eb["code"].as_str()),
        (Some("unavailable"), Some("unavailable")),
        "{ea} {eb}"
    );
    assert!(waited < Duration::from_secs(4), "answered after {waited:?}");
    let body = ready_becomes(&server.url, 503, Duration::from_secs(3)).await;
    assert!(body.contains("store_unavailable"), "{body}");
    // More commands meanwhile: each answered in bounded time, still nothing applied.
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let e = ca.command(cmd.clone()).await;
        assert_eq!(e["code"], "unavailable", "{e}");
        assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    }
    assert_eq!(readyz(&server.url).await.0, 503, "not ready while frozen");

    lock.execute_batch("ROLLBACK").unwrap();
    drop(lock);
    ready_becomes(&server.url, 200, Duration::from_secs(10)).await;
    // Nothing of the frozen commands was applied: the next one lands right after.
    let ack = ca.command(cmd.clone()).await;
    assert_eq!(ack["seq"].as_u64(), Some(seq_a + 2), "{ack}");
    let ack = cb.command(cmd).await;
    assert_eq!(ack["seq"].as_u64(), Some(seq_b + 2), "{ack}");
    for (id, token) in [(&a, &chair_a), (&b, &chair_b)] {
        let log = reqwest::Client::new()
            .get(format!("{}/api/sessions/{id}/events.ndjson", server.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(
            log.lines().filter(|l| l.contains("\"Ana\"")).count(),
            1,
            "{id}: only the command after the freeze"
        );
    }
    let said = server
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("the store cannot write"))
        .count();
    assert_eq!(said, 1, "why is logged once, not per command");
}
