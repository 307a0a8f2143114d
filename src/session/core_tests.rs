//! The session core's time-dependent behaviour, with the clock in the test's hands.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::*;
use crate::queue::{
    FloorSeen, Modality, Order, ParticipantId, Policy, Profile, RequestId, RequestKind, Target,
    TimeLimits,
};
use crate::session::contended::{CONTENDED, Contended};
use crate::store::ANSWERS_KEPT_MS;

const T0: Timestamp = Timestamp(1_763_820_000_000);
const GUARD: u64 = 60_000;

fn config() -> SessionConfig {
    SessionConfig {
        presence_grace: Duration::from_secs(30),
        presence_every: Duration::from_secs(1),
        ..SessionConfig::default()
    }
}

/// A command taken all the way: decided, applied, answered and remembered, as the actor does
/// when the store accepts the append.
fn run(core: &mut Core, actor: Actor, command: Command, now: Timestamp) -> Answer {
    let answer = match core.decide(actor, command, now) {
        Decision::Done(answer) => answer,
        Decision::Refused(r) => Answer::Refused(r),
        Decision::Append(events) => {
            core.applied(1, &events, now);
            core.ack(&events)
        }
    };
    core.remember(Some(Sender::new(actor, "s")), 1, answer.clone(), now);
    answer
}

fn open(policy: Policy) -> Core {
    let mut core = Core::new((1, 1), &config(), &[], Vec::new(), T0);
    let opened = run(
        &mut core,
        Actor::Organizer,
        Command::OpenSession {
            title: "Core".into(),
            policy,
            limits: TimeLimits::default(),
            agenda: Vec::new(),
        },
        T0,
    );
    assert!(matches!(opened, Answer::Ack { .. }), "{opened:?}");
    core
}

fn join(core: &mut Core, name: &str, now: Timestamp) -> ParticipantId {
    let profile = Profile::new(name, "", Modality::Onsite);
    match run(core, Actor::Newcomer, Command::Join { profile }, now) {
        Answer::Ack {
            participant: Some(p),
            ..
        } => p,
        other => panic!("{other:?}"),
    }
}

fn raise(core: &mut Core, p: ParticipantId, now: Timestamp) {
    let raise = Command::RaiseHand {
        participant: p,
        kind: RequestKind::Intervention,
        note: None,
    };
    assert!(matches!(
        run(core, Actor::Participant(p), raise, now),
        Answer::Ack { .. }
    ));
}

fn json(bytes: &Bytes) -> Value {
    serde_json::from_slice(bytes).expect("frames are JSON")
}

#[test]
fn the_starvation_guard_republishes_the_order_at_its_time_and_then_sleeps() {
    let mut core = open(Policy {
        order: Order::FirstTimeFirst,
        starvation_ms: Some(GUARD),
    });
    let t = |ms: u64| T0.plus(ms);
    let ana = join(&mut core, "Ana", t(1));
    raise(&mut core, ana, t(2));
    let grant = Command::GrantFloor {
        target: Target::Next,
        force: true,
        seen: FloorSeen::Any,
        reason: None,
    };
    run(&mut core, Actor::Chair, grant, t(3));
    let end = Command::EndTurn {
        seen: FloorSeen::Any,
    };
    run(&mut core, Actor::Chair, end, t(4));
    raise(&mut core, ana, t(10)); // Ana again: behind whoever has not spoken
    let bo = join(&mut core, "Bo", t(11));
    raise(&mut core, bo, t(12));
    let promoted = t(10 + GUARD + 1);
    assert_eq!(core.poll_timeout(), Some(promoted), "Ana's wait runs out");
    let early = core.handle_timeout(t(10 + GUARD));
    assert!(early.order.is_none(), "nothing before its time");
    let out = core.handle_timeout(promoted);
    let order = json(
        &out.order
            .expect("the order changed with no event")
            .moderator,
    );
    assert_eq!(order["type"], "order");
    assert_eq!(
        order["queue"][0]["request"], 1,
        "Ana's second request first"
    );
    assert_eq!(
        core.poll_timeout(),
        Some(t(12 + GUARD + 1)),
        "the next wake-up is Bo's, not Ana's again (a past one would spin the loop)"
    );
    assert!(
        core.handle_timeout(promoted.plus(1)).order.is_none(),
        "nothing new till Bo's"
    );
}

