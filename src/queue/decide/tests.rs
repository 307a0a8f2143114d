//! One test per rule, through `decide` and `apply` (see `testkit`).

use super::super::testkit::{Sim, profile};
use super::super::*;
use Modality::{Hub, Online, Onsite};
use RequestKind::*;

const CHAIR: Actor = Actor::Chair;
const OM: Actor = Actor::OnlineModerator;

fn grant(target: Target, force: bool, seen: FloorSeen) -> Command {
    Command::GrantFloor {
        target,
        force,
        seen,
        reason: None,
    }
}

#[test]
fn fifo_serves_in_server_arrival_order() {
    let mut sim = Sim::new(Order::Fifo);
    let (_, a) = sim.queue_up("Ana", Online);
    let (_, b) = sim.queue_up("Bo", Onsite);
    let (_, c) = sim.queue_up("Chen", Hub);
    assert_eq!(sim.order(), [a, b, c]);
    assert!(sim.reasons().iter().all(|r| *r == Reason::Arrival));
    assert_eq!(sim.grant_next(), a);
    assert_eq!(
        sim.order(),
        [b, c],
        "the speaker is not in the waiting list"
    );
    sim.check_replay();
}

#[test]
fn one_open_request_per_participant_until_the_turn_ends() {
    let mut sim = Sim::new(Order::Fifo);
    let (p, r) = sim.queue_up("Ana", Online);
    let raise = Command::RaiseHand {
        participant: p,
        kind: Question,
        note: None,
    };
    assert_eq!(
        sim.refused(Actor::Participant(p), raise.clone()),
        "already_queued"
    );
    sim.grant_next();
    assert_eq!(
        sim.refused(Actor::Participant(p), raise.clone()),
        "already_queued",
        "speaking is open"
    );
    sim.end();
    assert_eq!(sim.state_of(r), RequestState::Done);
    sim.ok(Actor::Participant(p), raise);
    sim.check_replay();
}

#[test]
fn a_lowered_hand_raised_again_goes_to_the_back() {
    let mut sim = Sim::new(Order::Fifo);
    let (pa, a) = sim.queue_up("Ana", Online);
    let (_, b) = sim.queue_up("Bo", Onsite);
    sim.ok(Actor::Participant(pa), Command::LowerHand { request: a });
    assert_eq!(sim.state_of(a), RequestState::Withdrawn);
    sim.tick(10);
    let a2 = sim.raise(pa, Intervention);
    assert_eq!(sim.order(), [b, a2]);
    let lower = Command::LowerHand { request: a };
    assert_eq!(sim.refused(Actor::Participant(pa), lower), "not_waiting");
}

#[test]
fn decline_for_now_parks_and_rejoin_goes_to_the_back() {
    let mut sim = Sim::new(Order::Fifo);
    let (pa, a) = sim.queue_up("Ana", Online);
    let (_, b) = sim.queue_up("Bo", Onsite);
    assert_eq!(
        sim.refused(Actor::Participant(pa), Command::Rejoin { request: a }),
        "not_parked"
    );
    sim.ok(
        Actor::Participant(pa),
        Command::DeclineForNow { request: a },
    );
    assert_eq!(sim.state_of(a), RequestState::Parked);
    assert_eq!(sim.order(), [b]);
    let raise = Command::RaiseHand {
        participant: pa,
        kind: Question,
        note: None,
    };
    assert_eq!(
        sim.refused(Actor::Participant(pa), raise),
        "already_queued",
        "parked stays open"
    );
    let (_, c) = sim.queue_up("Chen", Onsite);
    sim.ok(Actor::Participant(pa), Command::Rejoin { request: a });
    assert_eq!(sim.order(), [b, c, a]);
    sim.check_replay();
}

#[test]
fn priority_bands_go_ahead_of_every_policy() {
    for order in [
        Order::Fifo,
        Order::FirstTimeFirst,
        Order::Alternate { room: 1, remote: 1 },
    ] {
        let mut sim = Sim::new(order);
        let (_, a) = sim.queue_up("Ana", Online);
        sim.tick(1_000);
        let pb = sim.join("Bo", Onsite);
        let b = sim.raise(pb, DirectReply);
        sim.tick(1_000);
        let pc = sim.join("Chen", Online);
        let c = sim.raise(pc, PointOfOrder);
        assert_eq!(sim.order(), [c, b, a], "{order:?}");
        assert_eq!(
            sim.reasons()[..2],
            [Reason::PointOfOrder, Reason::DirectReply]
        );
    }
}

#[test]
fn alternate_one_to_one_alternates_while_both_sides_wait() {
    let mut sim = Sim::new(Order::Alternate { room: 1, remote: 1 });
    let (_, r1) = sim.queue_up("Room 1", Onsite);
    let (_, r2) = sim.queue_up("Room 2", Onsite);
    let (_, o1) = sim.queue_up("Online 1", Online);
    let (_, h1) = sim.queue_up("Hub 1", Hub);
    assert_eq!(
        sim.order(),
        [r1, o1, r2, h1],
        "nobody spoke yet: the earliest arrival starts"
    );
    assert_eq!(sim.reasons()[0], Reason::Arrival);
    assert_eq!(sim.reasons()[1], Reason::Alternating { after: Side::Room });
    assert_eq!(sim.grant_next(), r1);
    sim.end();
    let (_, r3) = sim.queue_up("Room 3", Onsite);
    assert_eq!(sim.order(), [o1, r2, h1, r3]);
    assert_eq!(sim.grant_next(), o1);
    sim.end();
    assert_eq!(sim.grant_next(), r2);
    sim.end();
    assert_eq!(sim.grant_next(), h1);
    sim.end();
    assert_eq!(sim.order(), [r3]);
    assert_eq!(sim.reasons(), [Reason::Arrival], "only one side waits");
    sim.check_replay();
}

#[test]
fn alternate_two_to_one_gives_the_room_two_turns_per_cycle() {
    let mut sim = Sim::new(Order::Alternate { room: 2, remote: 1 });
    let (_, o1) = sim.queue_up("Online 1", Online);
    let (_, r1) = sim.queue_up("Room 1", Onsite);
    let (_, r2) = sim.queue_up("Room 2", Onsite);
    let (_, o2) = sim.queue_up("Online 2", Online);
    let (_, r3) = sim.queue_up("Room 3", Onsite);
    assert_eq!(sim.order(), [o1, r1, r2, o2, r3]);
}

