//! Model-based property test of exactly-once: random commands from several senders (two chair
//! tabs, an online moderator, two newcomers), resends of random earlier commands, and restarts
//! at random moments (every actor stops, a new hub starts over the same store, as a new process
//! would). A command that appended is answered the same on every resend and never appends
//! again; a refusal or no-op is answered the same until a restart, and after one is decided
//! again at most once more.

use std::time::Duration;

use proptest::prelude::*;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::*;
use crate::queue::{FloorSeen, Modality, Profile, RequestId, RequestKind, Target};
use crate::session::{Answer, SessionConfig};
use crate::store::{EventLog, MemoryLog};

/// The senders: an actor and its client secret.
const SENDERS: [(Actor, &str); 5] = [
    (Actor::Chair, "tab-a"),
    (Actor::Chair, "tab-b"),
    (Actor::OnlineModerator, "tab-c"),
    (Actor::Newcomer, "tab-d"),
    (Actor::Newcomer, "tab-e"),
];

#[derive(Debug, Clone)]
enum Op {
    Send { sender: usize, what: u8 },
    Resend { pick: usize },
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..SENDERS.len(), any::<u8>()).prop_map(|(sender, what)| Op::Send { sender, what }),
        3 => any::<usize>().prop_map(|pick| Op::Resend { pick }),
        1 => Just(Op::Restart),
    ]
}

fn command(actor: Actor, what: u8, req: u64) -> Command {
    let profile = |name: String| Profile::new(name, "", Modality::Onsite);
    if actor == Actor::Newcomer {
        return Command::Join {
            profile: profile(format!("Newcomer {req}")),
        };
    }
    let request = RequestId(u32::from(what / 8 % 6));
    match what % 8 {
        0 | 1 => Command::AddProxy {
            profile: profile(format!("Walk-in {req}")),
            kind: RequestKind::Question,
            note: None,
        },
        2 => Command::PostLink {
            title: format!("Link {req}"),
            url: "https://example.org/".into(),
        },
        3 => Command::GrantFloor {
            target: Target::Next,
            force: true,
            seen: FloorSeen::Any,
            reason: None,
        },
        4 => Command::EndTurn {
            seen: FloorSeen::Any,
        },
        5 => Command::ExtendTurn {
            by_ms: 10_000,
            seen: FloorSeen::Any,
        },
        6 => Command::Move {
            request,
            position: 1,
            reason: None,
        },
        _ => Command::ChangeRequest {
            request,
            kind: RequestKind::DirectReply,
            note: Some(format!("Note {req}")),
        },
    }
}

/// One command as first sent, and what to expect of its resends.
struct Sent {
    sender: usize,
    req: u64,
    command: Command,
    /// The answer every resend must get, once the command has appended.
    answer: Answer,
    /// Whether it appended (then its answer is final, restarts or not).
    appended: bool,
    /// The restart count when `answer` was given: a refusal stands until the next restart.
    restarts: u32,
}

/// A process: a hub over the shared store.
fn process(store: &Arc<dyn EventLog>) -> Arc<Hub> {
    Hub::new(Runtime {
        store: store.clone(),
        config: SessionConfig {
            idle_after: Duration::from_secs(60),
            ..SessionConfig::default()
        },
        cancel: CancellationToken::new(),
        tracker: TaskTracker::new(),
    })
}

async fn seq(hub: &Arc<Hub>, id: SessionId) -> u64 {
    hub.get(id)
        .await
        .unwrap()
        .unwrap()
        .info()
        .await
        .unwrap()
        .seq
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let store: Arc<dyn EventLog> = Arc::new(MemoryLog::new());
    let mut hub = process(&store);
    let new = NewSession {
        title: "Resends".into(),
        ..Default::default()
    };
    let id = hub.create(new, Timestamp(1)).await.unwrap().id;
    let mut sent: Vec<Sent> = Vec::new();
    let mut next_req = [0u64; SENDERS.len()];
    let mut restarts = 0;
    for op in ops {
        match op {
            Op::Restart => {
                let rt = hub.runtime().clone();
                rt.cancel.cancel();
                rt.tracker.close();
                rt.tracker.wait().await;
                hub = process(&store);
                restarts += 1;
            }
            Op::Send { sender, what } => {
                let (actor, secret) = SENDERS[sender];
                next_req[sender] += 1;
                let req = next_req[sender];
                let command = command(actor, what, req);
                let before = seq(&hub, id).await;
                let h = hub.get(id).await.unwrap().unwrap();
                let answer = h
                    .command(actor, Some(secret.into()), req, command.clone())
                    .await
                    .unwrap();
                let after = seq(&hub, id).await;
                if let Answer::Ack { seq, .. } = answer {
                    prop_assert_eq!(seq, after, "an ack names the seq after the command");
                }
                sent.push(Sent {
                    sender,
                    req,
                    command,
                    appended: after > before,
                    answer,
                    restarts,
                });
            }
            Op::Resend { pick } if !sent.is_empty() => {
                let at = pick % sent.len();
                let s = &mut sent[at];
                let (actor, secret) = SENDERS[s.sender];
                let before = seq(&hub, id).await;
                let h = hub.get(id).await.unwrap().unwrap();
                let again = h
                    .command(actor, Some(secret.into()), s.req, s.command.clone())
                    .await
                    .unwrap();
                let after = seq(&hub, id).await;
                if s.appended || s.restarts == restarts {
                    prop_assert_eq!(
                        &again,
                        &s.answer,
                        "{:?} resent: the first answer",
                        &s.command
                    );
                    prop_assert_eq!(after, before, "a resend changes nothing");
                } else if after > before {
                    // Refused (or nothing to do) before a restart: decided again, and this time
                    // it appended. From now on this is its answer.
                    s.appended = true;
                    s.answer = again;
                    s.restarts = restarts;
                } else {
                    s.answer = again;
                    s.restarts = restarts;
                }
            }
            Op::Resend { .. } => {}
        }
    }
    // Every recorded answer belongs to one append: no (sender, req) appended twice.
    let recorded = store.answers(id, Timestamp(0)).await.unwrap();
    let mut keys: Vec<_> = recorded.iter().map(|r| (&r.sender, r.req)).collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    prop_assert_eq!(keys.len(), n, "a command appended twice");
    let appended = sent.iter().filter(|s| s.appended).count();
    prop_assert_eq!(n, appended, "one recorded answer per command that appended");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn resends_after_random_restarts_take_effect_once_with_their_first_answer(
        ops in proptest::collection::vec(op(), 1..60)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(run(ops))?;
    }
}
