//! The event's current rooms and programme, shared by the routes: read without waiting, changed
//! one import at a time, written to the store before anyone sees the change.

use std::sync::{Arc, RwLock};

use futures_util::StreamExt;
use serde::Deserialize;

use super::import::{self, Plan, Refused, Row};
use super::{Programme, Room, RoomId, Slot, store::ProgrammeStore};
use crate::hub::{CreateError, Hub, NewSession};
use crate::queue::{TimeLimits, Timestamp};
use crate::store::{ProgrammeWriteError, StoreError};

/// Most rooms an event may have.
pub const MAX_ROOMS: usize = 500;
/// The longest room name.
pub const MAX_ROOM_NAME_CHARS: usize = 100;
/// Sessions created at once by an import (their first events share the store's group commit).
const CREATE_AT_ONCE: usize = 32;

/// A room as the organizer defines it; an existing room of the same name (case ignored) is
/// updated and keeps its id and display link.
#[derive(schemars::JsonSchema, Debug, Clone, Deserialize)]
pub struct NewRoom {
    /// Its name.
    pub name: String,
    /// Seats.
    #[serde(default)]
    pub capacity: u32,
    /// A remote hub's room.
    #[serde(default)]
    pub hub: bool,
}

/// Why rooms were not changed.
#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    /// A room is refused (`bad_room`, `duplicate_room`, `too_many_rooms`).
    #[error("{message}")]
    Invalid {
        /// A stable code.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The programme was not written: another node wrote first, or it is too large (NATS).
    #[error(transparent)]
    Write(#[from] ProgrammeWriteError),
}

/// Why a room or a programme entry was not deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    /// No such room, or no entry with this id.
    #[error("not found")]
    NotFound,
    /// The room still has programme entries: delete them or move them to another room first.
    #[error(
        "the room has {count} programme entries (the first: {first}); delete or move them first"
    )]
    RoomInUse {
        /// How many.
        count: usize,
        /// The first one's external id.
        first: String,
    },
    /// The entry's session is on in its room now and not ended.
    #[error("{external_id} is on now (until {until}); end its session first, or wait for its end")]
    OnNow {
        /// The entry.
        external_id: String,
        /// Its end (RFC 3339).
        until: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The programme was not written: another node wrote first, or it is too large (NATS).
    #[error(transparent)]
    Write(#[from] ProgrammeWriteError),
}

/// Why an import was not carried out (a plan with refused rows is an answer, not an error).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The store failed; sessions created before the failure are not in the programme.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The programme was not written (NATS); sessions created for it are not in the programme.
    #[error(transparent)]
    Write(#[from] ProgrammeWriteError),
    /// The core refused a session the plan had checked (a row the import's checks missed).
    #[error(transparent)]
    Refused(#[from] crate::queue::Refusal),
}

/// The rooms and programme of this service.
pub struct Registry {
    pub(super) current: RwLock<Arc<Programme>>,
    pub(super) store: ProgrammeStore,
    /// One change at a time: an import reads the programme, creates sessions, and writes (and,
    /// on a cluster, another node's version is taken between two changes, `follow.rs`).
    pub(super) writing: tokio::sync::Mutex<()>,
}

impl Registry {
    /// The registry over `store`, loaded from it.
    pub fn open(store: ProgrammeStore) -> Result<Self, StoreError> {
        Ok(Self {
            current: RwLock::new(Arc::new(store.load()?)),
            store,
            writing: tokio::sync::Mutex::new(()),
        })
    }

    /// The registry over `store`, loaded from it as it is now (on a cluster, the version the
    /// other nodes wrote).
    pub async fn open_latest(store: ProgrammeStore) -> Result<Self, StoreError> {
        Ok(Self {
            current: RwLock::new(Arc::new(store.load_latest().await?)),
            store,
            writing: tokio::sync::Mutex::new(()),
        })
    }

    /// The programme now.
    pub fn get(&self) -> Arc<Programme> {
        // Held for a pointer copy only; a poisoned lock still holds a whole programme.
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    async fn publish(&self, next: Programme) -> Result<Arc<Programme>, ProgrammeWriteError> {
        let next = Arc::new(next);
        self.store.save(next.clone()).await?;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = next.clone();
        Ok(next)
    }

    /// Add rooms, or update those of the same name; every room keeps its id.
    pub async fn set_rooms(&self, rooms: Vec<NewRoom>) -> Result<Arc<Programme>, RoomError> {
        let _writing = self.writing.lock().await;
        let mut next = (*self.get()).clone();
        let mut named = std::collections::HashSet::new();
        for new in rooms {
            let name = new.name.trim().to_owned();
            let invalid = |code, message: String| RoomError::Invalid { code, message };
            if name.is_empty()
                || name.chars().count() > MAX_ROOM_NAME_CHARS
                || name.chars().any(char::is_control)
            {
                return Err(invalid(
                    "bad_room",
                    format!(
                        "a room's name is 1 to {MAX_ROOM_NAME_CHARS} characters, no control characters"
                    ),
                ));
            }
            import::cell_check("rooms", None, "name", &name)
                .map_err(|r| invalid("bad_room", format!("{name:?}: {}", r.message)))?;
            if !named.insert(name.to_lowercase()) {
                return Err(invalid(
                    "duplicate_room",
                    format!("{name:?} is listed twice"),
                ));
            }
            let found = next.room_named(&name).map(|r| r.id);
            match found.and_then(|id| next.rooms.iter_mut().find(|r| r.id == id)) {
                Some(room) => {
                    room.name = name;
                    room.capacity = new.capacity;
                    room.hub = new.hub;
                }
                None => next.rooms.push(Room {
                    id: RoomId::random(),
                    name,
                    capacity: new.capacity,
                    hub: new.hub,
                }),
            }
            if next.rooms.len() > MAX_ROOMS {
                return Err(invalid(
                    "too_many_rooms",
                    format!("at most {MAX_ROOMS} rooms"),
                ));
            }
        }
        next.sort();
        Ok(self.publish(next).await?)
    }

    /// Delete room `id`, which must have no programme entry left (a session in it would lose
    /// where it is shown). Its display and poster links stop working; a room defined again
    /// under the same name gets a new id and new links.
    pub async fn delete_room(&self, id: RoomId) -> Result<Arc<Programme>, DeleteError> {
        let _writing = self.writing.lock().await;
        let mut next = (*self.get()).clone();
        if next.room(id).is_none() {
            return Err(DeleteError::NotFound);
        }
        let mut in_room = next.slots.iter().filter(|s| s.room == id);
        if let Some(first) = in_room.next() {
            return Err(DeleteError::RoomInUse {
                count: 1 + in_room.count(),
                first: first.external_id.clone(),
            });
        }
        next.rooms.retain(|r| r.id != id);
        let next = self.publish(next).await?;
        tracing::info!(room = %id, "room deleted");
        Ok(next)
    }

    /// Delete the programme entry `external_id`, unless its session is on in its room now (its
    /// time has come and nobody ended it). The session itself stays, with its log, links and
    /// report: it only leaves the programme (and the room's display).
    pub async fn delete_entry(
        &self,
        hub: &Arc<Hub>,
        external_id: &str,
        now: Timestamp,
    ) -> Result<Slot, DeleteError> {
        let _writing = self.writing.lock().await;
        let mut next = (*self.get()).clone();
        let at = next
            .slots
            .iter()
            .position(|s| s.external_id == external_id)
            .ok_or(DeleteError::NotFound)?;
        let slot = next.slots[at].clone();
        if slot.start <= now && now < slot.end && !ended(hub, slot.session).await? {
            return Err(DeleteError::OnNow {
                external_id: slot.external_id,
                until: super::when::rfc3339(slot.end),
            });
        }
        next.slots.remove(at);
        self.publish(next).await?;
        tracing::info!(entry = %slot.external_id, session = %slot.session, "programme entry deleted");
        Ok(slot)
    }

    /// Plan the import of `rows` and, unless `dry_run` or a row is refused, carry it out: each
    /// new entry's session is created through the hub, then the programme is written in one
    /// transaction. The answer is the plan, `applied` when carried out.
    pub async fn import(
        &self,
        hub: &Hub,
        rows: Vec<Result<Row, Refused>>,
        dry_run: bool,
        now: Timestamp,
    ) -> Result<Plan, ImportError> {
        let _writing = self.writing.lock().await;
        let current = self.get();
        let mut plan = import::plan(&current, rows, now);
        plan.dry_run = dry_run;
        if dry_run || !plan.refused.is_empty() {
            return Ok(plan);
        }
        let created = create_sessions(hub, &plan, now).await?;
        let mut next = (*current).clone();
        for (change, meta) in plan.create.iter_mut().zip(created) {
            change.session = Some(meta.id);
            next.slots.push(Slot {
                external_id: change.id.clone(),
                title: change.title.clone(),
                room: change.room_id,
                start: change.start,
                end: change.end,
                session: meta.id,
            });
        }
        for change in &plan.update {
            if let Some(slot) = next.slots.iter_mut().find(|s| s.external_id == change.id) {
                slot.title.clone_from(&change.title);
                slot.room = change.room_id;
                slot.start = change.start;
                slot.end = change.end;
            }
        }
        next.sort();
        self.publish(next).await?;
        plan.applied = true;
        tracing::info!(
            created = plan.create.len(),
            updated = plan.update.len(),
            unchanged = plan.unchanged,
            "programme imported"
        );
        Ok(plan)
    }
}

/// Whether session `id` has ended (a session missing from the store counts as ended: nothing
/// is on).
/// An actor that stopped while asked counts as not ended: the deletion is refused, and a retry
/// asks again.
async fn ended(hub: &Arc<Hub>, id: crate::ids::SessionId) -> Result<bool, StoreError> {
    let Some(handle) = hub.get(id).await? else {
        return Ok(true);
    };
    Ok(handle.summary().await.is_ok_and(|s| s.ended))
}

/// The sessions of `plan`'s new entries, created through the hub a few at once, in order; the
/// first failure stops the import (sessions created before it stay without an entry).
async fn create_sessions(
    hub: &Hub,
    plan: &Plan,
    now: Timestamp,
) -> Result<Vec<crate::store::SessionMeta>, ImportError> {
    let news: Vec<NewSession> = plan
        .create
        .iter()
        .map(|c| NewSession {
            title: c.row.title.clone(),
            policy: c.row.policy,
            limits: TimeLimits::default(),
            agenda: c.row.agenda.clone(),
        })
        .collect();
    let created: Vec<_> = futures_util::stream::iter(news)
        .map(|new| hub.create(new, now))
        .buffered(CREATE_AT_ONCE)
        .collect()
        .await;
    let mut metas = Vec::with_capacity(created.len());
    for (made, meta) in created.into_iter().enumerate() {
        metas.push(meta.map_err(|e| {
            tracing::error!(error = %e, made, "an import failed creating its sessions; the programme is unchanged");
            match e {
                CreateError::Store(e) => ImportError::Store(e),
                CreateError::Invalid(r) => ImportError::Refused(r),
            }
        })?);
    }
    Ok(metas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rooms_are_updated_by_name_and_keep_their_ids() {
        let r = Registry::open(ProgrammeStore::Memory).unwrap();
        let room = |name: &str, capacity| NewRoom {
            name: name.into(),
            capacity,
            hub: false,
        };
        let first = r.set_rooms(vec![room("Room 1", 10)]).await.unwrap();
        let again = r
            .set_rooms(vec![room(" room 1 ", 20), room("Room 2", 5)])
            .await
            .unwrap();
        assert_eq!(again.rooms.len(), 2);
        assert_eq!(again.rooms[0].id, first.rooms[0].id);
        assert_eq!(again.rooms[0].capacity, 20);
        for bad in ["", "=1+1", "a\u{7}b"] {
            assert!(matches!(
                r.set_rooms(vec![room(bad, 1)]).await,
                Err(RoomError::Invalid { .. })
            ));
        }
    }
}