#[test]
fn first_time_speakers_go_before_those_who_spoke() {
    let mut sim = Sim::new(Order::FirstTimeFirst);
    let (pa, _) = sim.queue_up("Ana", Online);
    sim.grant_next();
    sim.end();
    sim.tick(1_000);
    let a2 = sim.raise(pa, Intervention);
    let (_, b) = sim.queue_up("Bo", Onsite);
    assert_eq!(sim.order(), [b, a2]);
    assert_eq!(sim.reasons(), [Reason::FirstTime, Reason::SpokenBefore]);
    sim.ok(
        CHAIR,
        Command::SetPolicy {
            policy: Policy {
                order: Order::Fifo,
                starvation_ms: None,
            },
        },
    );
    assert_eq!(sim.order(), [a2, b], "a policy change reorders at once");
    sim.check_replay();
}

#[test]
fn the_starvation_guard_promotes_whoever_waited_too_long() {
    let guard = 60_000;
    let mut sim = Sim::with_policy(Policy {
        order: Order::FirstTimeFirst,
        starvation_ms: Some(guard),
    });
    let (pa, _) = sim.queue_up("Ana", Online);
    sim.grant_next();
    sim.end();
    let a2 = sim.raise(pa, Intervention);
    let since = sim.at();
    let (_, b) = sim.queue_up("Bo", Onsite);
    assert_eq!(sim.order(), [b, a2]);
    assert_eq!(sim.s.next_promotion_at(), Some(since.plus(guard + 1)));
    sim.now = since.plus(guard + 1).0;
    assert_eq!(sim.order(), [a2, b]);
    assert_eq!(
        sim.reasons()[0],
        Reason::Starved {
            waited_ms: guard + 1
        }
    );
    assert_eq!(sim.grant_next(), a2);
}

#[test]
fn remote_speakers_need_ready_unless_forced() {
    let mut sim = Sim::new(Order::Fifo);
    let (_, a) = sim.queue_up("Ana", Online);
    let next = grant(Target::Next, false, FloorSeen::Empty);
    assert_eq!(sim.refused(CHAIR, next.clone()), "not_ready");
    sim.ok(
        OM,
        Command::MarkReady {
            request: a,
            ready: true,
        },
    );
    assert!(
        sim.ok(
            OM,
            Command::MarkReady {
                request: a,
                ready: true
            }
        )
        .is_empty(),
        "no-op"
    );
    assert_eq!(sim.state_of(a), RequestState::Ready);
    sim.ok(CHAIR, next);
    assert!(!sim.s.floor().unwrap().forced);
    sim.end();
    let (_, b) = sim.queue_up("Bo", Hub);
    let e = sim.ok(CHAIR, grant(Target::Request(b), true, FloorSeen::Empty));
    assert!(matches!(e[0].fact, Fact::FloorGranted { forced: true, .. }));
    sim.end();
    let pc = sim.join("Chen", Online);
    sim.raise(pc, TextIntervention);
    sim.ok(OM, grant(Target::Next, false, FloorSeen::Empty));
    assert_eq!(
        sim.s.floor().unwrap().kind,
        TextIntervention,
        "text is read out: no audio check"
    );
    let (_, d) = sim.queue_up("Dee", Onsite);
    sim.end();
    sim.ok(CHAIR, grant(Target::Request(d), false, FloorSeen::Empty));
}

#[test]
fn grant_this_out_of_order_is_recorded_as_chosen() {
    let mut sim = Sim::new(Order::Fifo);
    let (_, a) = sim.queue_up("Ana", Onsite);
    let (_, b) = sim.queue_up("Bo", Onsite);
    let e = sim.ok(CHAIR, grant(Target::Request(b), false, FloorSeen::Empty));
    assert!(matches!(
        e[0].fact,
        Fact::FloorGranted {
            grant: Grant::Chosen { position: 2 },
            ..
        }
    ));
    let turn = sim.s.floor().unwrap().id;
    let e = sim.ok(
        CHAIR,
        grant(Target::Request(a), false, FloorSeen::Turn(turn)),
    );
    assert!(
        matches!(
            e[0].fact,
            Fact::TurnEnded {
                ending: Ending::Replaced,
                ..
            }
        ),
        "replaces the speaker"
    );
    assert!(
        matches!(
            e[1].fact,
            Fact::FloorGranted {
                grant: Grant::Next { .. },
                ..
            }
        ),
        "the head is no override"
    );
    assert_eq!(sim.state_of(b), RequestState::Done);
    sim.check_replay();
}

#[test]
fn two_moderators_clicking_next_at_once_grant_once() {
    let mut sim = Sim::new(Order::Fifo);
    let (_, a) = sim.queue_up("Ana", Onsite);
    let (_, b) = sim.queue_up("Bo", Onsite);
    sim.ok(CHAIR, grant(Target::Next, false, FloorSeen::Empty));
    let (_, _c) = sim.queue_up("Chen", Onsite);
    let turn = sim.s.floor().unwrap().id;
    assert_eq!(
        sim.refused(OM, grant(Target::Next, false, FloorSeen::Empty)),
        "conflict"
    );
    assert_eq!(
        sim.refused(
            OM,
            Command::EndTurn {
                seen: FloorSeen::Empty
            }
        ),
        "conflict"
    );
    sim.ok(CHAIR, grant(Target::Next, false, FloorSeen::Turn(turn)));
    assert_eq!(sim.state_of(a), RequestState::Done);
    assert_eq!(sim.state_of(b), RequestState::Speaking);
    let stale = grant(Target::Next, false, FloorSeen::Turn(turn));
    assert_eq!(
        sim.refused(OM, stale),
        "conflict",
        "a raise meanwhile is no conflict, a grant is"
    );
}

