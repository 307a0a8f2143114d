//! Participants: the people (and remote hubs) a session knows.

use serde::{Deserialize, Serialize};

use super::{Actor, RequestId, Timestamp};

/// A participant's number within its session, assigned in join order from zero.
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
pub struct ParticipantId(pub u32);

/// Where a participant takes part from. Onsite means "was in the room" (they joined with the
/// room's rotating code); a hub is a group watching together elsewhere, speaking through one
/// person.
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
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// In the room.
    Onsite,
    /// Alone, online.
    Online,
    /// A remote hub: one entry speaking for `head_count` people.
    Hub,
}

/// The two sides the `alternate` policy balances: the room, and everyone remote.
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
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Onsite participants.
    Room,
    /// Online participants and hubs.
    Remote,
}

impl Side {
    /// The other side.
    pub const fn other(self) -> Side {
        match self {
            Side::Room => Side::Remote,
            Side::Remote => Side::Room,
        }
    }
}

impl Modality {
    /// The side of the room this modality speaks from.
    pub const fn side(self) -> Side {
        match self {
            Modality::Onsite => Side::Room,
            Modality::Online | Modality::Hub => Side::Remote,
        }
    }
}

/// The IGF's stakeholder groups, self-declared and optional.
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
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum StakeholderGroup {
    Government,
    PrivateSector,
    CivilSociety,
    TechnicalCommunity,
    Academia,
    IntergovernmentalOrganization,
    Other,
}

/// Self-declared gender, optional, used only in aggregate (never shown per person).
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
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Gender {
    Woman,
    Man,
    NonBinary,
    SelfDescribed,
}

/// What a participant says about themselves when joining (or what a moderator enters for them).
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Display name.
    pub name: String,
    /// Country for governments, organisation otherwise; may be empty.
    pub affiliation: String,
    /// Where they take part from.
    pub modality: Modality,
    /// People this entry speaks for: 1, or a hub's head count.
    pub head_count: u32,
    /// Optional stakeholder group.
    pub stakeholder: Option<StakeholderGroup>,
    /// Optional self-declared gender, for aggregate statistics only.
    pub gender: Option<Gender>,
    /// Optional preferred language (a BCP 47 tag such as `fr` or `ar`).
    pub language: Option<String>,
}

impl Profile {
    /// A profile with only the required fields; the rest default to "not declared".
    pub fn new(
        name: impl Into<String>,
        affiliation: impl Into<String>,
        modality: Modality,
    ) -> Self {
        Self {
            name: name.into(),
            affiliation: affiliation.into(),
            modality,
            head_count: 1,
            stakeholder: None,
            gender: None,
            language: None,
        }
    }
}

/// A participant as the session knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// Their number in the session.
    pub id: ParticipantId,
    /// What they (or a moderator) said about them.
    pub profile: Profile,
    /// When they joined.
    pub joined_at: Timestamp,
    /// Who added them: themselves, or a moderator by proxy.
    pub joined_by: Actor,
    /// Their open request (waiting, ready, parked or speaking), if any. One at most.
    pub open_request: Option<RequestId>,
    /// How many turns they have had in this session.
    pub turns: u32,
    /// Removed by a moderator: their link no longer works.
    pub removed: bool,
    /// The name folded for comparison (see `names::fold`), kept so a join compares without
    /// folding everyone's name again.
    pub folded_name: String,
    /// When they last raised their hand (or rejoined) themselves, oldest first; at most
    /// [`RAISE_BURST`](super::RAISE_BURST) times are kept, for the raise throttle.
    pub recent_raises: Vec<super::Timestamp>,
}
