//! Presence through real sockets: moderators see each participant's connection as connected,
//! reconnecting or gone, coalesced, and nobody else is sent any of it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Client, spawn_app_with};

/// Read frames until a presence frame says `participant` is `status`; panics after a while.
async fn until_presence(c: &mut Client, participant: u64, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(
            Instant::now() < deadline,
            "no presence {status} for {participant}"
        );
        let v = c.recv().await;
        if v["type"] == "presence" && v["participants"][participant.to_string()] == status {
            return v;
        }
    }
}

#[tokio::test]
async fn moderators_see_who_is_connected_and_nobody_else_does() {
    let app = spawn_app_with(|s| {
        s.session.presence_grace = Duration::from_millis(600);
        s.session.presence_every = Duration::from_millis(100);
    })
    .await;
    let s = app.create_session(json!({"title": "Presence"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let mut display = app.connect(&s.id, Some(&s.display)).await;

    let mut ana = app.connect(&s.id, Some(&s.participant)).await;
    let p = ana.join("Ana Lima", "online").await;
    until_presence(&mut chair, p, "connected").await;

    // Her network drops: reconnecting, then (past the grace period) gone.
    ana.disconnect().await;
    until_presence(&mut chair, p, "reconnecting").await;
    until_presence(&mut chair, p, "gone").await;

    // She comes back on her own link: connected again, and a moderator who connects now is
    // told at once.
    let token = ana.token.clone().unwrap();
    let mut back = app.connect(&s.id, Some(&token)).await;
    until_presence(&mut chair, p, "connected").await;
    let mut om = app.connect(&s.id, Some(&s.moderator)).await;
    let first = om.recv().await;
    assert_eq!(
        first["type"], "presence",
        "right after the snapshot: {first}"
    );
    assert_eq!(first["participants"][p.to_string()], "connected");

    // A reload (closed and open again within the window) sends moderators nothing new.
    back.disconnect().await;
    let _again = app.connect(&s.id, Some(&token)).await;
    chair.ok(json!({"type": "reopen_list"})).await; // a command to read up to
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut frames = Vec::new();
    while let Ok(v) = tokio::time::timeout(Duration::from_millis(200), chair.recv()).await {
        frames.push(v);
    }
    let presence: Vec<_> = frames.iter().filter(|v| v["type"] == "presence").collect();
    assert!(
        presence
            .iter()
            .all(|v| v["participants"][p.to_string()] == "connected"),
        "a reload within the window is coalesced away: {presence:?}"
    );

    // The display (the public audience) was never sent presence.
    let mut seen = Vec::new();
    while let Ok(v) = tokio::time::timeout(Duration::from_millis(300), display.recv()).await {
        seen.push(v["type"].as_str().unwrap_or_default().to_owned());
    }
    assert!(!seen.iter().any(|t| t == "presence"), "{seen:?}");
    app.stop().await.unwrap();
}