#[test]
fn the_clock_pauses_resumes_and_extends() {
    let mut sim = Sim::new(Order::Fifo);
    let any = FloorSeen::Any;
    assert_eq!(
        sim.refused(CHAIR, Command::PauseClock { seen: any }),
        "no_speaker"
    );
    assert_eq!(
        sim.refused(CHAIR, Command::EndTurn { seen: any }),
        "no_speaker"
    );
    let pq = sim.join("Quinn", Onsite);
    sim.raise(pq, PointOfOrder);
    sim.grant_next();
    assert_eq!(sim.s.floor().unwrap().limit_ms, 60_000, "per-kind limit");
    sim.tick(10_000);
    assert_eq!(
        sim.refused(CHAIR, Command::ResumeClock { seen: any }),
        "not_paused"
    );
    sim.ok(CHAIR, Command::PauseClock { seen: any });
    assert_eq!(
        sim.refused(CHAIR, Command::PauseClock { seen: any }),
        "already_paused"
    );
    sim.tick(50_000);
    assert_eq!(sim.s.floor().unwrap().remaining_ms(sim.at()), 50_000);
    sim.ok(CHAIR, Command::ResumeClock { seen: any });
    sim.ok(
        OM,
        Command::ExtendTurn {
            by_ms: 30_000,
            seen: any,
        },
    );
    let bad = Command::ExtendTurn {
        by_ms: 0,
        seen: any,
    };
    assert_eq!(sim.refused(CHAIR, bad), "invalid");
    sim.tick(5_000);
    assert_eq!(sim.s.floor().unwrap().remaining_ms(sim.at()), 75_000);
    sim.end();
    assert_eq!(sim.s.turns()[0].spoken_ms(sim.at()), 15_000);
    sim.check_replay();
}

#[test]
fn only_the_speaker_yields() {
    let mut sim = Sim::new(Order::Fifo);
    let (pa, _) = sim.queue_up("Ana", Onsite);
    let (pb, _) = sim.queue_up("Bo", Onsite);
    assert_eq!(
        sim.refused(Actor::Participant(pa), Command::Yield),
        "not_speaker"
    );
    sim.grant_next();
    assert_eq!(
        sim.refused(Actor::Participant(pb), Command::Yield),
        "not_speaker"
    );
    let e = sim.ok(Actor::Participant(pa), Command::Yield);
    assert!(matches!(
        e[0].fact,
        Fact::TurnEnded {
            ending: Ending::Yielded,
            ..
        }
    ));
    assert!(sim.s.floor().is_none());
}

#[test]
fn a_moved_entry_is_pinned_and_moves_up_as_the_queue_is_served() {
    let mut sim = Sim::new(Order::Fifo);
    let ids: Vec<RequestId> = (0..5)
        .map(|i| sim.queue_up(&format!("P{i}"), Onsite).1)
        .collect();
    let mv = |r, position| Command::Move {
        request: r,
        position,
        reason: Some("panel request".into()),
    };
    sim.ok(CHAIR, mv(ids[4], 2));
    assert_eq!(sim.order(), [ids[0], ids[4], ids[1], ids[2], ids[3]]);
    assert_eq!(
        sim.reasons()[1],
        Reason::Moved {
            by: CHAIR,
            note: Some("panel request".into())
        }
    );
    let (_, late) = sim.queue_up("Late", Onsite);
    let pp = sim.join("Point", Onsite);
    let poo = sim.raise(pp, PointOfOrder);
    assert_eq!(
        sim.order(),
        [poo, ids[4], ids[0], ids[1], ids[2], ids[3], late],
        "the pin holds"
    );
    assert_eq!(sim.grant_next(), poo);
    sim.end();
    assert_eq!(sim.order()[0], ids[4], "moves up as entries ahead leave");
    sim.ok(CHAIR, mv(ids[3], 1));
    assert_eq!(sim.order()[..2], [ids[3], ids[4]], "move to the top");
    sim.ok(CHAIR, mv(ids[0], 99));
    assert_eq!(*sim.order().last().unwrap(), ids[0], "past the end is last");
    assert_eq!(sim.refused(CHAIR, mv(ids[0], 0)), "invalid");
    sim.check_replay();
}

#[test]
fn remove_and_readd_the_last_speaker() {
    let mut sim = Sim::new(Order::Fifo);
    assert_eq!(
        sim.refused(CHAIR, Command::ReaddLastSpeaker { reason: None }),
        "no_last_speaker"
    );
    let (pa, a) = sim.queue_up("Ana", Onsite);
    let (_, b) = sim.queue_up("Bo", Onsite);
    let (_, c) = sim.queue_up("Chen", Onsite);
    sim.ok(
        CHAIR,
        Command::Remove {
            request: c,
            reason: Some("duplicate".into()),
        },
    );
    assert_eq!(sim.state_of(c), RequestState::Removed);
    assert_eq!(sim.grant_next(), a);
    sim.end();
    let e = sim.ok(
        CHAIR,
        Command::ReaddLastSpeaker {
            reason: Some("was cut off".into()),
        },
    );
    let Fact::SpeakerReadded {
        request: a2,
        participant,
        ..
    } = e[0].fact
    else {
        unreachable!()
    };
    assert_eq!(participant, pa);
    assert_eq!(sim.order(), [a2, b]);
    let again = Command::ReaddLastSpeaker { reason: None };
    assert_eq!(sim.refused(CHAIR, again), "already_queued");
    let stats = Stats::of(&sim.log);
    let actions: Vec<_> = stats.overrides.iter().map(|o| o.action).collect();
    assert_eq!(actions, ["removed", "readded"]);
    assert_eq!(stats.overrides[1].reason.as_deref(), Some("was cut off"));
    sim.check_replay();
}

#[test]
fn a_closed_list_refuses_new_hands_but_not_the_chair() {
    let mut sim = Sim::new(Order::Fifo);
    let (_, _) = sim.queue_up("Ana", Online);
    assert_eq!(
        sim.refused(CHAIR, Command::CloseList { confirm: false }),
        "remote_waiting"
    );
    sim.ok(CHAIR, Command::CloseList { confirm: true });
    assert!(
        sim.ok(CHAIR, Command::CloseList { confirm: true })
            .is_empty()
    );
    let pb = sim.join("Bo", Onsite);
    let raise = Command::RaiseHand {
        participant: pb,
        kind: Question,
        note: None,
    };
    assert_eq!(
        sim.refused(Actor::Participant(pb), raise.clone()),
        "list_closed"
    );
    sim.ok(CHAIR, raise.clone());
    sim.ok(CHAIR, Command::ReopenList);
    assert!(sim.s.list_open());
}

