//! Commands that wait together in a session's mailbox are decided and committed together
//! (`src/session/actor/batch.rs`): each still answered on its own, in order, with a seq of its
//! own; and when their commit fails, nothing acknowledged is lost and nothing unacknowledged
//! is applied.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::support::{ADMIN, App, Client, Server, Session, sample, small_database, spawn_app_with};

/// Every chair sends one walk-in at the same moment; returns each answer with its name.
async fn one_round(chairs: &mut [Client], round: usize, note: &str) -> Vec<(String, Value)> {
    join_all(chairs.iter_mut().enumerate().map(|(i, c)| async move {
        let name = format!("W{round}-{i}");
        let cmd = json!({"type": "add_proxy", "profile": {"name": name, "modality": "onsite"}, "note": note});
        (name, c.command(cmd).await)
    }))
    .await
}

#[tokio::test]
async fn commands_that_wait_together_are_committed_together_and_each_answered() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let (session, chair, _) = server.create_session("Together").await;
    let mut chairs = join_all((0..16).map(|_| server.connect(&session, Some(&chair)))).await;
    let batched = |text: &str| sample(text, "rostrum_commands_batched_total").unwrap_or(0.0);
    let mut acked = BTreeMap::new();
    for round in 0..20 {
        for (name, answer) in one_round(&mut chairs, round, "").await {
            assert_eq!(answer["type"], "ack", "{name}: {answer}");
            let seq = answer["seq"].as_u64().unwrap();
            assert!(
                acked.insert(seq, name).is_none(),
                "seq {seq} acknowledged twice"
            );
        }
        // Sixteen commands at once, each written with an fsync: some wait for the one before.
        if round >= 2 && batched(&server.scrape(ADMIN).await.1) > 0.0 {
            break;
        }
    }
    assert!(
        batched(&server.scrape(ADMIN).await.1) > 0.0,
        "no commands were ever taken together"
    );
    // A walk-in is two events (joined, raised): each ack names its own last seq.
    let last = *acked.keys().last().unwrap();
    // Each chair saw every update, in order, up to its own ack (the client checks the frames'
    // seqs); a moderator connecting now sees every walk-in, and the same restarted from the log.
    let fresh = server.connect(&session, Some(&chair)).await;
    let mut expected: Vec<String> = acked.into_values().collect();
    expected.sort();
    assert_eq!((fresh.seq, fresh.request_names()), (last, expected.clone()));
    server.kill9().await;
    let again = Server::start(dir.path()).await;
    let restarted = again.connect(&session, Some(&chair)).await;
    assert_eq!((restarted.seq, restarted.request_names()), (last, expected));
}

#[tokio::test]
async fn a_commit_that_fails_under_commands_taken_together_loses_nothing_acknowledged() {
    let app = spawn_app_with(small_database).await;
    let s = app.create_session(json!({"title": "Full together"})).await;
    let mut chairs = join_all((0..12).map(|_| app.connect(&s.id, Some(&s.chair)))).await;
    let note = "n".repeat(250);
    let mut acked = Vec::new();
    let mut unavailable = 0;
    for round in 0.. {
        assert!(round < 400, "the cap is reached");
        unavailable += tally(one_round(&mut chairs, round, &note).await, &mut acked);
        if unavailable >= chairs.len() {
            break;
        }
    }
    // No acknowledged walk-in lost, none that was answered `unavailable` applied (the actor
    // whose state ran ahead stopped, and the session started again from its log).
    holds_exactly(&app, &s, &mut chairs[0], acked).await;
}

/// Keep the names of the acknowledged answers; every other answer must be `unavailable`.
/// Returns how many were.
fn tally(answers: impl IntoIterator<Item = (String, Value)>, acked: &mut Vec<String>) -> usize {
    let mut unavailable = 0;
    for (name, answer) in answers {
        match answer["type"].as_str() {
            Some("ack") => acked.push(name),
            _ => {
                assert_eq!(answer["code"], "unavailable", "{answer}");
                unavailable += 1;
            }
        }
    }
    unavailable
}

/// What the session holds is exactly what was acknowledged: for a moderator connecting now,
/// and for `chair`, connected through the failed commits, who carries on on the same view.
async fn holds_exactly(app: &App, s: &Session, chair: &mut Client, mut acked: Vec<String>) {
    acked.sort();
    let fresh = app.connect(&s.id, Some(&s.chair)).await;
    assert_eq!(fresh.request_names(), acked);
    assert_eq!(app.info(&s.id).await["seq"], fresh.seq);
    chair.ok(json!({"type": "reopen_list"})).await;
    assert_eq!(chair.request_names(), acked);
}

