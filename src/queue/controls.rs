//! Session controls: the switches a moderator uses when a meeting is disrupted, and the end of
//! the session.

use serde::{Deserialize, Serialize};

/// A switch a moderator can turn on and off.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// No new participants may join by themselves (moderators can still add people).
    Lock,
    /// Participants can do nothing (not even join); moderators keep working.
    Suspend,
    /// Participants cannot change their names.
    RenameLock,
}

/// The controls' current settings, and whether the session has ended.
#[derive(
    schemars::JsonSchema, Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize,
)]
pub struct Controls {
    /// No new participants.
    pub locked: bool,
    /// Participant actions suspended.
    pub suspended: bool,
    /// Renaming locked.
    pub rename_locked: bool,
    /// The session has ended: everything is read-only for good.
    pub ended: bool,
}

impl Controls {
    /// The setting of `control`.
    pub fn get(&self, control: Control) -> bool {
        match control {
            Control::Lock => self.locked,
            Control::Suspend => self.suspended,
            Control::RenameLock => self.rename_locked,
        }
    }

    pub(crate) fn set(&mut self, control: Control, on: bool) {
        match control {
            Control::Lock => self.locked = on,
            Control::Suspend => self.suspended = on,
            Control::RenameLock => self.rename_locked = on,
        }
    }
}
