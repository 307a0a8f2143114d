//! Ordering policies, chosen per session by the chair, and the reasons the queue gives for
//! each position.

use serde::{Deserialize, Serialize};

use super::{Actor, Side};

/// How ordinary requests are ordered. Priority bands (point of order, direct reply, roster) and
/// the starvation guard apply on top of every policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "order", rename_all = "snake_case")]
pub enum Order {
    /// Server arrival order (the IGF default).
    Fifo,
    /// When both sides wait, turns alternate: `room` turns of the room, then `remote` turns of
    /// the remote side (1:1 is the historic ICANN public-forum rule).
    Alternate {
        /// Room turns per cycle.
        room: u8,
        /// Remote turns per cycle.
        remote: u8,
    },
    /// Participants who have not spoken yet in this session go first (progressive stack).
    FirstTimeFirst,
}

/// A session's ordering policy.
///
/// On the wire it is one flat object, `{"order", "room"?, "remote"?, "starvation_ms"?}`: an
/// omitted `starvation_ms` is the default guard ([`Policy::DEFAULT_STARVATION_MS`]) and `null`
/// turns it off, wherever a policy is given (the API, the CLI, `set_policy`). Unknown fields are
/// refused; serde's `flatten` cannot refuse them, hence a private struct of its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PolicyFields")]
pub struct Policy {
    /// The ordering of ordinary requests.
    #[serde(flatten)]
    pub order: Order,
    /// No ordinary request is passed over once it has waited this long; `None` disables the guard.
    pub starvation_ms: Option<u64>,
}

impl Default for Policy {
    /// FIFO with a 15-minute starvation guard.
    fn default() -> Self {
        Self {
            order: Order::Fifo,
            starvation_ms: Some(Policy::DEFAULT_STARVATION_MS),
        }
    }
}

impl schemars::JsonSchema for Policy {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Policy".into()
    }

    /// What the private `PolicyFields` reads, said per order (the derive cannot see `try_from`'s rules).
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let guard = schemars::json_schema!({
            "description": "No ordinary request is passed over once it has waited this long (ms); omitted: 900000, null: no guard.",
            "type": ["integer", "null"],
            "minimum": Policy::MIN_STARVATION_MS,
            "maximum": Policy::MAX_STARVATION_MS
        });
        let ratio =
            schemars::json_schema!({"type": "integer", "minimum": 1, "maximum": Policy::MAX_RATIO});
        schemars::json_schema!({
            "description": "How ordinary requests are ordered, and the starvation guard.",
            "oneOf": [
                {"type": "object", "additionalProperties": false, "required": ["order"],
                 "properties": {"order": {"const": "fifo"}, "starvation_ms": guard}},
                {"type": "object", "additionalProperties": false, "required": ["order"],
                 "properties": {"order": {"const": "first_time_first"}, "starvation_ms": guard}},
                {"type": "object", "additionalProperties": false, "required": ["order", "room", "remote"],
                 "properties": {"order": {"const": "alternate"}, "room": ratio, "remote": ratio,
                                "starvation_ms": guard}}
            ]
        })
    }
}

/// The names of the orders, for [`PolicyFields`].
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum OrderName {
    Fifo,
    Alternate,
    FirstTimeFirst,
}

/// A policy as it is read: every field it may have, and no other.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFields {
    order: OrderName,
    #[serde(default)]
    room: Option<u8>,
    #[serde(default)]
    remote: Option<u8>,
    #[serde(default = "default_guard")]
    starvation_ms: Option<u64>,
}

fn default_guard() -> Option<u64> {
    Some(Policy::DEFAULT_STARVATION_MS)
}

impl TryFrom<PolicyFields> for Policy {
    type Error = String;

    fn try_from(f: PolicyFields) -> Result<Self, String> {
        let order = match (f.order, f.room, f.remote) {
            (OrderName::Alternate, Some(room), Some(remote)) => Order::Alternate { room, remote },
            (OrderName::Alternate, _, _) => {
                return Err("order `alternate` needs `room` and `remote`".into());
            }
            (_, Some(_), _) | (_, _, Some(_)) => {
                return Err("`room` and `remote` belong to order `alternate` only".into());
            }
            (OrderName::Fifo, None, None) => Order::Fifo,
            (OrderName::FirstTimeFirst, None, None) => Order::FirstTimeFirst,
        };
        Ok(Policy {
            order,
            starvation_ms: f.starvation_ms,
        })
    }
}

impl Policy {
    /// The starvation guard when none is given: 15 minutes.
    pub const DEFAULT_STARVATION_MS: u64 = 15 * 60_000;
    /// Shortest starvation guard accepted (30 s).
    pub const MIN_STARVATION_MS: u64 = 30_000;
    /// Longest starvation guard accepted (four hours).
    pub const MAX_STARVATION_MS: u64 = 4 * 3_600_000;
    /// Largest turn count per side in an `alternate` cycle.
    pub const MAX_RATIO: u8 = 10;
}

/// Which side had the last ordinary turns, and how many in a row: the `alternate` policy's memory.
/// Kept under every policy, so switching to `alternate` mid-session knows who spoke last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alternation {
    /// The side of the last ordinary turn.
    pub last: Option<Side>,
    /// How many ordinary turns in a row that side has had.
    pub run: u32,
}

impl Alternation {
    /// The state after an ordinary turn of `side`.
    pub fn after(self, side: Side) -> Self {
        if self.last == Some(side) {
            Self {
                last: self.last,
                run: self.run.saturating_add(1),
            }
        } else {
            Self {
                last: Some(side),
                run: 1,
            }
        }
    }

    /// The side whose turn it is when both sides wait, or `None` before any ordinary turn.
    pub fn due(self, room: u8, remote: u8) -> Option<Side> {
        let last = self.last?;
        let allowed = match last {
            Side::Room => room,
            Side::Remote => remote,
        };
        Some(if self.run < u32::from(allowed) {
            last
        } else {
            last.other()
        })
    }
}

/// Why an entry stands where it stands: structured, so every console can translate it.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// A point of order goes ahead of everything.
    PointOfOrder,
    /// A direct reply to the current speaker goes ahead of ordinary requests.
    DirectReply,
    /// A prepared speaker of the agenda item, in roster order.
    Roster,
    /// It has waited longer than the starvation guard allows.
    Starved {
        /// How long it had waited.
        waited_ms: u64,
    },
    /// Server arrival order.
    Arrival,
    /// `first_time_first`: has not spoken yet in this session.
    FirstTime,
    /// `first_time_first`: has spoken before, so goes after first-time speakers.
    SpokenBefore,
    /// `alternate`: this slot belongs to its side because `after` spoke last (in the projected order).
    Alternating {
        /// The side of the turn just before this slot.
        after: Side,
    },
    /// A moderator placed it here.
    Moved {
        /// The moderator's role.
        by: Actor,
        /// Their reason, if they gave one.
        note: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternation_follows_the_ratio() {
        let a = Alternation::default();
        assert_eq!(
            a.due(1, 1),
            None,
            "nobody has spoken: the earlier arrival decides"
        );
        let a = a.after(Side::Room);
        assert_eq!(a.due(1, 1), Some(Side::Remote));
        assert_eq!(
            a.due(2, 1),
            Some(Side::Room),
            "2:1 gives the room a second turn"
        );
        let a = a.after(Side::Room);
        assert_eq!(a.due(2, 1), Some(Side::Remote));
        let a = a.after(Side::Remote);
        assert_eq!(
            a,
            Alternation {
                last: Some(Side::Remote),
                run: 1
            }
        );
        assert_eq!(a.due(2, 1), Some(Side::Room));
    }
}
