//! Model-based property test: random command sequences from onsite, online and hub participants
//! and two moderators (chair and online moderator), allowed or not, checked after every step
//! against the queue's invariants. A refused command must change nothing (checked by `Sim`).

use proptest::prelude::*;

use super::testkit::{Sim, profile};
use super::*;

/// Who sends a command.
#[derive(Debug, Clone, Copy)]
enum By {
    Chair,
    Om,
    /// The participant the command is about.
    Own,
    /// Some other participant.
    Other(usize),
}

#[derive(Debug, Clone)]
enum Op {
    Tick(u64),
    Join(Modality),
    Control {
        control: Control,
        on: bool,
        by: By,
    },
    RemovePerson {
        who: usize,
        by: By,
    },
    Raise {
        who: usize,
        kind: RequestKind,
        by: By,
    },
    Lower {
        who: usize,
        by: By,
    },
    Decline {
        who: usize,
        by: By,
    },
    Rejoin {
        who: usize,
        by: By,
    },
    Change {
        who: usize,
        kind: RequestKind,
        by: By,
    },
    Ready {
        pick: usize,
        ready: bool,
        by: By,
    },
    Grant {
        pick: Option<usize>,
        force: bool,
        by: By,
        fresh: bool,
    },
    End {
        by: By,
        fresh: bool,
    },
    Yield {
        who: usize,
    },
    Pause {
        by: By,
    },
    Resume {
        by: By,
    },
    Extend {
        by: By,
        ms: u64,
    },
    AudioFailed {
        pick: usize,
        by: By,
    },
    ShowText {
        shown: bool,
        by: By,
    },
    Move {
        pick: usize,
        to: u32,
        by: By,
    },
    Remove {
        pick: usize,
        by: By,
    },
    Readd {
        by: By,
    },
    Close {
        confirm: bool,
    },
    Reopen,
    SetPolicy(Policy),
    Proxy {
        modality: Modality,
        kind: RequestKind,
        by: By,
    },
    Advance {
        carry: bool,
    },
    Scope(bool),
}

fn modality() -> impl Strategy<Value = Modality> {
    prop_oneof![
        Just(Modality::Onsite),
        Just(Modality::Online),
        Just(Modality::Hub)
    ]
}

fn kind() -> impl Strategy<Value = RequestKind> {
    prop_oneof![
        6 => Just(RequestKind::Intervention),
        3 => Just(RequestKind::Question),
        1 => Just(RequestKind::DirectReply),
        1 => Just(RequestKind::PointOfOrder),
        1 => Just(RequestKind::TextIntervention),
    ]
}

