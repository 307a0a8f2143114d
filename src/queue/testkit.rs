//! A session driven through `decide` and `apply`, for tests: it checks on every command that a
//! refusal changes nothing and that the log replays to the live state.

use super::*;

pub(crate) struct Sim {
    pub s: State,
    pub now: u64,
    pub log: Vec<Event>,
}

pub(crate) fn profile(name: &str, modality: Modality) -> Profile {
    let mut p = Profile::new(name, "Somewhere", modality);
    if modality == Modality::Hub {
        p.head_count = 12;
    }
    p
}

impl Sim {
    pub fn new(order: Order) -> Self {
        Self::with_policy(Policy {
            order,
            starvation_ms: None,
        })
    }

    pub fn with_policy(policy: Policy) -> Self {
        let mut sim = Sim {
            s: State::default(),
            now: 1_000_000,
            log: Vec::new(),
        };
        sim.ok(
            Actor::Organizer,
            Command::OpenSession {
                title: "NRIs collaborative session on cybersecurity".into(),
                policy,
                limits: TimeLimits::default(),
                agenda: Vec::new(),
            },
        );
        sim
    }

    pub fn at(&self) -> Timestamp {
        Timestamp(self.now)
    }

    pub fn tick(&mut self, ms: u64) {
        self.now += ms;
    }

    pub fn run(&mut self, actor: Actor, command: Command) -> Result<Vec<Event>, Refusal> {
        let before = self.s.clone();
        match decide(&self.s, actor, command, self.at()) {
            Ok(events) => {
                for e in &events {
                    self.s.apply(e);
                }
                self.log.extend(events.iter().cloned());
                Ok(events)
            }
            Err(refusal) => {
                assert_eq!(self.s, before, "a refusal changes nothing");
                Err(refusal)
            }
        }
    }

    #[track_caller]
    pub fn ok(&mut self, actor: Actor, command: Command) -> Vec<Event> {
        let c = format!("{command:?}");
        self.run(actor, command)
            .unwrap_or_else(|r| panic!("{c} refused: {r}"))
    }

    #[track_caller]
    pub fn refused(&mut self, actor: Actor, command: Command) -> &'static str {
        match self.run(actor, command) {
            Ok(events) => panic!("expected a refusal, got {events:?}"),
            Err(r) => r.code(),
        }
    }

    pub fn join(&mut self, name: &str, modality: Modality) -> ParticipantId {
        let e = self.ok(
            Actor::Newcomer,
            Command::Join {
                profile: profile(name, modality),
            },
        );
        match e[0].fact {
            Fact::ParticipantJoined { participant, .. } => participant,
            _ => unreachable!(),
        }
    }

    #[track_caller]
    pub fn raise(&mut self, p: ParticipantId, kind: RequestKind) -> RequestId {
        let note = (kind == RequestKind::TextIntervention).then(|| "read this out".to_owned());
        let e = self.ok(
            Actor::Participant(p),
            Command::RaiseHand {
                participant: p,
                kind,
                note,
            },
        );
        match e[0].fact {
            Fact::HandRaised { request, .. } => request,
            _ => unreachable!(),
        }
    }

    /// A participant who joins and raises an intervention, one second after the previous.
    pub fn queue_up(&mut self, name: &str, modality: Modality) -> (ParticipantId, RequestId) {
        self.tick(1_000);
        let p = self.join(name, modality);
        (p, self.raise(p, RequestKind::Intervention))
    }

    pub fn order(&self) -> Vec<RequestId> {
        self.s
            .queue(self.at())
            .into_iter()
            .map(|e| e.request)
            .collect()
    }

    pub fn reasons(&self) -> Vec<Reason> {
        self.s
            .queue(self.at())
            .into_iter()
            .map(|e| e.reason)
            .collect()
    }

    /// The chair grants the next entry (forcing past "ready") and returns whom.
    #[track_caller]
    pub fn grant_next(&mut self) -> RequestId {
        let e = self.ok(
            Actor::Chair,
            Command::GrantFloor {
                target: Target::Next,
                force: true,
                seen: FloorSeen::Any,
                reason: None,
            },
        );
        match e.last().map(|e| &e.fact) {
            Some(Fact::FloorGranted { request, .. }) => *request,
            _ => unreachable!(),
        }
    }

    #[track_caller]
    pub fn end(&mut self) {
        self.ok(
            Actor::Chair,
            Command::EndTurn {
                seen: FloorSeen::Any,
            },
        );
    }

    pub fn state_of(&self, r: RequestId) -> RequestState {
        self.s.request(r).unwrap().state
    }

    pub fn check_replay(&self) {
        assert_eq!(
            State::replay(&self.log),
            self.s,
            "replaying the log yields the live state"
        );
    }
}
