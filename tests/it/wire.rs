//! Protocol version 2 on the wire (issue 22): the old version refused clearly, lean updates per
//! audience within the byte targets (measured by `rostrum bench --wire` on a real server), and
//! no frame to the public for a change it does not see, with its stream still whole.

use serde_json::{Value, json};
use tokio::process::Command;

use crate::support::{ADMIN, Client, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_version_1_hello_is_refused_with_a_typed_error_and_a_clean_close() {
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Versions"})).await;
    let mut c = Client::open(&app.ws_url).await;
    c.send_json(&json!({"type": "hello", "v": 1, "session": s.id, "token": s.chair}))
        .await;
    let (code, last) = c.until_closed().await;
    assert_eq!(last.as_deref(), Some("unsupported_version"));
    assert_eq!(code, Some(1008), "a policy close");
    // The message says what the server speaks and where it is written down.
    let mut c = Client::open(&app.ws_url).await;
    c.send_json(&json!({"type": "hello", "v": 1, "session": s.id}))
        .await;
    let err = c.recv().await;
    assert_eq!(err["code"], "unsupported_version", "{err}");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("version 2") && message.contains("docs/protocol.md"),
        "{message}"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_join_or_a_moderators_setting_sends_the_public_nothing_and_its_next_frame_reaches_back() {
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Lean"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let mut viewer = app.connect(&s.id, None).await;
    let at = viewer.seq;
    let mut ana = app.connect(&s.id, Some(&s.participant)).await;
    ana.join("Ana", "online").await;
    // Settings no public page shows: the online moderator's scope, the takeaways.
    chair
        .ok(json!({"type": "set_moderator_scope", "remote_only": true}))
        .await;
    chair
        .ok(json!({"type": "set_takeaways", "text": "Hubs asked for captioning."}))
        .await;
    let session = &chair.view.as_ref().unwrap().session;
    assert_eq!(session.moderator_remote_only, Some(true));
    assert_eq!(session.takeaways, "Hubs asked for captioning.");
    // The chair (a moderator) is sent all three; the viewer is sent nothing for them: its
    // next frame is the raise's.
    let raised = ana
        .ok(json!({"type": "raise_hand", "kind": "question"}))
        .await;
    let seq = raised["seq"].as_u64().unwrap();
    chair.sync_to(seq).await;
    let update = viewer.recv().await;
    assert_eq!(update["type"], "update", "{update}");
    assert_eq!(update["seq"], seq);
    assert_eq!(
        update["from"],
        at + 1,
        "the viewer's next frame reaches back over the join it was not sent: {update}"
    );
    assert!(
        update.get("events").is_none(),
        "no events for the public: {update}"
    );
    // Lean: the new request leaves out its defaults.
    let r = &update["patch"]["requests"][0];
    for absent in [
        "origin",
        "state",
        "queued_at",
        "requested_at",
        "item",
        "note",
    ] {
        assert!(r.get(absent).is_none(), "{absent} is at its default: {r}");
    }
    // Both views equal fresh snapshots.
    for (c, token) in [(&viewer, None), (&chair, Some(s.chair.as_str()))] {
        let fresh = app.connect(&s.id, token).await;
        assert_eq!(fresh.view, c.view, "patched view = fresh snapshot");
    }
    // A viewer resuming from before the join is replayed its own frames only (the raise),
    // and its view comes out as a fresh snapshot's.
    let mut back = Client::open(&app.ws_url).await;
    back.session = s.id.clone();
    let mut empty = viewer.view.clone().unwrap();
    empty.requests.clear();
    empty.queue.clear();
    back.view = Some(empty); // the view as it was at `at`: nobody had asked yet
    (back.epoch, back.seq) = (viewer.epoch, at);
    let welcome = back.hello(Some((viewer.epoch, at))).await;
    assert_eq!(welcome["recovered"], true, "{welcome}");
    assert_eq!(back.updates_seen, [(at + 1, seq)], "one frame: the raise");
    assert_eq!(back.view, viewer.view);
    app.stop().await.unwrap();
}

async fn bench_wire(url: &str, v: Option<&str>) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rostrum"));
    cmd.args(["bench", "--wire", "--json", "--url", url])
        .args(["--admin-token", ADMIN]);
    if let Some(v) = v {
        cmd.args(["--protocol", v]);
    }
    let out = cmd.output().await.unwrap();
    assert!(
        out.status.success(),
        "bench --wire failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The targets, on a real server through `rostrum bench --wire`: a raise reaches
/// participants and viewers in at most 250 bytes and moderators in 500; a grant 300 / 600. A
/// join reaches only moderators. (Bytes are deterministic up to the digits of times and ids.)
#[tokio::test]
async fn bench_wire_meets_the_byte_targets_per_audience() {
    let app = spawn_app_with(|s| s.ws.max_connections_per_ip = 100).await;
    let report = bench_wire(&app.url, None).await;
    let rows = report["rows"].as_array().unwrap();
    let row = |kind: &str| {
        rows.iter()
            .find(|r| r["command"] == kind)
            .unwrap_or_else(|| panic!("{kind} in {report}"))
    };
    let bytes = |r: &Value, who: &str| r[who].as_u64().unwrap();
    for (kind, public, moderator) in [("raise_hand", 250, 500), ("grant", 300, 600)] {
        let r = row(kind);
        for who in ["participant", "viewer"] {
            let b = bytes(r, who);
            assert!(
                0 < b && b <= public,
                "{kind} to a {who}: {b} bytes\n{report}"
            );
        }
        let b = bytes(r, "moderator");
        assert!(b <= moderator, "{kind} to a moderator: {b} bytes\n{report}");
    }
    let join = row("join");
    assert_eq!((bytes(join, "participant"), bytes(join, "viewer")), (0, 0));
    assert!(bytes(join, "moderator") > 0);
    // Every other command reaches every audience (each changes what the public sees).
    for r in rows.iter().filter(|r| r["command"] != "join") {
        for who in ["moderator", "participant", "viewer"] {
            assert!(bytes(r, who) > 0, "{r}");
        }
    }
    // A version-1 hello is refused, so the bench cannot measure this server as version 1.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rostrum"));
    let out = cmd
        .args(["bench", "--wire", "--protocol", "1", "--url", &app.url])
        .args(["--admin-token", ADMIN])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    app.stop().await.unwrap();
}
