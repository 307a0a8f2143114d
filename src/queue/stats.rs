//! The fairness figures, folded from a session's events: per modality, how many asked and how
//! many spoke, how long they waited and spoke, and every moderator override.
//!
//! The fold replays the events into a [`State`] as it goes (the same `apply` as everywhere), so
//! it reads each fact in the context it happened in and shares no rule with the consoles.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Actor, Event, Fact, Grant, Modality, State, Timestamp};

/// Mean, median and 90th percentile of a list of durations, in milliseconds.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// How many values.
    pub count: usize,
    /// Their sum.
    pub total_ms: u64,
    /// Mean (rounded down).
    pub mean_ms: u64,
    /// Median (the lower middle value for an even count).
    pub median_ms: u64,
    /// 90th percentile (nearest rank).
    pub p90_ms: u64,
}

impl Figures {
    /// The figures of `values` (in any order).
    pub fn of(values: &[u64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let mut v = values.to_vec();
        v.sort_unstable();
        let n = v.len();
        let total: u64 = v.iter().sum();
        Self {
            count: n,
            total_ms: total,
            mean_ms: total / n as u64,
            median_ms: v[(n - 1) / 2],
            p90_ms: v[(n * 9).div_ceil(10) - 1],
        }
    }
}

/// Running totals of one modality, kept by [`State`] as events apply (O(1) each), for the
/// consoles' live fairness panel.
#[derive(
    schemars::JsonSchema, Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize,
)]
pub struct Tally {
    /// Requests made (raised, proxied, relayed or re-added).
    pub requests: u32,
    /// Turns given.
    pub turns: u32,
    /// Waits of the turns given, summed.
    pub waited_ms: u64,
    /// Speaking time of the ended turns, summed (pauses excluded).
    pub spoken_ms: u64,
    /// Participants of this modality in the session now (joined, not removed). Summed over the
    /// modalities, it is what the session cap (`PARTICIPANTS_MAX`) counts, so the consoles can
    /// say when the session is full.
    #[serde(default)]
    pub participants: u32,
}

/// The figures of one modality.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SideStats {
    /// Participants who joined with this modality.
    pub participants: usize,
    /// People they stand for (hubs count their head count).
    pub people: u64,
    /// Requests made.
    pub requests: usize,
    /// Turns given.
    pub turns: usize,
    /// How long requests waited before their turn.
    pub wait: Figures,
    /// How long turns lasted (pauses excluded).
    pub speaking: Figures,
}

/// A moderator override, as the record shows it.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Override {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: Actor,
    /// What: `moved`, `removed`, `readded`, `granted_out_of_order` or `forced_not_ready`.
    pub action: &'static str,
    /// Whose entry: the person moved, removed, re-added or given the floor.
    pub who: String,
    /// The moderator's reason, if given.
    pub reason: Option<String>,
}

/// A session's fairness figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Figures per modality.
    pub by_modality: BTreeMap<Modality, SideStats>,
    /// Every override, in order.
    pub overrides: Vec<Override>,
}

#[derive(Default)]
struct Samples {
    waits: Vec<u64>,
    spoken: Vec<u64>,
}

impl Stats {
    /// Fold a whole log.
    pub fn of<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut state = State::default();
        let mut stats = Stats::default();
        let mut samples: BTreeMap<Modality, Samples> = BTreeMap::new();
        for e in events {
            state.apply(e);
            stats.observe(&state, e, &mut samples);
        }
        for (m, s) in samples {
            let side = stats.by_modality.entry(m).or_default();
            side.wait = Figures::of(&s.waits);
            side.speaking = Figures::of(&s.spoken);
        }
        stats
    }

    /// Count one event, given the state just after it.
    fn observe(&mut self, s: &State, e: &Event, samples: &mut BTreeMap<Modality, Samples>) {
        let modality_of = |p: super::ParticipantId| s.participants()[p.0 as usize].profile.modality;
        let name_of = |p: super::ParticipantId| s.participants()[p.0 as usize].profile.name.clone();
        let requester = |r: super::RequestId| name_of(s.requests()[r.0 as usize].participant);
        let mut record = |action, who: String, reason: &Option<String>| {
            self.overrides.push(Override {
                at: e.at,
                by: e.actor,
                action,
                who,
                reason: reason.clone(),
            });
        };
        match &e.fact {
            Fact::ParticipantJoined { profile, .. } => {
                let side = self.by_modality.entry(profile.modality).or_default();
                side.participants += 1;
                side.people += u64::from(profile.head_count);
            }
            Fact::HandRaised { participant, .. } => {
                self.by_modality
                    .entry(modality_of(*participant))
                    .or_default()
                    .requests += 1;
            }
            Fact::SpeakerReadded {
                participant,
                reason,
                ..
            } => {
                self.by_modality
                    .entry(modality_of(*participant))
                    .or_default()
                    .requests += 1;
                record("readded", name_of(*participant), reason);
            }
            Fact::FloorGranted {
                turn,
                grant,
                forced,
                reason,
                ..
            } => {
                let t = &s.turns()[turn.0 as usize];
                let m = modality_of(t.participant);
                self.by_modality.entry(m).or_default().turns += 1;
                samples.entry(m).or_default().waits.push(t.waited_ms);
                if matches!(grant, Grant::Chosen { .. }) {
                    record("granted_out_of_order", name_of(t.participant), reason);
                }
                if *forced {
                    record("forced_not_ready", name_of(t.participant), reason);
                }
            }
            Fact::TurnEnded { turn, .. } => {
                let t = &s.turns()[turn.0 as usize];
                let m = modality_of(t.participant);
                samples.entry(m).or_default().spoken.push(t.spoken_ms(e.at));
            }
            Fact::RequestMoved {
                request, reason, ..
            } => record("moved", requester(*request), reason),
            Fact::RequestRemoved {
                request, reason, ..
            } => record("removed", requester(*request), reason),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_use_nearest_rank() {
        let f = Figures::of(&[50, 10, 40, 30, 20, 60, 70, 80, 90, 100]);
        assert_eq!((f.count, f.total_ms, f.mean_ms), (10, 550, 55));
        assert_eq!(f.median_ms, 50);
        assert_eq!(f.p90_ms, 90);
        assert_eq!(Figures::of(&[7]).p90_ms, 7);
        assert_eq!(Figures::of(&[]), Figures::default());
    }
}
