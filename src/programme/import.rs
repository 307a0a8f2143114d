//! A programme file's rows turned into a plan: what would be created, what updated, and every
//! row refused with its reason. A plan with any refusal is not applied at all.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::{Programme, RoomId};
use crate::ids::SessionId;
use crate::queue::{
    Actor, AgendaItem, Command, Modality, Order, Policy, Profile, State, TimeLimits, Timestamp,
    decide,
};

/// The longest session accepted (a whole day): anything longer is a typo in a time.
pub const MAX_SESSION_MS: u64 = 24 * 3_600_000;
/// The longest external id accepted.
pub const MAX_ID_CHARS: usize = 200;
/// Most rows in one file.
pub const MAX_ROWS: usize = 5_000;

/// One session as a programme file gives it, its cells parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Where in the file (`line 4`, `event 3`), for messages.
    pub at: String,
    /// The stable external id.
    pub external_id: String,
    /// Title.
    pub title: String,
    /// The room's name.
    pub room: String,
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// Ordering policy for a new session.
    pub policy: Policy,
    /// Agenda (with rosters) for a new session.
    pub agenda: Vec<AgendaItem>,
}

/// A row (or the whole file) refused, and why.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refused {
    /// Where in the file (`line 4`, `event 3`, `file`).
    pub at: String,
    /// The row's external id, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A stable code: `bad_file`, `bad_row`, `formula_cell`, `bad_id`, `duplicate_id`,
    /// `unknown_room`, `bad_time`, `overlap`, `too_long`, `bad_policy`, or a session refusal's code.
    pub code: &'static str,
    /// What is wrong, for people.
    pub message: String,
}

impl Refused {
    /// A refusal of the row at `at`.
    pub fn new(
        at: impl Into<String>,
        id: Option<&str>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            at: at.into(),
            id: id.filter(|s| !s.is_empty()).map(str::to_owned),
            code,
            message: message.into(),
        }
    }
}

/// One entry the plan creates or updates.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The external id.
    pub id: String,
    /// Title.
    pub title: String,
    /// The room's name.
    pub room: String,
    /// Start (server ms).
    pub start: Timestamp,
    /// End (server ms).
    pub end: Timestamp,
    /// The session, for an update (a created one has none until applied).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionId>,
    /// What an update changes: `title`, `room`, `start`, `end`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<&'static str>,
    #[serde(skip)]
    pub(super) row: Row,
    #[serde(skip)]
    pub(super) room_id: RoomId,
}

/// What an import would do (a dry run) or did.
#[derive(schemars::JsonSchema, Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Asked as a dry run: nothing was changed.
    pub dry_run: bool,
    /// The plan was carried out.
    pub applied: bool,
    /// New entries (each a new session).
    pub create: Vec<Change>,
    /// Entries whose title, room or times change.
    pub update: Vec<Change>,
    /// Rows equal to their entry.
    pub unchanged: usize,
    /// Refused rows: any refusal and nothing is applied.
    pub refused: Vec<Refused>,
}

/// Refuse a cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first).
pub fn cell_check(at: &str, id: Option<&str>, column: &str, value: &str) -> Result<(), Refused> {
    match value.chars().next() {
        Some(c @ ('=' | '+' | '-' | '@' | '\t' | '\r')) => Err(Refused::new(
            at,
            id,
            "formula_cell",
            format!(
                "the {column} cell starts with {c:?}, which spreadsheets run as a formula; \
                 reword it"
            ),
        )),
        _ => Ok(()),
    }
}

/// A policy cell: empty (FIFO), `fifo`, `alternate` (1:1), `alternate 2:1`, `first_time_first`.
pub fn policy(cell: &str) -> Result<Policy, String> {
    let cell = cell.trim().to_lowercase();
    let order = match cell.split_whitespace().collect::<Vec<_>>().as_slice() {
        [] | ["fifo"] => Order::Fifo,
        ["first_time_first"] => Order::FirstTimeFirst,
        ["alternate"] => Order::Alternate { room: 1, remote: 1 },
        ["alternate", ratio] => {
            let (r, m) = ratio
                .split_once(':')
                .ok_or_else(|| format!("{ratio:?} is not a ratio such as 2:1"))?;
            let n = |s: &str| {
                s.parse::<u8>()
                    .map_err(|_| format!("{ratio:?} is not a ratio"))
            };
            Order::Alternate {
                room: n(r)?,
                remote: n(m)?,
            }
        }
        _ => {
            return Err(format!(
                "unknown policy {cell:?}: use fifo, alternate, alternate 2:1 or first_time_first"
            ));
        }
    };
    Ok(Policy {
        order,
        ..Policy::default()
    })
}

/// The agenda cells: items separated by `|`; the roster cell gives each item's prepared
/// speakers, `|` between items and `;` between speakers, each `Name` or `Name (Affiliation)`.
pub fn agenda(items: &str, roster: &str) -> Vec<AgendaItem> {
    let rosters: Vec<&str> = roster.split('|').collect();
    items
        .split('|')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .enumerate()
        .map(|(i, title)| AgendaItem {
            title: title.to_owned(),
            roster: rosters
                .get(i)
                .map(|r| r.split(';').filter_map(speaker).collect())
                .unwrap_or_default(),
        })
        .collect()
}

