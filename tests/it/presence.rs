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

/// Read frames until `want(book)` holds for the book merged from presence frames (starting
/// from `book`); returns the presence frames read.
async fn presence_until(
    c: &mut Client,
    book: &mut serde_json::Map<String, Value>,
    want: impl Fn(&serde_json::Map<String, Value>) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut frames = Vec::new();
    while !want(book) {
        assert!(Instant::now() < deadline, "presence never became {book:?}");
        let v = c.recv().await;
        if v["type"] == "presence" {
            if v["whole"] == true {
                book.clear();
            }
            for (p, status) in v["participants"].as_object().unwrap() {
                book.insert(p.clone(), status.clone());
            }
            frames.push(v);
        }
    }
    frames
}

#[tokio::test]
async fn moderators_are_sent_only_who_changed_and_the_whole_book_when_they_connect() {
    let app = spawn_app_with(|s| {
        s.session.presence_grace = Duration::from_secs(30);
        s.session.presence_every = Duration::from_millis(100);
    })
    .await;
    let s = app
        .create_session(json!({"title": "Presence by change"}))
        .await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let mut people = Vec::new();
    let mut ids = Vec::new();
    for name in ["Ana Lima", "Bo Chen", "Cy Diallo", "Dee Okafor"] {
        let mut c = app.connect(&s.id, Some(&s.participant)).await;
        ids.push(c.join(name, "online").await.to_string());
        people.push(c);
    }
    let mut book = serde_json::Map::new();
    presence_until(&mut chair, &mut book, |b| {
        ids.iter().all(|p| b.get(p) == Some(&json!("connected")))
    })
    .await;

    // One of four drops: the next frame names her alone, and is not the whole book.
    let bo = ids[1].clone();
    people.remove(1).disconnect().await;
    let frames = presence_until(&mut chair, &mut book, |b| {
        b.get(&bo) == Some(&json!("reconnecting"))
    })
    .await;
    let last = frames.last().unwrap();
    assert_eq!(
        last["participants"],
        json!({ bo.clone(): "reconnecting" }),
        "only who changed: {last}"
    );
    assert!(
        last.get("whole").is_none(),
        "a change, not the book: {last}"
    );
    assert!(
        ids.iter()
            .filter(|p| **p != bo)
            .all(|p| book.get(p) == Some(&json!("connected"))),
        "the merged book still has everyone: {book:?}"
    );

    // A moderator who connects (or reconnects) is sent the whole book at once.
    chair.disconnect().await;
    let mut again = app.connect(&s.id, Some(&s.chair)).await;
    let first = again.recv().await;
    assert_eq!(
        first["type"], "presence",
        "right after the snapshot: {first}"
    );
    assert_eq!(first["whole"], true, "{first}");
    let whole = first["participants"].as_object().unwrap();
    assert_eq!(whole.len(), 4, "{first}");
    assert_eq!(whole[&bo], "reconnecting");
    assert!(
        ids.iter()
            .filter(|p| **p != bo)
            .all(|p| whole[p] == "connected")
    );
    drop(people);
    app.stop().await.unwrap();
}
