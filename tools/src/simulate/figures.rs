//! One session's figures, measured by the report's own fold, and their mean across runs.

use rostrum::queue::{ParticipantId, Stats};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::MODALITIES;
use super::play::{Session, slot};

/// One session's figures for one modality.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(super) struct ModalityFigures {
    pub(super) requests: usize,
    pub(super) turns: usize,
    /// Requests still waiting when the session ended.
    pub(super) unserved: usize,
    /// Arrivals that found everyone of the modality with a request open.
    pub(super) lost: usize,
    /// Waits of the requests that got their turn (`None` without any).
    pub(super) wait_mean_s: Option<f64>,
    pub(super) wait_median_s: Option<f64>,
    pub(super) wait_p90_s: Option<f64>,
    /// The mean wait of every request, those still waiting counted up to the end: the mean of
    /// the served alone flatters a policy that leaves people waiting.
    pub(super) wait_all_mean_s: Option<f64>,
    /// The longest wait, the requests still waiting at the end included.
    pub(super) wait_longest_s: Option<f64>,
    pub(super) speaking_mean_s: Option<f64>,
    pub(super) speaking_total_s: f64,
}

/// One side's shares of the session's requests, turns and speaking time, in percent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(super) struct SideShares {
    pub(super) requests_pct: Option<f64>,
    pub(super) turns_pct: Option<f64>,
    pub(super) speaking_pct: Option<f64>,
}

/// One session's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(super) struct SessionFigures {
    pub(super) onsite: ModalityFigures,
    pub(super) online: ModalityFigures,
    pub(super) hub: ModalityFigures,
    pub(super) room: SideShares,
    pub(super) remote: SideShares,
    /// The moderator's "grant this" overrides, as the report counts them.
    pub(super) granted_out_of_order: usize,
    /// Commands the core refused.
    pub(super) refused: usize,
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

impl Session {
    /// The figures of the session, from the report's fold of its log.
    pub(super) fn measure(&self) -> SessionFigures {
        let stats = Stats::of(&self.log);
        let modality_of =
            |p: ParticipantId| self.state.participants()[p.0 as usize].profile.modality;
        let [onsite, online, hub] = MODALITIES.map(|m| {
            let s = stats.by_modality.get(&m).cloned().unwrap_or_default();
            let served = self
                .state
                .turns()
                .iter()
                .filter(|t| modality_of(t.participant) == m);
            let waiting = self
                .state
                .requests()
                .iter()
                .filter(|r| r.state.is_queued() && modality_of(r.participant) == m);
            let some = |count: usize, ms: u64| (count > 0).then(|| secs(ms));
            let waits: Vec<u64> = served
                .map(|t| t.waited_ms)
                .chain(waiting.clone().map(|r| self.end.millis_since(r.queued_at)))
                .collect();
            ModalityFigures {
                requests: s.requests,
                turns: s.turns,
                unserved: waiting.count(),
                lost: self.lost[slot(m)],
                wait_mean_s: some(s.wait.count, s.wait.mean_ms),
                wait_median_s: some(s.wait.count, s.wait.median_ms),
                wait_p90_s: some(s.wait.count, s.wait.p90_ms),
                wait_all_mean_s: (!waits.is_empty())
                    .then(|| secs(waits.iter().sum::<u64>() / waits.len() as u64)),
                wait_longest_s: waits.iter().max().copied().map(secs),
                speaking_mean_s: some(s.speaking.count, s.speaking.mean_ms),
                speaking_total_s: secs(s.speaking.total_ms),
            }
        });
        let side = |f: fn(&ModalityFigures) -> f64| {
            let (room, remote) = (f(&onsite), f(&online) + f(&hub));
            let pct = |x: f64| (room + remote > 0.0).then(|| 100.0 * x / (room + remote));
            (pct(room), pct(remote))
        };
        let requests = side(|m| m.requests as f64);
        let turns = side(|m| m.turns as f64);
        let speaking = side(|m| m.speaking_total_s);
        SessionFigures {
            room: SideShares {
                requests_pct: requests.0,
                turns_pct: turns.0,
                speaking_pct: speaking.0,
            },
            remote: SideShares {
                requests_pct: requests.1,
                turns_pct: turns.1,
                speaking_pct: speaking.1,
            },
            granted_out_of_order: stats
                .overrides
                .iter()
                .filter(|o| o.action == "granted_out_of_order")
                .count(),
            refused: self.refused,
            onsite,
            online,
            hub,
        }
    }
}

/// The mean across runs, figure by figure (runs have the same shape); a figure no run had
/// (say, waits of a modality that never spoke) stays `null`. One decimal.
pub(super) fn mean(runs: &[Value]) -> Value {
    if let Some(Value::Object(first)) = runs.first() {
        return first
            .keys()
            .map(|k| {
                let figure: Vec<Value> = runs.iter().map(|r| r[k].clone()).collect();
                (k.clone(), mean(&figure))
            })
            .collect::<Map<_, _>>()
            .into();
    }
    let values: Vec<f64> = runs.iter().filter_map(Value::as_f64).collect();
    if values.is_empty() {
        return Value::Null;
    }
    let m = values.iter().sum::<f64>() / values.len() as f64;
    json!((m * 10.0).round() / 10.0)
}