fn speaker(text: &str) -> Option<Profile> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let (name, affiliation) = match text.strip_suffix(')').and_then(|t| t.rsplit_once('(')) {
        Some((name, aff)) => (name.trim(), aff.trim()),
        None => (text, ""),
    };
    Some(Profile::new(name, affiliation, Modality::Onsite))
}

/// The plan for `rows` against the programme `current`, checked as of `now`.
pub fn plan(current: &Programme, rows: Vec<Result<Row, Refused>>, now: Timestamp) -> Plan {
    let mut plan = Plan::default();
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut ok: Vec<(Row, RoomId)> = Vec::new();
    for row in rows {
        match row.and_then(|r| check(current, r, &mut seen, now)) {
            Ok(accepted) => ok.push(accepted),
            Err(refused) => plan.refused.push(refused),
        }
    }
    let overlapping = overlaps(current, &ok, &seen);
    for (row, room_id) in ok {
        if let Some(refused) = overlapping.get(&row.external_id) {
            plan.refused.push(refused.clone());
            continue;
        }
        let existing = current.slot(&row.external_id);
        let mut change = Change {
            id: row.external_id.clone(),
            title: row.title.clone(),
            room: current
                .room(room_id)
                .map(|r| r.name.clone())
                .unwrap_or_default(),
            start: row.start,
            end: row.end,
            session: existing.map(|s| s.session),
            changed: Vec::new(),
            row,
            room_id,
        };
        match existing {
            None => plan.create.push(change),
            Some(old) => {
                for (differs, what) in [
                    (old.title != change.title, "title"),
                    (old.room != room_id, "room"),
                    (old.start != change.start, "start"),
                    (old.end != change.end, "end"),
                ] {
                    if differs {
                        change.changed.push(what);
                    }
                }
                if change.changed.is_empty() {
                    plan.unchanged += 1;
                } else {
                    plan.update.push(change);
                }
            }
        }
    }
    plan
}

