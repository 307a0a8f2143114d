//! Exactly once, through the real binary: a command acknowledged, then the server killed
//! (SIGKILL), stopped (SIGTERM) or its session's actor stopped for idleness; the client
//! reconnects with the secret its welcome gave it and resends with the same `req`. Each of
//! `add_proxy`, `post_link`, `extend`, `change_request`, `move`, `advance_agenda` and `join`
//! gets its original answer and takes effect once. The cluster's case (the node dies and the
//! client moves on) is in `cluster.rs`, with the same plays.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{ADMIN, Client, Server, create_session_at, fragment, sample};

/// A session with a three-item agenda (for `advance_agenda`): its id and its links' tokens.
pub async fn agenda_session(url: &str) -> (String, String, String) {
    let v = create_session_at(
        url,
        &json!({"title": "Exactly once", "agenda": [{"title": "One"}, {"title": "Two"}, {"title": "Three"}]}),
    )
    .await;
    (
        v["id"].as_str().unwrap().to_owned(),
        fragment(&v["links"]["chair"]),
        fragment(&v["links"]["participant"]),
    )
}

/// One command sent and its answer: `by_chair` tells which client sent it.
pub struct Played {
    pub by_chair: bool,
    pub cmd: Value,
    pub ack: Value,
}

fn request_of(c: &Client, name: &str) -> u32 {
    let view = c.view.as_ref().unwrap();
    view.requests
        .values()
        .find(|r| r.who.name == name)
        .unwrap_or_else(|| panic!("{name} has a request"))
        .id
}

/// Set the scene (three walk-ins, the first speaking), then play the seven commands, each
/// acknowledged; returns them with their acks.
pub async fn play_seven(chair: &mut Client, newcomer: &mut Client) -> Vec<Played> {
    chair.add_walk_ins(&["A", "B", "C"]).await;
    chair.ok(json!({"type": "grant", "seen": null})).await;
    let turn = chair.floor_turn();
    let (b, c) = (request_of(chair, "B"), request_of(chair, "C"));
    let mut played = Vec::new();
    let commands = [
        json!({"type": "add_proxy", "req": 101, "profile": {"name": "Walkin", "modality": "onsite"}}),
        json!({"type": "post_link", "req": 102, "title": "Slides", "url": "https://example.org/slides"}),
        json!({"type": "extend", "req": 103, "by_ms": 10_000, "seen": turn}),
        json!({"type": "change_request", "req": 104, "request": b, "kind": "question"}),
        json!({"type": "move", "req": 105, "request": c, "position": 1}),
        json!({"type": "advance_agenda", "req": 106, "carry_over": true}),
    ];
    for cmd in commands {
        if cmd["type"] == "advance_agenda" {
            // The floor must be free to move on.
            let seen = chair.floor_turn();
            chair.ok(json!({"type": "end_turn", "seen": seen})).await;
        }
        let ack = chair.command_with_req(cmd.clone()).await;
        assert_eq!(ack["type"], "ack", "{cmd} -> {ack}");
        played.push(Played {
            by_chair: true,
            cmd,
            ack,
        });
    }
    let join = json!({"type": "join", "req": 1, "profile": {"name": "Ana", "modality": "online"}});
    let ack = newcomer.command_with_req(join.clone()).await;
    assert!(ack["token"].is_string(), "{ack}");
    played.push(Played {
        by_chair: false,
        cmd: join,
        ack,
    });
    played
}

/// Resend every command from the same clients (reconnected to `ws_url` with their secrets):
/// each gets exactly its original answer.
pub async fn resend_seven(
    ws_url: &str,
    chair: &mut Client,
    newcomer: &mut Client,
    played: &[Played],
) {
    chair.resume(ws_url).await;
    newcomer.resume(ws_url).await;
    for p in played {
        let c = if p.by_chair {
            &mut *chair
        } else {
            &mut *newcomer
        };
        let again = c.command_with_req(p.cmd.clone()).await;
        assert_eq!(
            again, p.ack,
            "{} resent: the original answer",
            p.cmd["type"]
        );
    }
}

/// What one effect each leaves: the seq the last ack named, and a view with one walk-in named
/// "Walkin", one link, one extension, one Ana, and the agenda on its second item.
pub async fn assert_once(fresh: &Client, played: &[Played], before: &Client) {
    let last = played
        .iter()
        .map(|p| p.ack["seq"].as_u64().unwrap())
        .max()
        .unwrap();
    assert_eq!(fresh.seq, last, "nothing was appended by the resends");
    let view = fresh.view.as_ref().unwrap();
    let names: Vec<_> = view
        .requests
        .values()
        .map(|r| r.who.name.as_str())
        .collect();
    assert_eq!(
        names.iter().filter(|n| n.starts_with("Walkin")).count(),
        1,
        "{names:?}"
    );
    assert_eq!(
        serde_json::to_value(&fresh.view).unwrap(),
        serde_json::to_value(&before.view).unwrap(),
        "the state the first answers left, unchanged"
    );
}

/// A chair and a newcomer on a fresh agenda session of `server`, with the seven played.
async fn played_on(server: &Server) -> (String, String, Client, Client, Vec<Played>) {
    let (id, chair_token, join_token) = agenda_session(&server.url).await;
    let mut chair = server.connect(&id, Some(&chair_token)).await;
    let mut newcomer = server.connect(&id, Some(&join_token)).await;
    let played = play_seven(&mut chair, &mut newcomer).await;
    let seq = played.last().unwrap().ack["seq"].as_u64().unwrap();
    chair.sync_to(seq).await;
    (id, chair_token, chair, newcomer, played)
}

