//! Commands that wait together in a session's mailbox are decided and committed together
//! (`src/session/actor/batch.rs`): each still answered on its own, in order, with a seq of its
//! own; and when their commit fails, nothing acknowledged is lost and nothing unacknowledged
//! is applied.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::support::{ADMIN, Client, Server, sample, small_database, spawn_app_with};

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
        for (name, answer) in one_round(&mut chairs, round, &note).await {
            match answer["type"].as_str() {
                Some("ack") => acked.push(name),
                _ => {
                    assert_eq!(answer["code"], "unavailable", "{answer}");
                    unavailable += 1;
                }
            }
        }
        if unavailable >= chairs.len() {
            break;
        }
    }
    // What the session holds is exactly what was acknowledged: no acknowledged walk-in lost,
    // none that was answered `unavailable` applied (the actor whose state ran ahead stopped,
    // and the session started again from its log).
    acked.sort();
    let fresh = app.connect(&s.id, Some(&s.chair)).await;
    assert_eq!(fresh.request_names(), acked);
    assert_eq!(app.info(&s.id).await["seq"], fresh.seq);
    // The chairs that were connected through it carry on, on the same view.
    let chair = &mut chairs[0];
    chair.ok(json!({"type": "reopen_list"})).await;
    assert_eq!(chair.request_names(), acked);
}