/// The checks of one row on its own (and against the ids seen before it).
fn check(
    current: &Programme,
    row: Row,
    seen: &mut HashMap<String, String>,
    now: Timestamp,
) -> Result<(Row, RoomId), Refused> {
    let id = row.external_id.as_str();
    let refuse = |code, msg: String| Refused::new(&row.at, Some(id), code, msg);
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_control) {
        return Err(refuse(
            "bad_id",
            format!("the id must be 1 to {MAX_ID_CHARS} characters with no control characters"),
        ));
    }
    for (column, value) in [("id", id), ("title", &row.title), ("room", &row.room)] {
        cell_check(&row.at, Some(id), column, value)?;
    }
    if let Some(first) = seen.get(id) {
        return Err(refuse(
            "duplicate_id",
            format!("the id {id:?} is used already at {first}"),
        ));
    }
    seen.insert(id.to_owned(), row.at.clone());
    let room = current.room_named(&row.room).ok_or_else(|| {
        let known: Vec<&str> = current
            .rooms
            .iter()
            .take(12)
            .map(|r| r.name.as_str())
            .collect();
        refuse(
            "unknown_room",
            format!(
                "no room is called {:?}; define it first (rooms: {})",
                row.room,
                if known.is_empty() {
                    "none yet".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        )
    })?;
    if row.end <= row.start {
        return Err(refuse(
            "bad_time",
            "the session ends before it starts".into(),
        ));
    }
    if row.end.0 - row.start.0 > MAX_SESSION_MS {
        return Err(refuse(
            "too_long",
            "a session may last at most 24 hours".into(),
        ));
    }
    // The settings are checked by the core's own rule for opening a session, so a row the
    // import accepts is a session the hub will create.
    let open = Command::OpenSession {
        title: row.title.clone(),
        policy: row.policy,
        limits: TimeLimits::default(),
        agenda: row.agenda.clone(),
    };
    decide(&State::default(), Actor::Organizer, open, now)
        .map_err(|r| refuse(r.code(), r.to_string()))?;
    let room_id = room.id;
    Ok((row, room_id))
}

/// Rows that overlap another session in their room (an entry kept from before, or an earlier
/// row of the file), by external id, with their refusal.
fn overlaps(
    current: &Programme,
    ok: &[(Row, RoomId)],
    in_file: &HashMap<String, String>,
) -> HashMap<String, Refused> {
    // (room, start, end, id, the row's position if it comes from the file)
    let mut spans: Vec<(RoomId, Timestamp, Timestamp, &str, Option<usize>)> = current
        .slots
        .iter()
        .filter(|s| !in_file.contains_key(&s.external_id))
        .map(|s| (s.room, s.start, s.end, s.external_id.as_str(), None))
        .collect();
    spans.extend(
        ok.iter()
            .enumerate()
            .map(|(i, (r, room))| (*room, r.start, r.end, r.external_id.as_str(), Some(i))),
    );
    spans.sort_by_key(|s| (s.0, s.1, s.4));
    let mut refused = HashMap::new();
    let mut blamed: HashSet<usize> = HashSet::new();
    let mut last: Option<(RoomId, Timestamp, &str, Option<usize>)> = None;
    for &(room, start, end, id, pos) in &spans {
        match last {
            Some((lroom, lend, lid, lpos)) if lroom == room && start < lend => {
                // Blame the row that comes later in the file (a kept entry is never blamed).
                let (who, other) = match (pos, lpos) {
                    (Some(p), Some(lp)) if lp > p => (lp, id),
                    (Some(p), _) => (p, lid),
                    (None, Some(lp)) => (lp, id),
                    (None, None) => continue,
                };
                if blamed.insert(who) {
                    let row = &ok[who].0;
                    refused.insert(
                        row.external_id.clone(),
                        Refused::new(
                            &row.at,
                            Some(&row.external_id),
                            "overlap",
                            format!("it overlaps {other:?} in the same room"),
                        ),
                    );
                }
                if end > lend {
                    last = Some((room, end, id, pos));
                }
            }
            _ => last = Some((room, end, id, pos)),
        }
    }
    refused
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programme::{Room, Slot};

    fn programme() -> Programme {
        Programme {
            rooms: vec![Room {
                id: RoomId::random(),
                name: "Room 1".into(),
                capacity: 100,
                hub: false,
            }],
            slots: vec![],
        }
    }

    fn row(id: &str, room: &str, start: u64, end: u64) -> Result<Row, Refused> {
        Ok(Row {
            at: format!("line {id}"),
            external_id: id.into(),
            title: format!("Session {id}"),
            room: room.into(),
            start: Timestamp(start),
            end: Timestamp(end),
            policy: Policy::default(),
            agenda: vec![],
        })
    }

    fn codes(plan: &Plan) -> Vec<(&str, &str)> {
        plan.refused
            .iter()
            .map(|r| (r.id.as_deref().unwrap_or(""), r.code))
            .collect()
    }

    #[test]
    fn every_bad_row_is_refused_with_its_reason() {
        let p = programme();
        let mut bad_title = row("t", "Room 1", 9_000, 9_500);
        if let Ok(r) = &mut bad_title {
            r.title = "=HYPERLINK(\"x\")".into();
        }
        let plan = plan(
            &p,
            vec![
                row("a", "room 1", 0, 1_000),
                row("b", "Room 1", 500, 1_500),
                row("a", "Room 1", 2_000, 3_000),
                row("c", "Room 9", 0, 1_000),
                row("d", "Room 1", 5_000, 4_000),
                row("e", "Room 1", 0, MAX_SESSION_MS + 1),
                bad_title,
            ],
            Timestamp(0),
        );
        assert_eq!(plan.create.len(), 1);
        assert_eq!(plan.create[0].id, "a");
        let mut got = codes(&plan);
        got.sort_unstable();
        assert_eq!(
            got,
            [
                ("a", "duplicate_id"),
                ("b", "overlap"),
                ("c", "unknown_room"),
                ("d", "bad_time"),
                ("e", "too_long"),
                ("t", "formula_cell"),
            ]
        );
    }

    #[test]
    fn a_reimport_updates_by_id_and_counts_the_unchanged() {
        let mut p = programme();
        let room = p.rooms[0].id;
        for (id, start) in [("a", 0), ("b", 1_000), ("c", 2_000)] {
            p.slots.push(Slot {
                external_id: id.into(),
                title: format!("Session {id}"),
                room,
                start: Timestamp(start),
                end: Timestamp(start + 1_000),
                session: SessionId::random(),
            });
        }
        // b moves into c's old time while c moves later: no overlap with their old selves.
        let plan = plan(
            &p,
            vec![
                row("a", "Room 1", 0, 1_000),
                row("b", "Room 1", 2_000, 3_000),
                row("c", "Room 1", 3_000, 4_000),
                row("d", "Room 1", 1_000, 2_000),
            ],
            Timestamp(0),
        );
        assert!(plan.refused.is_empty(), "{:?}", plan.refused);
        assert_eq!(plan.unchanged, 1);
        assert_eq!(
            plan.create
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>(),
            ["d"]
        );
        assert_eq!(plan.update.len(), 2);
        assert_eq!(plan.update[0].changed, ["start", "end"]);
        // An entry not in the file is kept, and a row overlapping it is refused.
        let plan2 = super::plan(&p, vec![row("x", "Room 1", 500, 700)], Timestamp(0));
        assert_eq!(codes(&plan2), [("x", "overlap")]);
    }

    #[test]
    fn policies_and_agendas_from_cells() {
        assert_eq!(policy("").unwrap(), Policy::default());
        assert_eq!(
            policy("Alternate 2:1").unwrap().order,
            Order::Alternate { room: 2, remote: 1 }
        );
        assert!(policy("loudest first").is_err());
        let items = agenda("Opening | Debate", "Ana Silva (Brazil); Li Wei|");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].roster.len(), 2);
        assert_eq!(items[0].roster[0].affiliation, "Brazil");
        assert_eq!(items[0].roster[1].name, "Li Wei");
        assert!(items[1].roster.is_empty());
    }
}