pub async fn check(
    server: &Server,
    id: &str,
    chair_token: &str,
    chair: &mut Client,
    newcomer: &mut Client,
    played: &[Played],
) {
    let before = server.connect(id, Some(chair_token)).await;
    resend_seven(&server.ws_url, chair, newcomer, played).await;
    let fresh = server.connect(id, Some(chair_token)).await;
    assert_once(&fresh, played, &before).await;
}

#[tokio::test]
async fn resent_after_sigkill_each_command_takes_effect_once_with_its_original_answer() {
    resent_after_a_restart(false).await;
}

#[tokio::test]
async fn resent_after_a_sigterm_restart_each_command_takes_effect_once_with_its_original_answer() {
    resent_after_a_restart(true).await;
}

/// Play the seven commands, stop the process (SIGTERM when `graceful`, else SIGKILL), start it
/// again on the same address and data, and check every resend.
async fn resent_after_a_restart(graceful: bool) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let (id, chair_token, mut chair, mut newcomer, played) = played_on(&server).await;
    let addr = server.addr.clone();
    if graceful {
        assert!(server.terminate().await.success());
    } else {
        server.kill9().await;
    }
    let server = Server::start_at(dir.path(), &addr).await;
    check(
        &server,
        &id,
        &chair_token,
        &mut chair,
        &mut newcomer,
        &played,
    )
    .await;
    server.kill9().await;
}

#[tokio::test]
async fn resent_after_the_idle_actor_stopped_each_command_takes_effect_once_with_its_original_answer()
 {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        "127.0.0.1:0",
        "info",
        &["--idle-session-secs".into(), "1".into()],
    )
    .await;
    let (id, chair_token, mut chair, mut newcomer, played) = played_on(&server).await;
    chair.disconnect().await;
    newcomer.disconnect().await;
    // No client and no command: the actor stops, and with it the answers in its memory.
    let live = || async { sample(&server.scrape(ADMIN).await.1, "rostrum_sessions_live") };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while live().await != Some(0.0) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the idle actor stops"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    check(
        &server,
        &id,
        &chair_token,
        &mut chair,
        &mut newcomer,
        &played,
    )
    .await;
    server.kill9().await;
}

/// A newcomer on `id` whose hello presents `client` as its client id (or secret).
async fn newcomer_saying(ws_url: &str, id: &str, token: &str, client: &str) -> Client {
    let mut c = Client::open(ws_url).await;
    c.session = id.to_owned();
    c.token = Some(token.to_owned());
    c.client_id = client.to_owned();
    c.hello(None).await;
    c
}

#[tokio::test]
async fn a_second_socket_with_the_same_link_and_client_id_is_a_different_sender() {
    let app = crate::support::spawn_app().await;
    let s = app.create_session(json!({"title": "Identity"})).await;
    let join = |name: &str| json!({"type": "join", "req": 1, "profile": {"name": name, "modality": "online"}});
    // The first tab says it is "tab-1": it is given a secret of the server's making instead.
    let mut first = newcomer_saying(&app.ws_url, &s.id, &s.participant, "tab-1").await;
    let secret = first.client_id.clone();
    assert!(secret.starts_with("c1.") && secret != "tab-1", "{secret}");
    let mine = first.command_with_req(join("Ana")).await;
    assert_eq!(mine["participant"], 0, "{mine}");
    // A second holder of the link says the same: another sender, another person, another token.
    let mut second = newcomer_saying(&app.ws_url, &s.id, &s.participant, "tab-1").await;
    assert_ne!(second.client_id, secret);
    let theirs = second.command_with_req(join("Mallory")).await;
    assert_eq!(theirs["participant"], 1, "{theirs}");
    assert_ne!(theirs["token"], mine["token"]);
    // A secret altered by one character, or one issued for another session, is not honoured.
    let mut forged = secret.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let mut third = newcomer_saying(&app.ws_url, &s.id, &s.participant, &forged).await;
    assert_ne!(third.client_id, forged);
    let other = app.create_session(json!({"title": "Elsewhere"})).await;
    let elsewhere = newcomer_saying(&app.ws_url, &other.id, &other.participant, "").await;
    let mut fourth =
        newcomer_saying(&app.ws_url, &s.id, &s.participant, &elsewhere.client_id).await;
    assert_ne!(fourth.client_id, elsewhere.client_id);
    for (c, name, p) in [(&mut third, "Eve", 2), (&mut fourth, "Trudy", 3)] {
        let ack = c.command_with_req(join(name)).await;
        assert_eq!(ack["participant"], p, "{ack}");
        assert_ne!(ack["token"], mine["token"]);
    }
    // Seven naive clients sharing one fixed id: seven people.
    let mut tokens = std::collections::BTreeSet::new();
    for i in 0..7 {
        let mut c = newcomer_saying(&app.ws_url, &s.id, &s.participant, "fixed").await;
        let ack = c.command_with_req(join(&format!("Naive {i}"))).await;
        assert_eq!(ack["participant"], 4 + i, "{ack}");
        tokens.insert(ack["token"].as_str().unwrap().to_owned());
    }
    assert_eq!(tokens.len(), 7);
    // Only the first tab's own resumption, with its secret, is given its answer again.
    first.disconnect().await;
    first.resume(&app.ws_url).await;
    assert_eq!(first.client_id, secret, "a valid secret is kept");
    assert_eq!(first.command_with_req(join("Ana")).await, mine);
    assert_eq!(
        app.info(&s.id).await["seq"],
        1 + 11,
        "eleven joins, each recorded once"
    );
}
