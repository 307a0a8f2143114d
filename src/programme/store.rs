//! Where the rooms and the programme are kept: in memory, in the SQLite database beside the
//! event log (two tables of their own, created if missing, outside the log's schema versions),
//! or on a NATS cluster's stream (one message per version, `store::NatsLog::write_programme`).
//!
//! The programme is small (thousands of rows at most) and changes only on an import, so it is
//! written whole, in one transaction: a crash leaves the old programme or the new, never half.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use super::{Programme, Room, RoomId, Slot};
use crate::queue::Timestamp;
use crate::store::{NatsLog, ProgrammeWriteError, StoreError};

/// The event log's database file in the data directory (`store::sqlite::FILE`).
const DB_FILE: &str = "rostrum.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS programme_rooms (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    hub INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS programme_slots (
    external_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    room TEXT NOT NULL REFERENCES programme_rooms(id),
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    session TEXT NOT NULL
);";

/// The programme's store.
#[derive(Clone)]
pub enum ProgrammeStore {
    /// In memory: lost at exit (the memory event log's companion).
    Memory,
    /// In the data directory's database. The connection is used only on blocking threads and
    /// never across an await, so a plain mutex is enough.
    Sqlite(Arc<Mutex<Connection>>),
    /// On the NATS cluster's stream, shared by every node; `version` is the stream sequence of
    /// the version this node has (0: none yet).
    Nats {
        /// The cluster's log.
        log: Arc<NatsLog>,
        /// The version this node has.
        version: Arc<AtomicU64>,
    },
}

/// The programme as one NATS message: rooms once, entries naming their room by position.
#[derive(Serialize, Deserialize)]
struct Stored {
    /// The format's version.
    v: u32,
    rooms: Vec<StoredRoom>,
    /// External id, title, room (its position in `rooms`), start, end, session.
    slots: Vec<(String, String, usize, u64, u64, String)>,
}

#[derive(Serialize, Deserialize)]
struct StoredRoom {
    id: String,
    name: String,
    capacity: u32,
    hub: bool,
}

/// The programme as stored on NATS.
fn encode(p: &Programme) -> Vec<u8> {
    let at: std::collections::HashMap<RoomId, usize> =
        p.rooms.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let stored = Stored {
        v: 1,
        rooms: p
            .rooms
            .iter()
            .map(|r| StoredRoom {
                id: r.id.to_string(),
                name: r.name.clone(),
                capacity: r.capacity,
                hub: r.hub,
            })
            .collect(),
        slots: p
            .slots
            .iter()
            .filter_map(|s| {
                Some((
                    s.external_id.clone(),
                    s.title.clone(),
                    *at.get(&s.room)?,
                    s.start.0,
                    s.end.0,
                    s.session.to_string(),
                ))
            })
            .collect(),
    };
    serde_json::to_vec(&stored).expect("a programme serializes")
}

