//! Turns: one granted floor each, with its clock as data.
//!
//! The clock is never a running timer: a turn stores when it was granted, when it was paused,
//! how long it was paused and how much it was extended, so any console (or the projector) can
//! compute the remaining time from the server's timestamps alone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ParticipantId, Reason, RequestId, RequestKind, Side, Timestamp};

/// A turn's number within its session, assigned in order from zero.
#[derive(
    schemars::JsonSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct TurnId(pub u32);

/// How the floor was given: by the policy ("next"), or to a moderator's chosen entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum Grant {
    /// The head of the queue, for the reason it stood there.
    Next {
        /// Why it was first.
        reason: Reason,
    },
    /// A moderator chose this entry ("grant this"); an override unless it was first anyway.
    Chosen {
        /// Its one-based position when chosen.
        position: u32,
    },
}

/// Why a turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// A moderator ended it.
    Ended,
    /// The speaker said "I'm done".
    Yielded,
    /// A moderator granted the floor to the next speaker while this one was speaking.
    Replaced,
}

/// One turn: who spoke, and the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// Its number.
    pub id: TurnId,
    /// The request it served.
    pub request: RequestId,
    /// Who spoke.
    pub participant: ParticipantId,
    /// Their side.
    pub side: Side,
    /// What kind of request it served.
    pub kind: RequestKind,
    /// The agenda item current at the grant.
    pub item: Option<u32>,
    /// How the floor was given.
    pub grant: Grant,
    /// Whether the grant overrode a missing "ready".
    pub forced: bool,
    /// How long the request waited in the queue before this turn.
    pub waited_ms: u64,
    /// When the floor was granted.
    pub granted_at: Timestamp,
    /// The time limit at the grant.
    pub limit_ms: u64,
    /// Extensions added since.
    pub extended_ms: u64,
    /// When the clock was paused, if it is paused now.
    pub paused_at: Option<Timestamp>,
    /// Total paused time of earlier pauses.
    pub paused_ms: u64,
    /// When the turn ended, if it has.
    pub ended_at: Option<Timestamp>,
    /// Why it ended, if it has.
    pub ending: Option<Ending>,
    /// Whether a moderator put the text being read out on the room's screens.
    pub text_shown: bool,
}

impl Turn {
    /// Speaking time so far (or in all, once ended), pauses excluded.
    pub fn spoken_ms(&self, now: Timestamp) -> u64 {
        let until = self.paused_at.or(self.ended_at).unwrap_or(now);
        until
            .millis_since(self.granted_at)
            .saturating_sub(self.paused_ms)
    }

    /// Time left at `now`; negative once the speaker is in overtime.
    pub fn remaining_ms(&self, now: Timestamp) -> i64 {
        let allowed = self.limit_ms.saturating_add(self.extended_ms);
        i64::try_from(allowed).unwrap_or(i64::MAX)
            - i64::try_from(self.spoken_ms(now)).unwrap_or(i64::MAX)
    }
}

/// Speaking-time limits: a session default and optional per-kind limits.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeLimits {
    /// The default limit for a turn.
    pub default_ms: u64,
    /// Limits that differ by kind (a point of order is shorter).
    pub per_kind: BTreeMap<RequestKind, u64>,
    /// How long before the end consoles show the warning.
    pub warning_ms: u64,
}

impl Default for TimeLimits {
    /// Three minutes, one for points of order and direct replies, a warning 30 s before the end.
    fn default() -> Self {
        Self {
            default_ms: 180_000,
            per_kind: BTreeMap::from([
                (RequestKind::PointOfOrder, 60_000),
                (RequestKind::DirectReply, 60_000),
            ]),
            warning_ms: 30_000,
        }
    }
}

impl TimeLimits {
    /// Shortest limit accepted (10 s).
    pub const MIN_MS: u64 = 10_000;
    /// Longest limit accepted (one hour).
    pub const MAX_MS: u64 = 3_600_000;

    /// The limit for a request of `kind`.
    pub fn for_kind(&self, kind: RequestKind) -> u64 {
        self.per_kind.get(&kind).copied().unwrap_or(self.default_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn() -> Turn {
        Turn {
            id: TurnId(0),
            request: RequestId(0),
            participant: ParticipantId(0),
            side: Side::Room,
            kind: RequestKind::Intervention,
            item: None,
            grant: Grant::Chosen { position: 1 },
            forced: false,
            waited_ms: 0,
            granted_at: Timestamp(10_000),
            limit_ms: 60_000,
            extended_ms: 0,
            paused_at: None,
            paused_ms: 0,
            ended_at: None,
            ending: None,
            text_shown: false,
        }
    }

    #[test]
    fn clock_counts_down_pauses_and_goes_into_overtime() {
        let mut t = turn();
        assert_eq!(t.remaining_ms(Timestamp(40_000)), 30_000);
        t.paused_at = Some(Timestamp(40_000));
        assert_eq!(
            t.remaining_ms(Timestamp(99_000)),
            30_000,
            "paused clock stands still"
        );
        t.paused_at = None;
        t.paused_ms = 20_000;
        assert_eq!(t.remaining_ms(Timestamp(60_000)), 30_000);
        t.extended_ms = 30_000;
        assert_eq!(t.remaining_ms(Timestamp(60_000)), 60_000);
        assert_eq!(
            t.remaining_ms(Timestamp(130_000)),
            -10_000,
            "overtime is negative"
        );
        t.ended_at = Some(Timestamp(70_000));
        assert_eq!(t.spoken_ms(Timestamp(999_000)), 40_000);
    }

    #[test]
    fn per_kind_limits_override_the_default() {
        let l = TimeLimits::default();
        assert_eq!(l.for_kind(RequestKind::PointOfOrder), 60_000);
        assert_eq!(l.for_kind(RequestKind::Question), 180_000);
    }
}
