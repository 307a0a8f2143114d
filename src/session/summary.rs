//! A session at a glance, for the organizer: its title, whether it has ended, how many people
//! and connections it has, the queue's length and who has the floor. Computed from a state, so
//! a running actor and an idle session's replayed log give the same answer.

use serde::Serialize;

use crate::queue::{Modality, Policy, State, Timestamp};

/// What the organizer's list shows of one session.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Title.
    pub title: String,
    /// Ordering policy.
    pub policy: Policy,
    /// Ended: read-only for good.
    pub ended: bool,
    /// Participants known to the session (removed people not counted).
    pub participants: usize,
    /// Requests waiting in the queue.
    pub queued: usize,
    /// Who has the floor, if anyone.
    pub floor: Option<Speaker>,
    /// Turns given so far.
    pub turns: u32,
    /// Of those, turns given to the remote side (online participants and hubs): the event
    /// view's remote share.
    pub remote_turns: u32,
    /// The log's last seq.
    pub seq: u64,
    /// Open connections (consoles, participants, displays, public views) on this node.
    pub connections: usize,
}

/// The person speaking now.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Speaker {
    /// Their name.
    pub name: String,
    /// Their country or organisation.
    pub affiliation: String,
    /// Where they speak from.
    pub modality: Modality,
    /// When the floor was granted (server ms).
    pub granted_at: Timestamp,
}

impl Summary {
    /// The summary of `state`, with `connections` open on it.
    pub fn of(state: &State, connections: usize) -> Self {
        let floor = state.floor().and_then(|turn| {
            let p = state.participant(turn.participant)?;
            Some(Speaker {
                name: p.profile.name.clone(),
                affiliation: p.profile.affiliation.clone(),
                modality: p.profile.modality,
                granted_at: turn.granted_at,
            })
        });
        Self {
            title: state.title().to_owned(),
            policy: state.policy(),
            ended: state.controls().ended,
            participants: state.participants().iter().filter(|p| !p.removed).count(),
            queued: state.queued_len(),
            floor,
            turns: [Modality::Onsite, Modality::Online, Modality::Hub]
                .map(|m| state.tally(m).turns)
                .iter()
                .sum(),
            remote_turns: state.tally(Modality::Online).turns + state.tally(Modality::Hub).turns,
            seq: state.seq(),
            connections,
        }
    }
}