/// A programme read from NATS, checked: every id parses, every entry's room exists.
pub(super) fn decode(bytes: &[u8]) -> Result<Programme, StoreError> {
    let bad = |what: String| StoreError::io(format!("the cluster's programme: {what}"));
    let stored: Stored = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    if stored.v != 1 {
        return Err(bad(format!(
            "format {} is not one this version reads",
            stored.v
        )));
    }
    let rooms = stored
        .rooms
        .into_iter()
        .map(|r| {
            Ok(Room {
                id: r
                    .id
                    .parse()
                    .map_err(|_| bad(format!("room id {:?}", r.id)))?,
                name: r.name,
                capacity: r.capacity,
                hub: r.hub,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let slots = stored
        .slots
        .into_iter()
        .map(|(external_id, title, room, start, end, session)| {
            Ok(Slot {
                room: rooms
                    .get(room)
                    .ok_or_else(|| bad(format!("{external_id:?} names no room")))?
                    .id,
                session: session
                    .parse()
                    .map_err(|_| bad(format!("session id {session:?}")))?,
                external_id,
                title,
                start: Timestamp(start),
                end: Timestamp(end),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut p = Programme { rooms, slots };
    p.sort();
    Ok(p)
}

fn io(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
    StoreError::io_from(e)
}

impl ProgrammeStore {
    /// The store in data directory `dir`, its tables created if missing.
    pub fn sqlite(dir: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(dir.join(DB_FILE)).map_err(io)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(io)?;
        conn.execute_batch(SCHEMA).map_err(io)?;
        Ok(Self::Sqlite(Arc::new(Mutex::new(conn))))
    }

    /// The store on a NATS cluster's stream.
    pub fn nats(log: Arc<NatsLog>) -> Self {
        Self::Nats {
            log,
            version: Arc::default(),
        }
    }

    /// The stored programme as it is now, from any store.
    pub async fn load_latest(&self) -> Result<Programme, StoreError> {
        let Self::Nats { log, version } = self else {
            return self.load();
        };
        let Some((bytes, seq)) = log.programme().await? else {
            return Ok(Programme::default());
        };
        let p = decode(&bytes)?;
        version.fetch_max(seq, Ordering::SeqCst);
        Ok(p)
    }

    /// The stored programme (empty for memory), from the local stores (`load_latest` reads
    /// every store).
    pub fn load(&self) -> Result<Programme, StoreError> {
        if matches!(self, Self::Nats { .. }) {
            return Err(io("a cluster's programme is read with load_latest"));
        }
        let Self::Sqlite(conn) = self else {
            return Ok(Programme::default());
        };
        let conn = conn
            .lock()
            .map_err(|_| io("the programme store's lock is poisoned"))?;
        let bad = |what: &str| StoreError::io(format!("a stored programme {what} is not an id"));
        let mut rooms = Vec::new();
        let mut stmt = conn
            .prepare("SELECT id, name, capacity, hub FROM programme_rooms ORDER BY position")
            .map_err(io)?;
        let mut rows = stmt.query([]).map_err(io)?;
        while let Some(r) = rows.next().map_err(io)? {
            let id: String = r.get(0).map_err(io)?;
            rooms.push(Room {
                id: id.parse().map_err(|_| bad("room"))?,
                name: r.get(1).map_err(io)?,
                capacity: r.get(2).map_err(io)?,
                hub: r.get(3).map_err(io)?,
            });
        }
        let mut slots = Vec::new();
        let mut stmt = conn
            .prepare(
                "SELECT external_id, title, room, start_ms, end_ms, session FROM programme_slots",
            )
            .map_err(io)?;
        let mut rows = stmt.query([]).map_err(io)?;
        while let Some(r) = rows.next().map_err(io)? {
            let room: String = r.get(2).map_err(io)?;
            let session: String = r.get(5).map_err(io)?;
            let ms = |i| {
                r.get::<_, i64>(i)
                    .map(|v| Timestamp(v.max(0).cast_unsigned()))
            };
            slots.push(Slot {
                external_id: r.get(0).map_err(io)?,
                title: r.get(1).map_err(io)?,
                room: room.parse::<RoomId>().map_err(|_| bad("room"))?,
                start: ms(3).map_err(io)?,
                end: ms(4).map_err(io)?,
                session: session.parse().map_err(|_| bad("session"))?,
            });
        }
        let mut p = Programme { rooms, slots };
        p.sort();
        Ok(p)
    }

    /// Replace the stored programme with `p`, in one transaction (on NATS: one message,
    /// refused if another node wrote since this node's version).
    pub async fn save(&self, p: Arc<Programme>) -> Result<(), ProgrammeWriteError> {
        match self {
            Self::Memory => Ok(()),
            Self::Nats { log, version } => {
                let seq = log
                    .write_programme(encode(&p), version.load(Ordering::SeqCst))
                    .await?;
                version.fetch_max(seq, Ordering::SeqCst);
                Ok(())
            }
            Self::Sqlite(conn) => {
                let conn = conn.clone();
                tokio::task::spawn_blocking(move || {
                    let mut conn = conn
                        .lock()
                        .map_err(|_| io("the programme store's lock is poisoned"))?;
                    write(&mut conn, &p).map_err(io)
                })
                .await
                .map_err(io)?
                .map_err(Into::into)
            }
        }
    }
}

fn write(conn: &mut Connection, p: &Programme) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM programme_slots", [])?;
    tx.execute("DELETE FROM programme_rooms", [])?;
    {
        let mut room = tx.prepare(
            "INSERT INTO programme_rooms (id, position, name, capacity, hub) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for (i, r) in p.rooms.iter().enumerate() {
            room.execute(params![
                r.id.to_string(),
                i64::try_from(i).unwrap_or(i64::MAX),
                r.name,
                r.capacity,
                r.hub
            ])?;
        }
        let mut slot = tx.prepare(
            "INSERT INTO programme_slots (external_id, title, room, start_ms, end_ms, session) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let ms = |t: Timestamp| i64::try_from(t.0).unwrap_or(i64::MAX);
        for s in &p.slots {
            slot.execute(params![
                s.external_id,
                s.title,
                s.room.to_string(),
                ms(s.start),
                ms(s.end),
                s.session.to_string()
            ])?;
        }
    }
    tx.commit()
}