#[test]
fn presence_is_coalesced_then_expires_after_the_grace_period() {
    let mut core = open(Policy::default());
    assert_eq!(core.poll_timeout(), None, "nothing to wait for");
    let p = ParticipantId(0);
    core.seen(
        Seen {
            participant: p,
            open: true,
        },
        T0,
    );
    assert_eq!(
        core.poll_timeout(),
        Some(T0.plus(1_000)),
        "the window's end"
    );
    core.seen(
        Seen {
            participant: p,
            open: false,
        },
        T0.plus(400),
    );
    core.seen(
        Seen {
            participant: p,
            open: true,
        },
        T0.plus(600),
    );
    assert!(core.handle_timeout(T0.plus(999)).presence.is_none());
    let out = core.handle_timeout(T0.plus(1_000)).presence.expect("due");
    assert_eq!(
        json(&out)["participants"]["0"],
        "connected",
        "a reload unseen"
    );
    assert_eq!(core.poll_timeout(), None);
    core.seen(
        Seen {
            participant: p,
            open: false,
        },
        T0.plus(2_000),
    );
    let out = core.handle_timeout(T0.plus(3_000)).presence.expect("due");
    assert_eq!(json(&out)["participants"]["0"], "reconnecting");
    assert_eq!(core.poll_timeout(), Some(T0.plus(32_000)), "gone at grace");
    assert!(core.handle_timeout(T0.plus(31_999)).presence.is_none());
    let out = core.handle_timeout(T0.plus(32_000)).presence.expect("gone");
    assert_eq!(json(&out)["participants"]["0"], "gone");
    assert_eq!(
        json(&out)["whole"],
        serde_json::Value::Null,
        "a change only"
    );
    assert_eq!(core.poll_timeout(), None);
    let start = core.subscribe(Audience::Moderator, None, T0.plus(40_000));
    let last = json(start.initial.last().expect("a snapshot and the book"));
    assert_eq!(
        last["participants"]["0"], "gone",
        "a moderator starts with the book"
    );
    assert_eq!(last["whole"], true);
}

#[test]
fn a_contended_command_is_retried_for_five_seconds_with_growing_random_pauses() {
    let t0 = Instant::now();
    let mut c = Contended::new(t0);
    assert!(c.may_retry(t0));
    assert!(c.may_retry(t0 + CONTENDED - Duration::from_millis(1)));
    assert!(!c.may_retry(t0 + CONTENDED));
    assert_eq!(c.pause(u64::MAX), None, "the first retry is at once");
    assert_eq!(c.pause(3_999), Some(Duration::from_micros(3_999)));
    assert_eq!(
        c.pause(4_000),
        Some(Duration::from_micros(4_000)),
        "up to 8 ms"
    );
    for _ in 0..10 {
        assert!(c.pause(u64::MAX).expect("paused") < Duration::from_millis(32));
    }
}

#[test]
fn answers_are_kept_an_hour_and_a_resend_gets_the_first_answer() {
    let mut core = open(Policy::default());
    let ana = join(&mut core, "Ana", T0.plus(1));
    let sender = Sender::new(Actor::Newcomer, "s");
    let first = core.answered(Some(&sender), 1, T0.plus(1));
    assert_eq!(
        first,
        Some(Answer::Ack {
            seq: 2,
            participant: Some(ana)
        })
    );
    assert_eq!(
        core.answered(Some(&sender), 1, T0.plus(1 + ANSWERS_KEPT_MS)),
        first
    );
    assert_eq!(
        core.answered(Some(&sender), 1, T0.plus(2 + ANSWERS_KEPT_MS)),
        None
    );
    assert_eq!(
        core.answered(None, 1, T0.plus(1)),
        None,
        "no sender, no answer"
    );
    // A refusal is remembered too: the resend is not decided again.
    let lower = Command::LowerHand {
        request: RequestId(9),
    };
    let refused = run(&mut core, Actor::Participant(ana), lower, T0.plus(5));
    assert!(matches!(refused, Answer::Refused(_)));
    let ana_sender = Sender::new(Actor::Participant(ana), "s");
    assert_eq!(
        core.answered(Some(&ana_sender), 1, T0.plus(6)),
        Some(refused)
    );
}