#[test]
fn agenda_items_start_with_their_roster_and_carry_or_clear_the_queue() {
    let mut sim = Sim::new(Order::Fifo);
    let panel = vec![profile("Panelist A", Onsite), profile("Panelist B", Online)];
    let items = vec![
        AgendaItem {
            title: "Norms".into(),
            roster: Vec::new(),
        },
        AgendaItem {
            title: "Capacity building".into(),
            roster: panel,
        },
    ];
    sim.ok(CHAIR, Command::SetAgenda { items });
    assert_eq!(sim.s.current_item(), None);
    sim.ok(CHAIR, Command::AdvanceAgenda { carry_over: true });
    let (_, a) = sim.queue_up("Ana", Onsite);
    sim.ok(CHAIR, Command::AdvanceAgenda { carry_over: true });
    let order = sim.order();
    assert_eq!(order.len(), 3);
    assert_eq!(order[2], a, "the roster goes first, in roster order");
    assert_eq!(sim.reasons()[..2], [Reason::Roster, Reason::Roster]);
    assert_eq!(sim.s.request(order[0]).unwrap().origin, Origin::Roster);
    sim.grant_next();
    let busy = Command::AdvanceAgenda { carry_over: false };
    assert_eq!(sim.refused(CHAIR, busy.clone()), "floor_busy");
    sim.end();
    assert_eq!(sim.refused(CHAIR, busy), "agenda_end");
    sim.ok(
        CHAIR,
        Command::SetAgenda {
            items: vec![
                AgendaItem {
                    title: "Norms".into(),
                    roster: Vec::new(),
                },
                AgendaItem {
                    title: "Capacity building".into(),
                    roster: Vec::new(),
                },
                AgendaItem {
                    title: "Way forward".into(),
                    roster: Vec::new(),
                },
            ],
        },
    );
    sim.ok(CHAIR, Command::AdvanceAgenda { carry_over: false });
    assert!(sim.order().is_empty(), "cleared");
    assert_eq!(sim.state_of(a), RequestState::Removed);
    assert_eq!(sim.s.current_item(), Some(2));
    sim.check_replay();
}

#[test]
fn opening_with_an_agenda_starts_its_first_item() {
    let mut sim = Sim {
        s: State::default(),
        now: 5,
        log: Vec::new(),
    };
    let open = |agenda| Command::OpenSession {
        title: "Plenary".into(),
        policy: Policy::default(),
        limits: TimeLimits::default(),
        agenda,
    };
    assert_eq!(
        sim.refused(Actor::Newcomer, Command::ReopenList),
        "not_open"
    );
    assert_eq!(sim.refused(CHAIR, open(Vec::new())), "forbidden");
    let item = AgendaItem {
        title: "Intro".into(),
        roster: vec![profile("Panelist", Onsite)],
    };
    sim.ok(Actor::Organizer, open(vec![item]));
    assert_eq!(sim.s.current_item(), Some(0));
    assert_eq!(sim.order().len(), 1);
    assert_eq!(
        sim.refused(Actor::Organizer, open(Vec::new())),
        "already_open"
    );
    sim.check_replay();
}

#[test]
fn moderators_share_links() {
    let mut sim = Sim::new(Order::Fifo);
    let post = |url: &str| Command::PostLink {
        title: "Input presentation".into(),
        url: url.into(),
    };
    sim.ok(OM, post("https://igf.example/slides.pdf"));
    assert_eq!(sim.refused(CHAIR, post("javascript:alert(1)")), "invalid");
    let pa = sim.join("Ana", Online);
    assert_eq!(
        sim.refused(Actor::Participant(pa), post("https://x.example")),
        "forbidden"
    );
    let link = sim.s.links()[0].id;
    sim.ok(CHAIR, Command::RemoveLink { link });
    assert_eq!(
        sim.refused(CHAIR, Command::RemoveLink { link }),
        "unknown_link"
    );
    sim.check_replay();
}

#[test]
fn roles_are_enforced() {
    let mut sim = Sim::new(Order::Fifo);
    let (pa, a) = sim.queue_up("Ana", Onsite);
    let (pb, b) = sim.queue_up("Bo", Online);
    let me = Actor::Participant(pb);
    assert_eq!(
        sim.refused(me, grant(Target::Next, true, FloorSeen::Any)),
        "forbidden"
    );
    assert_eq!(
        sim.refused(me, Command::LowerHand { request: a }),
        "forbidden"
    );
    assert_eq!(
        sim.refused(me, Command::CloseList { confirm: true }),
        "forbidden"
    );
    assert_eq!(
        sim.refused(
            me,
            Command::MarkReady {
                request: b,
                ready: true
            }
        ),
        "forbidden"
    );
    let others = Command::RaiseHand {
        participant: pa,
        kind: Question,
        note: None,
    };
    assert_eq!(sim.refused(me, others), "forbidden");
    assert_eq!(
        sim.refused(CHAIR, Command::LowerHand { request: b }),
        "forbidden",
        "remove, with a reason"
    );
    assert_eq!(
        sim.refused(
            OM,
            Command::Move {
                request: a,
                position: 2,
                reason: None
            }
        ),
        "forbidden"
    );
    sim.ok(
        OM,
        Command::Move {
            request: b,
            position: 1,
            reason: None,
        },
    );
    assert_eq!(
        sim.refused(
            OM,
            Command::SetPolicy {
                policy: Policy::default()
            }
        ),
        "forbidden"
    );
    assert_eq!(
        sim.refused(
            OM,
            Command::AddProxy {
                profile: profile("Walk-in", Onsite),
                kind: Question,
                note: None
            }
        ),
        "forbidden"
    );
    sim.ok(CHAIR, Command::SetModeratorScope { remote_only: true });
    assert_eq!(
        sim.refused(OM, grant(Target::Request(a), true, FloorSeen::Any)),
        "forbidden"
    );
    sim.ok(OM, grant(Target::Request(b), true, FloorSeen::Any));
    assert_eq!(sim.s.floor().unwrap().participant, pb);
    assert_eq!(
        sim.refused(Actor::Newcomer, Command::LowerHand { request: a }),
        "forbidden"
    );
}

