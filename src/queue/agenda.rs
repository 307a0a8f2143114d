//! Agenda items (the session's policy questions) and the links moderators share.

use serde::{Deserialize, Serialize};

use super::{Actor, Profile, Timestamp};

/// One agenda item, optionally with a prepared roster of speakers (the panelists' introductory
/// round) that the chair walks through, in order, before the floor opens to everyone.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgendaItem {
    /// The item's title or policy question.
    pub title: String,
    /// Prepared speakers, in speaking order.
    #[serde(default)]
    pub roster: Vec<Profile>,
}

/// A shared link's number within its session.
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
pub struct LinkId(pub u32);

/// A link a moderator shared with everyone (input presentations, the session page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Its number.
    pub id: LinkId,
    /// What it is.
    pub title: String,
    /// Where it points (http or https).
    pub url: String,
    /// Who posted it.
    pub posted_by: Actor,
    /// When.
    pub posted_at: Timestamp,
}