#[test]
fn the_session_clock_never_runs_backwards_and_resume_needs_the_ring() {
    let mut core = open(Policy::default());
    let ana = join(&mut core, "Ana", T0.plus(5_000));
    assert_eq!(
        core.now(T0),
        T0.plus(5_000),
        "a wall clock set back is ignored"
    );
    raise(&mut core, ana, T0);
    let seq = core.state().seq();
    let at = core.state().requests()[0].queued_at;
    assert_eq!(at, T0.plus(5_000));
    let resumed = core.subscribe(
        Audience::Public,
        Some(Resume {
            epoch: 1,
            seq: seq - 1,
        }),
        T0,
    );
    assert!(resumed.recovered);
    assert_eq!(resumed.initial.len(), 2, "the missed update and the order");
    assert_eq!(json(&resumed.initial[0])["type"], "update");
    let other_epoch = core.subscribe(Audience::Public, Some(Resume { epoch: 2, seq }), T0);
    assert!(!other_epoch.recovered);
    assert_eq!(json(&other_epoch.initial[0])["type"], "snapshot");
}

#[test]
fn another_nodes_append_is_applied_once_with_its_answer_and_a_gap_is_refused() {
    use crate::store::{Appended, Origin};
    let mut core = open(Policy::default());
    // Another node decides a join on its own copy and appends it.
    let mut other = Core::new((1, 1), &config(), &[], Vec::new(), T0);
    let events = match other.decide(
        Actor::Organizer,
        Command::OpenSession {
            title: "Core".into(),
            policy: Policy::default(),
            limits: TimeLimits::default(),
            agenda: Vec::new(),
        },
        T0,
    ) {
        Decision::Append(events) => events,
        other => panic!("{other:?}"),
    };
    other.applied(1, &events, T0);
    let profile = Profile::new("Ana", "", Modality::Online);
    let Decision::Append(joined) =
        other.decide(Actor::Newcomer, Command::Join { profile }, T0.plus(7))
    else {
        panic!("a join appends")
    };
    let sender = Sender::new(Actor::Newcomer, "elsewhere");
    let appended = Appended {
        from: 2,
        origin: Origin {
            req: 9,
            sender: Some(sender.key().to_owned()),
        },
        events: joined,
    };
    let Followed::Applied(publish) = core.follow(&appended, T0) else {
        panic!("the next seq applies")
    };
    assert_eq!((publish.frame.from, publish.frame.seq), (2, 2));
    assert_eq!(
        core.answered(Some(&sender), 9, T0.plus(8)),
        Some(Answer::Ack {
            seq: 2,
            participant: Some(ParticipantId(0))
        }),
        "a resend that moved here gets the other node's answer"
    );
    assert_eq!(
        core.now(T0),
        T0.plus(7),
        "the session's time is the event's"
    );
    assert!(matches!(core.follow(&appended, T0), Followed::Known));
    let ahead = Appended {
        from: 4,
        ..appended
    };
    assert!(matches!(core.follow(&ahead, T0), Followed::Gap { from: 4 }));
    assert_eq!(core.state().seq(), 2, "nothing applied past a gap");
}

#[test]
fn sockets_connecting_between_two_changes_share_one_serialized_view_with_their_own_time() {
    let mut core = open(Policy::default());
    let first = core.subscribe(Audience::Public, None, T0);
    let later = core.subscribe(Audience::Public, None, T0.plus(5));
    let (a, b) = (json(&first.initial[0]), json(&later.initial[0]));
    assert_eq!(a["view"], b["view"]);
    assert_eq!(b["server_time"], T0.plus(5).0, "each connection's own time");
    // The same bytes as the frame encoded whole.
    let now = core.now(T0.plus(5));
    let whole = encode(&Outgoing::Snapshot {
        epoch: core.epoch(),
        seq: core.state().seq(),
        server_time: now,
        view: &View::of(core.state(), Audience::Public, now),
    });
    assert_eq!(&later.initial[0][..], whole.as_bytes());
    // Moderators have their own view, and a change makes a new one.
    let m = core.subscribe(Audience::Moderator, None, T0.plus(6));
    assert!(json(&m.initial[0])["view"]["fairness"].is_object());
    assert!(a["view"]["fairness"].is_null());
    let p = join(&mut core, "Ana", T0.plus(7));
    raise(&mut core, p, T0.plus(8));
    let after = core.subscribe(Audience::Public, None, T0.plus(9));
    assert_eq!(
        json(&after.initial[0])["view"]["queue"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "a change makes a new view"
    );
}
