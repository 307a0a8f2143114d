//! Where the rooms and the programme are kept: in memory, in the SQLite database beside the
//! event log (two tables of their own, created if missing, outside the log's schema versions),
//! or nowhere yet in a cluster.
//!
//! The programme is small (thousands of rows at most) and changes only on an import, so it is
//! written whole, in one transaction: a crash leaves the old programme or the new, never half.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, params};

use super::{Programme, Room, RoomId, Slot};
use crate::queue::Timestamp;
use crate::store::StoreError;

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
    /// Not supported by this event log (a NATS cluster, for now).
    Unsupported,
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

    /// The stored programme (empty for memory).
    pub fn load(&self) -> Result<Programme, StoreError> {
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

    /// Replace the stored programme with `p`, in one transaction.
    pub async fn save(&self, p: Arc<Programme>) -> Result<(), StoreError> {
        match self {
            Self::Memory => Ok(()),
            Self::Unsupported => Err(io("not supported by this store")),
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