#[test]
fn proxies_and_relays_are_managed_by_their_moderator() {
    let mut sim = Sim::new(Order::Fifo);
    let e = sim.ok(
        CHAIR,
        Command::AddProxy {
            profile: profile("Walk-in", Onsite),
            kind: Question,
            note: None,
        },
    );
    let Fact::HandRaised {
        request: walk_in,
        origin,
        ..
    } = e[1].fact
    else {
        unreachable!()
    };
    assert_eq!(origin, Origin::ChairProxy);
    let relay = Command::AddProxy {
        profile: profile("From chat", Online),
        kind: TextIntervention,
        note: None,
    };
    assert_eq!(
        sim.refused(OM, relay),
        "invalid",
        "a text intervention needs its text"
    );
    let relay = Command::AddProxy {
        profile: profile("From chat", Online),
        kind: TextIntervention,
        note: Some("What about small CERTs?".into()),
    };
    let e = sim.ok(OM, relay);
    let Fact::HandRaised {
        request: text,
        origin,
        ..
    } = e[1].fact
    else {
        unreachable!()
    };
    assert_eq!(origin, Origin::Relay);
    sim.ok(
        OM,
        Command::ChangeRequest {
            request: text,
            kind: Question,
            note: None,
        },
    );
    sim.ok(CHAIR, Command::LowerHand { request: walk_in });
    assert_eq!(
        sim.refused(OM, Command::DeclineForNow { request: walk_in }),
        "forbidden",
        "onsite"
    );
    sim.check_replay();
}

#[test]
fn profiles_can_change_but_not_their_modality() {
    let mut sim = Sim::new(Order::Fifo);
    let pa = sim.join("Ana", Online);
    let mut p = profile("Ana Lima", Online);
    sim.ok(
        Actor::Participant(pa),
        Command::UpdateProfile {
            participant: pa,
            profile: p.clone(),
        },
    );
    assert_eq!(sim.s.participant(pa).unwrap().profile.name, "Ana Lima");
    p.modality = Onsite;
    let change = Command::UpdateProfile {
        participant: pa,
        profile: p,
    };
    assert_eq!(sim.refused(Actor::Participant(pa), change), "invalid");
    let mut bad = profile("x", Online);
    bad.name = "\u{202e}evil\u{0000}".into();
    assert_eq!(
        sim.refused(Actor::Newcomer, Command::Join { profile: bad }),
        "invalid"
    );
}

#[test]
fn policies_and_limits_are_validated() {
    let mut sim = Sim::new(Order::Fifo);
    let policy = Policy {
        order: Order::Alternate { room: 0, remote: 1 },
        starvation_ms: None,
    };
    assert_eq!(sim.refused(CHAIR, Command::SetPolicy { policy }), "invalid");
    let policy = Policy {
        order: Order::Fifo,
        starvation_ms: Some(5),
    };
    assert_eq!(sim.refused(CHAIR, Command::SetPolicy { policy }), "invalid");
    let limits = TimeLimits {
        default_ms: 5,
        ..TimeLimits::default()
    };
    assert_eq!(
        sim.refused(CHAIR, Command::SetTimeLimits { limits }),
        "invalid"
    );
    let limits = TimeLimits {
        default_ms: 120_000,
        ..TimeLimits::default()
    };
    sim.ok(CHAIR, Command::SetTimeLimits { limits });
    sim.queue_up("Ana", Onsite);
    sim.grant_next();
    assert_eq!(sim.s.floor().unwrap().limit_ms, 120_000);
}

