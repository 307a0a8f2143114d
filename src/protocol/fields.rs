//! The fields commands share: a profile as a client sends it, the defaults of omitted fields,
//! and `seen`, the floor as a moderator saw it.

use serde::{Deserialize, Deserializer};

use crate::queue::{FloorSeen, Gender, Modality, Profile, RequestKind, StakeholderGroup, TurnId};

/// A profile as a client sends it. Omitted fields take their defaults; unknown ones are refused.
#[derive(schemars::JsonSchema, Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileIn {
    /// Display name.
    pub name: String,
    /// Country or organisation.
    #[serde(default)]
    pub affiliation: String,
    /// Onsite, online or hub (default online).
    #[serde(default = "online")]
    pub modality: Modality,
    /// A hub's head count (default 1).
    #[serde(default = "one")]
    pub head_count: u32,
    /// Stakeholder group.
    #[serde(default)]
    pub stakeholder: Option<StakeholderGroup>,
    /// Self-declared gender, for aggregate statistics only.
    #[serde(default)]
    pub gender: Option<Gender>,
    /// Preferred language.
    #[serde(default)]
    pub language: Option<String>,
}

pub(super) fn online() -> Modality {
    Modality::Online
}
pub(super) fn one() -> u32 {
    1
}
pub(super) fn intervention() -> RequestKind {
    RequestKind::Intervention
}
pub(super) fn thirty_seconds() -> u64 {
    30_000
}

impl From<ProfileIn> for Profile {
    fn from(p: ProfileIn) -> Self {
        Profile {
            name: p.name,
            affiliation: p.affiliation,
            modality: p.modality,
            head_count: p.head_count,
            stakeholder: p.stakeholder,
            gender: p.gender,
            language: p.language,
        }
    }
}

/// `seen` must be present: `null` (nobody had the floor) or the turn id the moderator saw.
pub(super) fn seen<'de, D: Deserializer<'de>>(d: D) -> Result<FloorSeen, D::Error> {
    Ok(match Option::<u32>::deserialize(d)? {
        None => FloorSeen::Empty,
        Some(t) => FloorSeen::Turn(TurnId(t)),
    })
}

/// `seen`'s schema: required, and a turn id or `null`.
pub(super) fn seen_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "The floor's `turn` as the moderator saw it, or null if nobody had the floor.",
        "type": ["integer", "null"],
        "minimum": 0
    })
}