/// The reqs of `answers`, in the order they came.
fn reqs(answers: &[Value]) -> Vec<u64> {
    answers.iter().map(|a| a["req"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn commands_sent_without_waiting_are_answered_in_order_and_committed_together() {
    let dir = tempfile::tempdir().unwrap();
    // Sixty messages at once: more than a connection's default burst.
    let burst = ["--message-burst".to_owned(), "100".to_owned()];
    let server = Server::start_with(dir.path(), "127.0.0.1:0", "info", &burst).await;
    let (session, chair, _) = server.create_session("Pipelined").await;
    let mut chair_ws = server.connect(&session, Some(&chair)).await;
    let walk_in = |i: usize| json!({"type": "add_proxy", "profile": {"name": format!("P{i:02}"), "modality": "onsite"}});
    // Sixty commands in one write from one connection: a malformed one and one the core
    // refuses among them.
    let mut cmds: Vec<Value> = (0..60).map(walk_in).collect();
    cmds[20] = json!({"type": "add_proxy", "profile": {}});
    cmds[40] = json!({"type": "grant", "request": 999_999});
    let first = chair_ws.next_req;
    let answers = chair_ws.pipeline(cmds).await;
    assert_eq!(
        reqs(&answers),
        (first..first + 60).collect::<Vec<_>>(),
        "answered in order"
    );
    assert_eq!(answers[20]["code"], "bad_field", "{}", answers[20]);
    assert_eq!(answers[40]["type"], "error", "{}", answers[40]);
    let acks: Vec<u64> = answers.iter().filter_map(|a| a["seq"].as_u64()).collect();
    assert_eq!(acks.len(), 58);
    assert!(
        acks.windows(2).all(|w| w[0] < w[1]),
        "each ack its own later seq: {acks:?}"
    );
    // One connection alone: commands were taken together only because it sent the next before
    // the one before was answered.
    let batched = sample(
        &server.scrape(ADMIN).await.1,
        "rostrum_commands_batched_total",
    );
    assert!(
        batched.unwrap_or(0.0) > 0.0,
        "no commands were taken together"
    );
    let mut expected: Vec<String> = (0..60)
        .filter(|i| ![20, 40].contains(i))
        .map(|i| format!("P{i:02}"))
        .collect();
    expected.sort();
    assert_eq!(chair_ws.request_names(), expected);
    server.kill9().await;
    let again = Server::start(dir.path()).await;
    let restarted = again.connect(&session, Some(&chair)).await;
    assert_eq!(
        (restarted.seq, restarted.request_names()),
        (*acks.last().unwrap(), expected)
    );
}

#[tokio::test]
async fn a_newcomer_may_join_and_raise_a_hand_without_waiting_for_the_join() {
    let app = spawn_app_with(|_| {}).await;
    let s = app
        .create_session(json!({"title": "Join then raise"}))
        .await;
    let mut newcomer = app.connect(&s.id, Some(&s.participant)).await;
    let answers = newcomer
        .pipeline(vec![
            json!({"type": "join", "profile": {"name": "Ama", "modality": "online"}}),
            json!({"type": "raise_hand"}),
        ])
        .await;
    // The raise is read once the join is answered: it is the new participant's.
    assert_eq!(answers[0]["type"], "ack", "{}", answers[0]);
    assert_eq!(answers[1]["type"], "ack", "{}", answers[1]);
    let participant = answers[0]["participant"].as_u64().unwrap();
    let chair = app.connect(&s.id, Some(&s.chair)).await;
    assert!(chair.my_request(participant).is_some(), "Ama's hand is up");
}

#[tokio::test]
async fn commands_in_flight_through_a_failed_commit_keep_their_order_and_lose_nothing() {
    let app = spawn_app_with(small_database).await;
    let s = app
        .create_session(json!({"title": "Full, pipelined"}))
        .await;
    // Four chairs with 24 commands in flight each: more than the actor takes at once, so when a
    // commit fails and the actor stops, commands still in its mailbox go to its successor.
    let mut chairs = join_all((0..4).map(|_| app.connect(&s.id, Some(&s.chair)))).await;
    let note = "n".repeat(250);
    let mut acked = Vec::new();
    let mut unavailable = 0;
    for round in 0.. {
        assert!(round < 100, "the cap is reached");
        let rounds = chairs.iter_mut().enumerate().map(|(c, chair)| {
            let names: Vec<String> = (0..24).map(|i| format!("F{round:02}-{c}-{i:02}")).collect();
            let cmds = names
                .iter()
                .map(|n| json!({"type": "add_proxy", "profile": {"name": n, "modality": "onsite"}, "note": note}))
                .collect();
            let first = chair.next_req;
            async move {
                let answers = chair.pipeline(cmds).await;
                assert_eq!(reqs(&answers), (first..first + 24).collect::<Vec<_>>(), "in order");
                names.into_iter().zip(answers).collect::<Vec<_>>()
            }
        });
        unavailable += tally(join_all(rounds).await.into_iter().flatten(), &mut acked);
        if unavailable >= 96 {
            break;
        }
    }
    holds_exactly(&app, &s, &mut chairs[0], acked).await;
}
