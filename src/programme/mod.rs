//! A whole event: rooms, and a programme of sessions placed in them (`docs/event.md`).
//!
//! A room has a permanent display link; the programme says which session is on in each room at
//! each time. Every programme entry is a normal session, created through the hub as the API's
//! `POST /api/sessions` creates one; the programme only adds where and when. [`Programme`] is
//! plain data with the pure rules (what is on in a room at a time); [`Registry`] holds the
//! current programme for the routes and writes it through its store; `import` turns a CSV or
//! iCalendar file into a plan, refused row by row, applied all or nothing.

mod csv;
mod follow;
pub mod html;
mod ics;
pub mod igf;
mod import;
pub mod odt;
mod registry;
mod store;
mod when;

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::ids::SessionId;
use crate::queue::Timestamp;

pub use csv::{export_csv, parse_csv};
pub use ics::parse_ics;
pub use import::{Change, Plan, Refused, Row};
pub use registry::{DeleteError, ImportError, NewRoom, Registry, RoomError};
pub use store::ProgrammeStore;
pub use when::zone;

/// A room's id: a random UUID v4, shown as 32 hex digits. It never changes, so the room's
/// display link is printed once and stays on the projector for the whole event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId(pub uuid::Uuid);

impl RoomId {
    /// A fresh random id.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4())
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.simple())
    }
}

impl FromStr for RoomId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Self)
    }
}

impl schemars::JsonSchema for RoomId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RoomId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A room's id: 32 lowercase hex digits.",
            "type": "string",
            "pattern": "^[0-9a-f]{32}$"
        })
    }
}

impl Serialize for RoomId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A room of the event.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Room {
    /// Its permanent id.
    pub id: RoomId,
    /// Its name, as the programme file spells it (matched without regard to case).
    pub name: String,
    /// Seats.
    pub capacity: u32,
    /// A remote hub's room (its head count speaks as one hub participant).
    pub hub: bool,
}

/// One programme entry: a session, in a room, from `start` to `end`.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slot {
    /// The stable id the programme file gives it (a CSV `id`, an iCalendar `UID`): a re-import
    /// updates the entry with this id instead of adding another.
    pub external_id: String,
    /// The title as the programme lists it.
    pub title: String,
    /// Where.
    pub room: RoomId,
    /// When it starts (server ms).
    pub start: Timestamp,
    /// When it ends (server ms), after `start`.
    pub end: Timestamp,
    /// The session it is.
    pub session: SessionId,
}

/// The rooms and the programme, as one value: what the store keeps and the routes read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Programme {
    /// Rooms, in the order they were defined.
    pub rooms: Vec<Room>,
    /// Entries, by room and start.
    pub slots: Vec<Slot>,
}

/// What a room shows at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnAir<'a> {
    /// The session on now, if any.
    pub on: Option<&'a Slot>,
    /// The next one in the room, if any.
    pub next: Option<&'a Slot>,
    /// When the answer changes next by the clock (the end of `on`, else the start of `next`); a
    /// chair's end changes it earlier.
    pub switch_at: Option<Timestamp>,
}

impl Programme {
    /// The room called `name`, compared without regard to case or surrounding space.
    pub fn room_named(&self, name: &str) -> Option<&Room> {
        let name = name.trim();
        self.rooms
            .iter()
            .find(|r| r.name.to_lowercase() == name.to_lowercase())
    }

    /// The room `id`.
    pub fn room(&self, id: RoomId) -> Option<&Room> {
        self.rooms.iter().find(|r| r.id == id)
    }

    /// The entry with this external id.
    pub fn slot(&self, external_id: &str) -> Option<&Slot> {
        self.slots.iter().find(|s| s.external_id == external_id)
    }

    /// Sort the entries by room (in room order) and start, as they are listed and exported.
    pub fn sort(&mut self) {
        let order: std::collections::HashMap<RoomId, usize> = self
            .rooms
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id, i))
            .collect();
        self.slots.sort_by_key(|s| {
            (
                order.get(&s.room).copied().unwrap_or(usize::MAX),
                s.start,
                s.external_id.clone(),
            )
        });
    }

    /// What room `room` shows at `now`: the session whose time it is and that its chair has
    /// not ended, and the next one. `ended` says whether a session was ended (by its chair or
    /// the organizer); an ended session is skipped, so the room moves on to the next at once.
    pub fn on_air(
        &self,
        room: RoomId,
        now: Timestamp,
        ended: impl Fn(SessionId) -> bool,
    ) -> OnAir<'_> {
        let mut in_room: Vec<&Slot> = self.slots.iter().filter(|s| s.room == room).collect();
        in_room.sort_by_key(|s| s.start);
        let on = in_room
            .iter()
            .copied()
            .find(|s| s.start <= now && now < s.end && !ended(s.session));
        let next = in_room
            .iter()
            .copied()
            .find(|s| s.start > now && !ended(s.session));
        let switch_at = on.map(|s| s.end).or(next.map(|s| s.start));
        OnAir {
            on,
            next,
            switch_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(id: &str, room: RoomId, start: u64, end: u64) -> Slot {
        Slot {
            external_id: id.into(),
            title: id.into(),
            room,
            start: Timestamp(start),
            end: Timestamp(end),
            session: SessionId::random(),
        }
    }

    #[test]
    fn a_room_shows_the_session_of_its_time_then_the_next_and_skips_an_ended_one() {
        let (a, b) = (RoomId::random(), RoomId::random());
        let p = Programme {
            rooms: vec![],
            slots: vec![
                slot("s2", a, 200, 300),
                slot("s1", a, 100, 200),
                slot("x", b, 0, 1_000),
            ],
        };
        let none = |_| false;
        let early = p.on_air(a, Timestamp(50), none);
        assert_eq!(early.on, None);
        assert_eq!(early.next.unwrap().external_id, "s1");
        assert_eq!(early.switch_at, Some(Timestamp(100)));

        let first = p.on_air(a, Timestamp(150), none);
        assert_eq!(first.on.unwrap().external_id, "s1");
        assert_eq!(first.next.unwrap().external_id, "s2");
        assert_eq!(first.switch_at, Some(Timestamp(200)));

        // The clock: at the end of s1, s2 is on (end is exclusive).
        assert_eq!(
            p.on_air(a, Timestamp(200), none).on.unwrap().external_id,
            "s2"
        );
        // The chair ended s1 early: the room shows s2 as next, not s1.
        let s1 = p.slot("s1").unwrap().session;
        let ended = p.on_air(a, Timestamp(150), |s| s == s1);
        assert_eq!(ended.on, None);
        assert_eq!(ended.next.unwrap().external_id, "s2");
        // After the last one: nothing.
        let late = p.on_air(a, Timestamp(300), none);
        assert_eq!((late.on, late.next, late.switch_at), (None, None, None));
    }
}