#[test]
fn refusal_codes_are_stable_snake_case_and_distinct() {
    use std::collections::BTreeSet;
    let all = [
        Refusal::NotOpen,
        Refusal::AlreadyOpen,
        Refusal::Forbidden { action: "x" },
        Refusal::UnknownParticipant(ParticipantId(0)),
        Refusal::UnknownRequest(RequestId(0)),
        Refusal::UnknownLink(LinkId(0)),
        Refusal::AlreadyQueued {
            request: RequestId(0),
            state: RequestState::Waiting,
        },
        Refusal::ListClosed,
        Refusal::NotWaiting {
            request: RequestId(0),
            state: RequestState::Done,
        },
        Refusal::NotParked {
            request: RequestId(0),
            state: RequestState::Done,
        },
        Refusal::NotReady(RequestId(0)),
        Refusal::NoSpeaker,
        Refusal::NotSpeaker,
        Refusal::QueueEmpty,
        Refusal::Conflict { current: None },
        Refusal::AlreadyPaused,
        Refusal::NotPaused,
        Refusal::FloorBusy(TurnId(0)),
        Refusal::AgendaEnd,
        Refusal::NoLastSpeaker,
        Refusal::RemoteWaiting { count: 1 },
        Refusal::Invalid {
            field: "f",
            problem: "p",
        },
    ];
    let codes: BTreeSet<_> = all.iter().map(Refusal::code).collect();
    assert_eq!(codes.len(), all.len());
    for r in &all {
        assert!(r.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        assert!(!r.to_string().is_empty());
    }
}

#[test]
fn unknown_ids_are_refused() {
    let mut sim = Sim::new(Order::Fifo);
    let raise = Command::RaiseHand {
        participant: ParticipantId(9),
        kind: Question,
        note: None,
    };
    assert_eq!(sim.refused(CHAIR, raise), "unknown_participant");
    assert_eq!(
        sim.refused(
            CHAIR,
            Command::Remove {
                request: RequestId(9),
                reason: None
            }
        ),
        "unknown_request"
    );
    assert_eq!(
        sim.refused(CHAIR, grant(Target::Next, true, FloorSeen::Any)),
        "queue_empty"
    );
}

// --- Trust and safety: controls, removal, rotation, ending, the raise throttle, names ---

fn lower(p: ParticipantId, r: RequestId) -> (Actor, Command) {
    (Actor::Participant(p), Command::LowerHand { request: r })
}

fn raise_cmd(p: ParticipantId) -> Command {
    Command::RaiseHand {
        participant: p,
        kind: Intervention,
        note: None,
    }
}

fn set(control: Control, on: bool) -> Command {
    Command::SetControl { control, on }
}

#[test]
fn flapping_a_hand_never_gains_a_place_and_is_throttled() {
    let mut sim = Sim::new(Order::Fifo);
    let (p, first) = sim.queue_up("Ana", Online);
    let (_, b) = sim.queue_up("Bo", Onsite);
    assert_eq!(sim.order(), [first, b]);
    let (actor, cmd) = lower(p, first);
    sim.ok(actor, cmd);
    sim.tick(100);
    let again = sim.raise(p, Intervention);
    assert_eq!(sim.order(), [b, again], "raised again goes to the back");
    // Three raises of her own in the window: the fourth is refused until the first is 30 s old.
    let (actor, cmd) = lower(p, again);
    sim.ok(actor, cmd);
    sim.tick(100);
    let third = sim.raise(p, Intervention);
    let (actor, cmd) = lower(p, third);
    sim.ok(actor, cmd);
    sim.tick(100);
    match sim.run(Actor::Participant(p), raise_cmd(p)) {
        Err(Refusal::TooFast { retry_after_ms }) => {
            assert_eq!(
                retry_after_ms,
                RAISE_WINDOW_MS - 1_300,
                "30 s after her first raise"
            );
        }
        other => panic!("expected too_fast, got {other:?}"),
    }
    // A moderator may still raise it for her (a person with a problem, not a script).
    sim.ok(CHAIR, raise_cmd(p));
    sim.check_replay();
}

#[test]
fn the_throttle_lifts_once_the_window_passes() {
    let mut sim = Sim::new(Order::Fifo);
    let p = sim.join("Ana", Online);
    for _ in 0..RAISE_BURST {
        let r = sim.raise(p, Intervention);
        let (actor, cmd) = lower(p, r);
        sim.ok(actor, cmd);
    }
    assert_eq!(sim.refused(Actor::Participant(p), raise_cmd(p)), "too_fast");
    sim.tick(RAISE_WINDOW_MS);
    sim.raise(p, Intervention);
    sim.check_replay();
}

#[test]
fn a_locked_session_takes_no_newcomers_but_moderators_still_add_people() {
    let mut sim = Sim::new(Order::Fifo);
    sim.ok(OM, set(Control::Lock, true));
    let join = Command::Join {
        profile: profile("Zed", Online),
    };
    assert_eq!(sim.refused(Actor::Newcomer, join.clone()), "session_locked");
    sim.ok(
        CHAIR,
        Command::AddProxy {
            profile: profile("Walk-in", Onsite),
            kind: Question,
            note: None,
        },
    );
    assert!(sim.s.controls().locked);
    assert!(
        sim.ok(OM, set(Control::Lock, true)).is_empty(),
        "setting what holds changes nothing"
    );
    sim.ok(CHAIR, set(Control::Lock, false));
    sim.ok(Actor::Newcomer, join);
    sim.check_replay();
}

#[test]
fn suspension_stops_participants_and_not_moderators() {
    let mut sim = Sim::new(Order::Fifo);
    let (p, r) = sim.queue_up("Ana", Online);
    assert_eq!(
        sim.refused(Actor::Participant(p), set(Control::Suspend, true)),
        "forbidden"
    );
    sim.ok(CHAIR, set(Control::Suspend, true));
    let (actor, cmd) = lower(p, r);
    assert_eq!(sim.refused(actor, cmd), "suspended");
    let join = Command::Join {
        profile: profile("Zed", Online),
    };
    assert_eq!(sim.refused(Actor::Newcomer, join), "suspended");
    assert_eq!(sim.grant_next(), r, "the moderators keep running the floor");
    sim.ok(CHAIR, set(Control::Suspend, false));
    sim.ok(Actor::Participant(p), Command::Yield);
    sim.check_replay();
}

#[test]
fn a_removed_participant_loses_their_place_and_can_do_nothing() {
    let mut sim = Sim::new(Order::Fifo);
    let (spammer, r) = sim.queue_up("Spam", Online);
    let (_, b) = sim.queue_up("Bo", Onsite);
    let (speaker, _) = sim.queue_up("Chen", Online);
    let remove = |p| Command::RemoveParticipant {
        participant: p,
        reason: Some("spam".into()),
    };
    assert_eq!(
        sim.refused(OM, remove(ParticipantId(1))),
        "forbidden",
        "Bo is in the room"
    );
    sim.ok(OM, remove(spammer));
    assert_eq!(sim.state_of(r), RequestState::Removed);
    assert_eq!(sim.order()[0], b);
    assert_eq!(
        sim.refused(Actor::Participant(spammer), raise_cmd(spammer)),
        "participant_removed"
    );
    assert!(sim.ok(OM, remove(spammer)).is_empty(), "once is enough");
    assert_eq!(
        sim.refused(CHAIR, raise_cmd(spammer)),
        "participant_removed",
        "nobody raises a hand for them either"
    );
    // Removing the speaker ends their turn.
    sim.ok(
        CHAIR,
        grant(Target::Request(RequestId(2)), true, FloorSeen::Any),
    );
    sim.ok(CHAIR, remove(speaker));
    assert!(sim.s.floor().is_none());
    assert_eq!(
        sim.refused(CHAIR, Command::ReaddLastSpeaker { reason: None }),
        "participant_removed"
    );
    assert!(sim.s.participant(speaker).unwrap().removed);
    sim.check_replay();
}

#[test]
fn rotating_keys_and_ending_are_the_chairs_and_ending_is_for_good() {
    let mut sim = Sim::new(Order::Fifo);
    let (_, r) = sim.queue_up("Ana", Online);
    sim.queue_up("Bo", Online);
    assert_eq!(sim.refused(OM, Command::RotateKeys), "forbidden");
    sim.ok(CHAIR, Command::RotateKeys);
    sim.ok(Actor::Organizer, Command::RotateKeys);
    assert_eq!(sim.s.key_rotations(), 2);
    sim.grant_next();
    assert_eq!(sim.refused(OM, Command::EndSession), "forbidden");
    sim.ok(CHAIR, Command::EndSession);
    assert!(sim.s.controls().ended);
    assert_eq!(
        sim.state_of(r),
        RequestState::Done,
        "the speaker's turn ended"
    );
    assert_eq!(sim.refused(CHAIR, Command::ReopenList), "session_ended");
    assert_eq!(
        sim.refused(
            Actor::Newcomer,
            Command::Join {
                profile: profile("Late", Online)
            }
        ),
        "session_ended"
    );
    sim.check_replay();
}

#[test]
fn names_cannot_claim_an_office_and_twins_are_told_apart() {
    let mut sim = Sim::new(Order::Fifo);
    let join = |name: &str| Command::Join {
        profile: profile(name, Online),
    };
    assert_eq!(sim.refused(Actor::Newcomer, join("The Chair")), "invalid");
    assert_eq!(sim.refused(Actor::Newcomer, join("Mοderator")), "invalid");
    let name_of = |sim: &Sim, p: ParticipantId| sim.s.participant(p).unwrap().profile.name.clone();
    let a = sim.join("Ana Silva", Online);
    let b = sim.join("ana silva", Online);
    let c = sim.join("Аna Silva", Online); // Cyrillic А
    assert_eq!(name_of(&sim, a), "Ana Silva");
    assert_eq!(name_of(&sim, b), "ana silva (2)");
    assert_eq!(name_of(&sim, c), "Аna Silva (3)");
    // Renaming: to someone else's name is told apart too; to one's own is left alone.
    let rename = |p, name: &str| Command::UpdateProfile {
        participant: p,
        profile: profile(name, Online),
    };
    sim.ok(Actor::Participant(a), rename(a, "Ana Silva"));
    assert_eq!(name_of(&sim, a), "Ana Silva");
    assert_eq!(
        sim.refused(Actor::Participant(a), rename(a, "Host")),
        "invalid"
    );
    // A moderator may enter an official by proxy.
    sim.ok(
        CHAIR,
        Command::AddProxy {
            profile: profile("Secretariat", Onsite),
            kind: Intervention,
            note: None,
        },
    );
    // The chair locks renaming.
    assert_eq!(sim.refused(OM, set(Control::RenameLock, true)), "forbidden");
    sim.ok(CHAIR, set(Control::RenameLock, true));
    assert_eq!(
        sim.refused(Actor::Participant(a), rename(a, "Ana S.")),
        "renaming_locked"
    );
    sim.ok(CHAIR, rename(a, "Ana S."));
    sim.check_replay();
}

#[test]
fn a_session_holds_at_most_its_cap_and_the_chair_purges_silent_joiners() {
    let mut sim = Sim::new(Order::Fifo);
    let join = |name: String| Command::Join {
        profile: profile(&name, Online),
    };
    let speaker = sim.join("Speaker", Online);
    sim.raise(speaker, RequestKind::Intervention);
    let walk_in = sim.ok(
        Actor::Chair,
        Command::Join {
            profile: profile("Walk-in", Onsite),
        },
    );
    assert_eq!(walk_in.len(), 1);
    sim.tick(1_000);
    let flood_from = sim.at();
    // Decided and applied directly: `Sim::run` clones the state to check refusals, which would
    // make five thousand joins quadratic.
    for n in 2..crate::queue::PARTICIPANTS_MAX {
        let events = decide(&sim.s, Actor::Newcomer, join(format!("Bot {n}")), sim.at()).unwrap();
        for e in &events {
            sim.s.apply(e);
        }
        sim.log.extend(events);
    }
    assert_eq!(
        sim.refused(Actor::Newcomer, join("One more".into())),
        "session_full"
    );
    // The moderators' tallies count who is present, which is what the consoles' "full" notice
    // reads: the walk-in onsite, everyone else online.
    assert_eq!(sim.s.present(), crate::queue::PARTICIPANTS_MAX);
    assert_eq!(sim.s.tally(Onsite).participants, 1);
    let purge = |since| Command::RemoveSilent {
        since,
        reason: Some("join flood".into()),
    };
    // Only the chair, and at most PURGE_MAX at a time; never someone who raised a hand or
    // whom a moderator added, nor anyone who joined before `since`.
    assert_eq!(
        sim.refused(Actor::Participant(speaker), purge(None)),
        "forbidden"
    );
    let first = sim.ok(Actor::Chair, purge(Some(flood_from)));
    assert_eq!(first.len(), crate::queue::PURGE_MAX);
    let mut removed = first.len();
    loop {
        let more = sim.ok(Actor::Chair, purge(Some(flood_from)));
        if more.is_empty() {
            break;
        }
        removed += more.len();
    }
    assert_eq!(removed, crate::queue::PARTICIPANTS_MAX - 2);
    let present: Vec<_> = sim
        .s
        .participants()
        .iter()
        .filter(|p| !p.removed)
        .map(|p| p.profile.name.clone())
        .collect();
    assert_eq!(present, ["Speaker", "Walk-in"]);
    assert_eq!(sim.s.present(), 2);
    assert_eq!(
        (
            sim.s.tally(Onsite).participants,
            sim.s.tally(Online).participants
        ),
        (1, 1)
    );
    // Room again for newcomers.
    sim.ok(Actor::Newcomer, join("Late but real".into()));
    sim.check_replay();
}

#[test]
fn the_consoles_know_the_session_cap() {
    // The consoles' "session full" notice compares the tallies with their own copy of the cap.
    let js = include_str!("../../../web/lib/fairness.js");
    let line = format!(
        "export const PARTICIPANTS_MAX = {};",
        crate::queue::PARTICIPANTS_MAX
    );
    assert!(js.contains(&line), "web/lib/fairness.js must say `{line}`");
}

#[test]
fn a_relayed_question_is_read_out_so_needs_no_audio_check_and_is_no_override() {
    let mut sim = Sim::new(Order::Fifo);
    let e = sim.ok(
        OM,
        Command::AddProxy {
            profile: profile("From chat", Online),
            kind: Question,
            note: Some("What about small CERTs?".into()),
        },
    );
    let Fact::HandRaised { request, .. } = e[1].fact else {
        unreachable!()
    };
    let e = sim.ok(CHAIR, grant(Target::Next, false, FloorSeen::Empty));
    assert!(matches!(
        e[0].fact,
        Fact::FloorGranted { request: r, forced: false, .. } if r == request
    ));
    sim.end();
    // A remote person who raised their own hand still needs the check.
    let (_, a) = sim.queue_up("Ana", Online);
    assert_eq!(
        sim.refused(CHAIR, grant(Target::Request(a), false, FloorSeen::Empty)),
        "not_ready"
    );
    sim.check_replay();
}

#[test]
fn a_moderator_brings_a_parked_person_back_in_at_the_back() {
    let mut sim = Sim::new(Order::Fifo);
    let (pa, a) = sim.queue_up("Ana", Online);
    let (pb, b) = sim.queue_up("Bo", Onsite);
    let (_, c) = sim.queue_up("Chen", Onsite);
    sim.ok(
        Actor::Participant(pa),
        Command::DeclineForNow { request: a },
    );
    sim.ok(
        Actor::Participant(pb),
        Command::DeclineForNow { request: b },
    );
    assert_eq!(
        sim.refused(OM, Command::Rejoin { request: b }),
        "forbidden",
        "the online moderator manages the remote side only"
    );
    assert_eq!(sim.refused(OM, Command::Rejoin { request: c }), "forbidden");
    sim.ok(OM, Command::Rejoin { request: a });
    sim.ok(CHAIR, Command::Rejoin { request: b });
    assert_eq!(sim.order(), [c, a, b]);
    assert_eq!(
        sim.refused(CHAIR, Command::Rejoin { request: b }),
        "not_parked"
    );
    sim.check_replay();
}

#[test]
fn a_point_of_order_is_possible_while_the_list_is_closed() {
    let mut sim = Sim::new(Order::Fifo);
    let (_, a) = sim.queue_up("Ana", Onsite);
    sim.ok(CHAIR, Command::CloseList { confirm: false });
    let pb = sim.join("Bo", Online);
    let raise = |kind| Command::RaiseHand {
        participant: pb,
        kind,
        note: None,
    };
    assert_eq!(
        sim.refused(Actor::Participant(pb), raise(Intervention)),
        "list_closed"
    );
    assert_eq!(
        sim.refused(Actor::Participant(pb), raise(DirectReply)),
        "list_closed"
    );
    sim.ok(Actor::Participant(pb), raise(PointOfOrder));
    let order = sim.order();
    assert_eq!(order.len(), 2);
    assert_eq!(order[1], a, "the point of order goes first");
    sim.check_replay();
}

#[test]
fn a_text_to_read_out_keeps_its_lines_and_a_note_stays_one_line() {
    let mut sim = Sim::new(Order::Fifo);
    let pa = sim.join("Ana", Online);
    let raise = |kind, note: &str| Command::RaiseHand {
        participant: pa,
        kind,
        note: Some(note.into()),
    };
    assert_eq!(
        sim.refused(Actor::Participant(pa), raise(Question, "one\ntwo")),
        "invalid"
    );
    assert_eq!(
        sim.refused(Actor::Participant(pa), raise(TextIntervention, " \n ")),
        "invalid",
        "a text intervention needs its text"
    );
    let e = sim.ok(
        Actor::Participant(pa),
        raise(
            TextIntervention,
            "Two points:\r\n1. captions\n2. a microphone\n",
        ),
    );
    let Fact::HandRaised { note, .. } = &e[0].fact else {
        unreachable!()
    };
    assert_eq!(
        note.as_deref(),
        Some("Two points:\n1. captions\n2. a microphone")
    );
    sim.check_replay();
}

#[test]
fn audio_that_fails_parks_the_remote_request_with_the_reason_until_rejoined() {
    let mut sim = Sim::new(Order::Fifo);
    let (pa, a) = sim.queue_up("Ana", Online);
    let (_, b) = sim.queue_up("Bo", Onsite);
    assert_eq!(
        sim.refused(Actor::Participant(pa), Command::AudioFailed { request: a }),
        "forbidden"
    );
    assert_eq!(
        sim.refused(OM, Command::AudioFailed { request: b }),
        "forbidden",
        "the online moderator manages the remote side"
    );
    assert_eq!(
        sim.refused(CHAIR, Command::AudioFailed { request: b }),
        "invalid",
        "nobody checks a room speaker's audio"
    );
    sim.ok(OM, Command::AudioFailed { request: a });
    let r = sim.s.request(a).unwrap();
    assert_eq!(
        (r.state, r.parked_for),
        (RequestState::Parked, Some(ParkReason::AudioFailed))
    );
    assert_eq!(sim.order(), [b]);
    assert_eq!(
        sim.refused(OM, Command::AudioFailed { request: a }),
        "not_waiting"
    );
    sim.ok(Actor::Participant(pa), Command::Rejoin { request: a });
    assert_eq!(sim.s.request(a).unwrap().parked_for, None);
    assert_eq!(sim.order(), [b, a]);
    sim.check_replay();
}

#[test]
fn the_text_read_out_goes_on_the_display_only_when_a_moderator_shows_it() {
    let mut sim = Sim::new(Order::Fifo);
    let (_, a) = sim.queue_up("Ana", Onsite);
    let show = |shown| Command::ShowText {
        shown,
        seen: FloorSeen::Any,
    };
    assert_eq!(sim.refused(CHAIR, show(true)), "no_speaker");
    sim.grant_next();
    assert_eq!(
        sim.refused(CHAIR, show(true)),
        "invalid",
        "a spoken turn has no text to show"
    );
    sim.end();
    let e = sim.ok(
        OM,
        Command::AddProxy {
            profile: profile("From chat", Online),
            kind: Question,
            note: Some("What about small CERTs?".into()),
        },
    );
    let Fact::HandRaised { request, .. } = e[1].fact else {
        unreachable!()
    };
    assert_ne!(request, a);
    sim.grant_next();
    let pa = sim.join("Bo", Online);
    assert_eq!(sim.refused(Actor::Participant(pa), show(true)), "forbidden");
    sim.ok(CHAIR, show(true));
    assert!(sim.s.floor().unwrap().text_shown);
    assert!(sim.ok(OM, show(true)).is_empty(), "already shown");
    sim.ok(OM, show(false));
    assert!(!sim.s.floor().unwrap().text_shown);
    sim.check_replay();
}
