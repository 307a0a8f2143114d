//! The moderators' tallies: per modality (the fairness panel) and the remote side's questions
//! (for the online moderator). Both change with most commands, so they travel beside the
//! session's settings, field by field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::view::Audience;
use crate::queue::{Modality, Origin, RequestKind, RequestState, Side, State, Tally};

/// Running tallies per modality.
pub type Fairness = BTreeMap<Modality, Tally>;

/// The tallies now, for `audience` (moderators only).
pub fn fairness(s: &State, audience: Audience) -> Option<Fairness> {
    (audience == Audience::Moderator).then(|| {
        [Modality::Onsite, Modality::Online, Modality::Hub]
            .into_iter()
            .map(|m| (m, s.tally(m)))
            .collect()
    })
}

/// The remote side's questions, for the online moderator.
#[derive(
    schemars::JsonSchema, Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize,
)]
pub struct RemoteCounts {
    /// Remote questions and text interventions asked.
    pub asked: u32,
    /// Of those, relayed by the online moderator.
    pub forwarded: u32,
    /// Of those, given the floor.
    pub answered: u32,
    /// Room turns given since the longest-waiting remote request entered the queue (0 when no
    /// remote request waits): the consoles alert from 2.
    pub room_turns_waited: u32,
}

impl RemoteCounts {
    /// The counts now.
    pub fn of(s: &State) -> Self {
        let remote_question = |r: &&crate::queue::Request| {
            r.side == Side::Remote
                && matches!(
                    r.kind,
                    RequestKind::Question | RequestKind::TextIntervention
                )
        };
        let asked: Vec<_> = s.requests().iter().filter(remote_question).collect();
        let count = |f: &dyn Fn(&&&crate::queue::Request) -> bool| {
            u32::try_from(asked.iter().filter(f).count()).unwrap_or(u32::MAX)
        };
        let oldest_remote = s
            .requests()
            .iter()
            .filter(|r| r.side == Side::Remote && r.state.is_queued())
            .map(|r| r.queued_at)
            .min();
        let room_turns_waited = oldest_remote.map_or(0, |since| {
            let n = s
                .turns()
                .iter()
                .filter(|t| t.side == Side::Room && t.granted_at >= since)
                .count();
            u32::try_from(n).unwrap_or(u32::MAX)
        });
        RemoteCounts {
            asked: u32::try_from(asked.len()).unwrap_or(u32::MAX),
            forwarded: count(&|r| r.origin == Origin::Relay),
            answered: count(&|r| matches!(r.state, RequestState::Speaking | RequestState::Done)),
            room_turns_waited,
        }
    }
}