fn by() -> impl Strategy<Value = By> {
    prop_oneof![
        3 => Just(By::Chair),
        2 => Just(By::Om),
        3 => Just(By::Own),
        1 => (0..12usize).prop_map(By::Other),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    let order = prop_oneof![
        Just(Order::Fifo),
        Just(Order::Alternate { room: 1, remote: 1 }),
        Just(Order::Alternate { room: 2, remote: 1 }),
        Just(Order::FirstTimeFirst),
    ];
    let guard = prop_oneof![Just(None), (30_000..120_000u64).prop_map(Some)];
    (order, guard).prop_map(|(order, starvation_ms)| Policy {
        order,
        starvation_ms,
    })
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0..12usize;
    prop_oneof![
        4 => (0..40_000u64).prop_map(Op::Tick),
        1 => modality().prop_map(Op::Join),
        8 => (who.clone(), kind(), by()).prop_map(|(who, kind, by)| Op::Raise { who, kind, by }),
        2 => (who.clone(), by()).prop_map(|(who, by)| Op::Lower { who, by }),
        1 => (who.clone(), by()).prop_map(|(who, by)| Op::Decline { who, by }),
        1 => (who.clone(), by()).prop_map(|(who, by)| Op::Rejoin { who, by }),
        1 => (who.clone(), kind(), by()).prop_map(|(who, kind, by)| Op::Change { who, kind, by }),
        2 => (0..20usize, any::<bool>(), by()).prop_map(|(pick, ready, by)| Op::Ready { pick, ready, by }),
        6 => (prop::option::weighted(0.3, 0..20usize), any::<bool>(), by(), prop::bool::weighted(0.8))
            .prop_map(|(pick, force, by, fresh)| Op::Grant { pick, force, by, fresh }),
        4 => (by(), prop::bool::weighted(0.8)).prop_map(|(by, fresh)| Op::End { by, fresh }),
        1 => who.clone().prop_map(|who| Op::Yield { who }),
        1 => by().prop_map(|by| Op::Pause { by }),
        1 => by().prop_map(|by| Op::Resume { by }),
        1 => (by(), 0..60_000u64).prop_map(|(by, ms)| Op::Extend { by, ms }),
        1 => (0..20usize, by()).prop_map(|(pick, by)| Op::AudioFailed { pick, by }),
        1 => (any::<bool>(), by()).prop_map(|(shown, by)| Op::ShowText { shown, by }),
        2 => (0..20usize, 0..12u32, by()).prop_map(|(pick, to, by)| Op::Move { pick, to, by }),
        1 => (0..20usize, by()).prop_map(|(pick, by)| Op::Remove { pick, by }),
        1 => by().prop_map(|by| Op::Readd { by }),
        1 => any::<bool>().prop_map(|confirm| Op::Close { confirm }),
        1 => Just(Op::Reopen),
        1 => policy().prop_map(Op::SetPolicy),
        1 => (modality(), kind(), by()).prop_map(|(modality, kind, by)| Op::Proxy { modality, kind, by }),
        1 => any::<bool>().prop_map(|carry| Op::Advance { carry }),
        1 => any::<bool>().prop_map(Op::Scope),
        1 => (prop_oneof![Just(Control::Lock), Just(Control::Suspend), Just(Control::RenameLock)], prop::bool::weighted(0.3), by())
            .prop_map(|(control, on, by)| Op::Control { control, on, by }),
        1 => (who.clone(), by()).prop_map(|(who, by)| Op::RemovePerson { who, by }),
    ]
}

struct Model {
    sim: Sim,
}

impl Model {
    fn new(policy: Policy, people: &[Modality]) -> Self {
        let mut sim = Sim::with_policy(policy);
        let items = (0..4)
            .map(|i| AgendaItem {
                title: format!("Policy question {i}"),
                roster: if i == 1 {
                    vec![
                        profile("Panelist A", Modality::Onsite),
                        profile("Panelist B", Modality::Online),
                    ]
                } else {
                    Vec::new()
                },
            })
            .collect();
        sim.ok(Actor::Chair, Command::SetAgenda { items });
        for (i, m) in people.iter().enumerate() {
            sim.join(&format!("P{i}"), *m);
        }
        Self { sim }
    }

    fn participant(&self, who: usize) -> ParticipantId {
        ParticipantId((who % self.sim.s.participants().len()) as u32)
    }

    fn actor(&self, by: By, own: ParticipantId) -> Actor {
        match by {
            By::Chair => Actor::Chair,
            By::Om => Actor::OnlineModerator,
            By::Own => Actor::Participant(own),
            By::Other(k) => Actor::Participant(self.participant(k)),
        }
    }

    /// The request a `pick` names: an entry of the queue, or any request if the queue is empty.
    fn pick(&self, pick: usize) -> RequestId {
        let q = self.sim.s.queue(self.sim.at());
        if !q.is_empty() {
            return q[pick % q.len()].request;
        }
        RequestId((pick % self.sim.s.requests().len().max(1)) as u32)
    }

    fn open_request(&self, who: usize) -> RequestId {
        let p = self.participant(who);
        self.sim
            .s
            .participant(p)
            .unwrap()
            .open_request
            .unwrap_or(RequestId(who as u32))
    }

    fn seen(&self, fresh: bool) -> FloorSeen {
        match (fresh, self.sim.s.floor()) {
            (true, Some(t)) => FloorSeen::Turn(t.id),
            (true, None) => FloorSeen::Empty,
            (false, Some(_)) => FloorSeen::Empty,
            (false, None) => FloorSeen::Turn(TurnId(0)),
        }
    }

    fn owner(&self, r: RequestId) -> ParticipantId {
        self.sim
            .s
            .request(r)
            .map_or(ParticipantId(0), |r| r.participant)
    }

    fn command(&self, op: &Op) -> Option<(Actor, Command)> {
        let chair = Actor::Chair;
        Some(match *op {
            Op::Tick(_) | Op::Join(_) => return None,
            Op::Raise { who, kind, by } => {
                let p = self.participant(who);
                let note = (kind == RequestKind::TextIntervention).then(|| "chat text".to_owned());
                (
                    self.actor(by, p),
                    Command::RaiseHand {
                        participant: p,
                        kind,
                        note,
                    },
                )
            }
            Op::Lower { who, by } => {
                let r = self.open_request(who);
                (
                    self.actor(by, self.owner(r)),
                    Command::LowerHand { request: r },
                )
            }
            Op::Decline { who, by } => {
                let r = self.open_request(who);
                (
                    self.actor(by, self.owner(r)),
                    Command::DeclineForNow { request: r },
                )
            }
            Op::Rejoin { who, by } => {
                let r = self.open_request(who);
                (
                    self.actor(by, self.owner(r)),
                    Command::Rejoin { request: r },
                )
            }
            Op::Change { who, kind, by } => {
                let r = self.open_request(who);
                let note = Some("changed".to_owned());
                (
                    self.actor(by, self.owner(r)),
                    Command::ChangeRequest {
                        request: r,
                        kind,
                        note,
                    },
                )
            }
            Op::Ready { pick, ready, by } => {
                let r = self.pick(pick);
                (
                    self.actor(by, self.owner(r)),
                    Command::MarkReady { request: r, ready },
                )
            }
            Op::Grant {
                pick,
                force,
                by,
                fresh,
            } => {
                let target = pick.map_or(Target::Next, |p| Target::Request(self.pick(p)));
                let seen = self.seen(fresh);
                (
                    self.actor(by, ParticipantId(0)),
                    Command::GrantFloor {
                        target,
                        force,
                        seen,
                        reason: None,
                    },
                )
            }
            Op::End { by, fresh } => (
                self.actor(by, ParticipantId(0)),
                Command::EndTurn {
                    seen: self.seen(fresh),
                },
            ),
            Op::Yield { who } => {
                let p = match self.sim.s.floor() {
                    Some(t) if who % 2 == 0 => t.participant,
                    _ => self.participant(who),
                };
                (Actor::Participant(p), Command::Yield)
            }
            Op::Pause { by } => (
                self.actor(by, ParticipantId(0)),
                Command::PauseClock {
                    seen: FloorSeen::Any,
                },
            ),
            Op::Resume { by } => (
                self.actor(by, ParticipantId(0)),
                Command::ResumeClock {
                    seen: FloorSeen::Any,
                },
            ),
            Op::Extend { by, ms } => (
                self.actor(by, ParticipantId(0)),
                Command::ExtendTurn {
                    by_ms: ms,
                    seen: FloorSeen::Any,
                },
            ),
            Op::AudioFailed { pick, by } => {
                let r = self.pick(pick);
                (
                    self.actor(by, self.owner(r)),
                    Command::AudioFailed { request: r },
                )
            }
            Op::ShowText { shown, by } => (
                self.actor(by, ParticipantId(0)),
                Command::ShowText {
                    shown,
                    seen: FloorSeen::Any,
                },
            ),
            Op::Move { pick, to, by } => {
                let r = self.pick(pick);
                let reason = Some("moved".to_owned());
                (
                    self.actor(by, self.owner(r)),
                    Command::Move {
                        request: r,
                        position: to,
                        reason,
                    },
                )
            }
            Op::Remove { pick, by } => {
                let r = self.pick(pick);
                (
                    self.actor(by, self.owner(r)),
                    Command::Remove {
                        request: r,
                        reason: None,
                    },
                )
            }
            Op::Readd { by } => (
                self.actor(by, ParticipantId(0)),
                Command::ReaddLastSpeaker { reason: None },
            ),
            Op::Close { confirm } => (chair, Command::CloseList { confirm }),
            Op::Reopen => (chair, Command::ReopenList),
            Op::SetPolicy(policy) => (chair, Command::SetPolicy { policy }),
            Op::Proxy { modality, kind, by } => {
                let note = Some("relayed".to_owned());
                (
                    self.actor(by, ParticipantId(0)),
                    Command::AddProxy {
                        profile: profile("Proxy", modality),
                        kind,
                        note,
                    },
                )
            }
            Op::Advance { carry } => (chair, Command::AdvanceAgenda { carry_over: carry }),
            Op::Scope(remote_only) => (chair, Command::SetModeratorScope { remote_only }),
            Op::Control { control, on, by } => (
                self.actor(by, ParticipantId(0)),
                Command::SetControl { control, on },
            ),
            Op::RemovePerson { who, by } => {
                let p = self.participant(who);
                (
                    self.actor(by, p),
                    Command::RemoveParticipant {
                        participant: p,
                        reason: None,
                    },
                )
            }
        })
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match *op {
            Op::Tick(ms) => self.sim.tick(ms),
            Op::Join(m) => {
                self.sim.tick(1);
                let before = self.sim.s.clone();
                let join = Command::Join {
                    profile: profile("Late joiner", m),
                };
                if let Ok(events) = self.sim.run(Actor::Newcomer, join) {
                    check_controls(&before, Actor::Newcomer, &events)?;
                }
            }
            _ => {
                self.sim.tick(1);
                let (actor, command) = self.command(op).expect("a command op");
                let before = self.sim.s.clone();
                if let Ok(events) = self.sim.run(actor, command) {
                    check_grant(&before, &events, self.sim.at())?;
                    check_controls(&before, actor, &events)?;
                }
            }
        }
        check_tallies(&self.sim.s, &self.sim.log)?;
        check_invariants(&self.sim.s, self.sim.at())
    }
}

/// What the session controls promise: while suspended no participant changes anything; a
/// removed participant changes nothing; while locked no newcomer joins by themselves.
fn check_controls(before: &State, actor: Actor, events: &[Event]) -> Result<(), TestCaseError> {
    if events.is_empty() {
        return Ok(());
    }
    let c = before.controls();
    match actor {
        Actor::Participant(p) => {
            prop_assert!(!c.suspended, "a participant acted while suspended");
            prop_assert!(
                !before.participant(p).unwrap().removed,
                "a removed participant acted"
            );
        }
        Actor::Newcomer => prop_assert!(
            !c.suspended && !c.locked,
            "a newcomer joined a locked session"
        ),
        _ => {}
    }
    Ok(())
}

/// The running tallies the live panel shows agree with the report's fold of the whole log.
fn check_tallies(s: &State, log: &[Event]) -> Result<(), TestCaseError> {
    let stats = Stats::of(log);
    for m in [Modality::Onsite, Modality::Online, Modality::Hub] {
        let (t, f) = (
            s.tally(m),
            stats.by_modality.get(&m).cloned().unwrap_or_default(),
        );
        prop_assert_eq!(t.requests as usize, f.requests, "{:?} requests", m);
        prop_assert_eq!(t.turns as usize, f.turns, "{:?} turns", m);
        prop_assert_eq!(t.waited_ms, f.wait.total_ms, "{:?} waits", m);
        prop_assert_eq!(t.spoken_ms, f.speaking.total_ms, "{:?} speaking", m);
    }
    Ok(())
}

/// Invariants of any state at any time.
fn check_invariants(s: &State, now: Timestamp) -> Result<(), TestCaseError> {
    // One open request per participant, and the participant points at it.
    for p in s.participants() {
        let open: Vec<_> = s
            .requests()
            .iter()
            .filter(|r| r.participant == p.id && r.state.is_open())
            .map(|r| r.id)
            .collect();
        prop_assert!(
            open.len() <= 1,
            "{:?} has {} open requests",
            p.id,
            open.len()
        );
        prop_assert_eq!(open.first().copied(), p.open_request);
        prop_assert!(
            !(p.removed && p.open_request.is_some()),
            "{:?} was removed with an open request",
            p.id
        );
    }
    // The speaker is speaking and nowhere else.
    let speaking: Vec<_> = s
        .requests()
        .iter()
        .filter(|r| r.state == RequestState::Speaking)
        .map(|r| r.id)
        .collect();
    prop_assert_eq!(
        speaking,
        s.floor().map(|t| t.request).into_iter().collect::<Vec<_>>()
    );
    // Positions are dense and the order is total: exactly the queued requests, once each.
    let q = s.queue(now);
    for (i, e) in q.iter().enumerate() {
        prop_assert_eq!(e.position as usize, i + 1);
    }
    let mut listed: Vec<_> = q.iter().map(|e| e.request).collect();
    listed.sort();
    let queued: Vec<_> = s
        .requests()
        .iter()
        .filter(|r| r.state.is_queued())
        .map(|r| r.id)
        .collect();
    prop_assert_eq!(
        &listed,
        &queued,
        "the order lists exactly the queued requests"
    );
    prop_assert_eq!(s.queued_len(), q.len());
    prop_assert_eq!(
        s.head(now),
        q.first().map(|e| (e.request, e.reason.clone()))
    );
    // Priority bands hold among entries no moderator placed.
    let bands: Vec<Band> = q
        .iter()
        .map(|e| s.request(e.request).unwrap())
        .filter(|r| r.pin.is_none())
        .map(Request::band)
        .collect();
    prop_assert!(
        bands.windows(2).all(|w| w[0] <= w[1]),
        "bands out of order: {:?}",
        bands
    );
    Ok(())
}

/// Properties of a policy grant ("next"), against the state just before it.
fn check_grant(before: &State, events: &[Event], now: Timestamp) -> Result<(), TestCaseError> {
    let Some(Fact::FloorGranted {
        request,
        grant: Grant::Next { reason },
        ..
    }) = events.last().map(|e| &e.fact)
    else {
        return Ok(());
    };
    let r = before.request(*request).unwrap();
    if r.pin.is_some() {
        return Ok(()); // a moderator's placement, recorded as such
    }
    let waiting: Vec<&Request> = before
        .requests()
        .iter()
        .filter(|q| q.state.is_queued() && q.pin.is_none())
        .collect();
    // Priority: nothing of a higher band was passed over.
    prop_assert!(
        waiting.iter().all(|q| q.band() >= r.band()),
        "a higher band was passed over"
    );
    if r.band() != Band::Normal {
        return Ok(());
    }
    let normal: Vec<&&Request> = waiting
        .iter()
        .filter(|q| q.band() == Band::Normal)
        .collect();
    // Starvation: whoever waited past the guard is served first, oldest first.
    if let Some(bound) = before.policy().starvation_ms {
        let oldest_starved = normal
            .iter()
            .filter(|q| now.millis_since(q.queued_at) > bound)
            .min_by_key(|q| (q.arrival, q.id));
        if let Some(o) = oldest_starved {
            prop_assert_eq!(o.id, r.id, "a starved request was passed over");
            return Ok(());
        }
    }
    // Alternation: a policy grant never goes to the side that had the last ordinary turn (or
    // its full run under a ratio) while the other side waits.
    if let Order::Alternate { room, remote } = before.policy().order {
        let other_waits = normal.iter().any(|q| q.side != r.side);
        let alt = before.alternation();
        if other_waits && let Some(last) = alt.last {
            let run_allowed = u32::from(if last == Side::Room { room } else { remote });
            let same_again = r.side == last;
            prop_assert!(
                !same_again || alt.run < run_allowed,
                "alternation broken: {:?} after {:?} (run {})",
                r.side,
                last,
                alt.run
            );
            prop_assert!(
                matches!(reason, Reason::Alternating { .. }),
                "reason {:?}",
                reason
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_sessions_keep_every_invariant(
        policy in policy(),
        people in prop::collection::vec(modality(), 3..9),
        ops in prop::collection::vec(op(), 1..160),
    ) {
        let mut model = Model::new(policy, &people);
        for (i, op) in ops.iter().enumerate() {
            model.step(op)?;
            if i % 16 == 0 {
                prop_assert_eq!(&State::replay(&model.sim.log), &model.sim.s);
            }
        }
        prop_assert_eq!(&State::replay(&model.sim.log), &model.sim.s, "replay equals the live state");
    }
}
