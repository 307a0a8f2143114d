//! The SQLite log on real files in a temporary directory.

use std::sync::Arc;

use super::*;
use crate::queue::ParticipantId;
use crate::queue::{
    Actor, Command, Modality, Policy, Profile, RequestKind, State, TimeLimits, decide,
};
use crate::store::{ANSWERS_KEPT_MS, Replay};

/// A session's opening events and a few more, decided by the core.
pub(super) fn session_events(extra: usize) -> Vec<Event> {
    let mut s = State::default();
    let mut all = Vec::new();
    let mut run = |s: &mut State, actor, cmd| {
        let evs = decide(s, actor, cmd, Timestamp(1_000 + all.len() as u64)).unwrap();
        for e in &evs {
            s.apply(e);
        }
        all.extend(evs);
    };
    let open = Command::OpenSession {
        title: "Store test".into(),
        policy: Policy::default(),
        limits: TimeLimits::default(),
        agenda: Vec::new(),
    };
    run(&mut s, Actor::Organizer, open);
    for i in 0..extra {
        let profile = Profile::new(format!("Speaker {i}"), "Somewhere", Modality::Onsite);
        run(
            &mut s,
            Actor::Chair,
            Command::AddProxy {
                profile,
                kind: RequestKind::Question,
                note: None,
            },
        );
    }
    all
}

pub(super) fn meta() -> SessionMeta {
    SessionMeta {
        id: SessionId::random(),
        created_at: Timestamp(1),
        epoch: 1,
        key_epoch: 1,
    }
}

pub(super) fn open(dir: &Path) -> SqliteLog {
    SqliteLog::open(dir, SqliteOptions::default()).unwrap()
}

#[tokio::test]
async fn appends_are_conditional_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let events = session_events(3);
    let m = meta();
    {
        let log = open(dir.path());
        log.create(&m, &events[..1]).await.unwrap();
        assert_eq!(
            log.create(&m, &events[..1]).await,
            Err(StoreError::Exists(m.id))
        );
        assert_eq!(
            log.append(m.id, 1, &Origin::default(), &events[1..3]).await,
            Ok(3)
        );
        assert_eq!(
            log.append(m.id, 1, &Origin::default(), &events[3..]).await,
            Err(StoreError::Conflict {
                expected: 1,
                actual: 3
            }),
            "a stale writer is refused"
        );
        assert_eq!(
            log.append(m.id, 3, &Origin::default(), &events[3..]).await,
            Ok(events.len() as u64)
        );
        let other = SessionId::random();
        assert_eq!(
            log.append(other, 0, &Origin::default(), &events[..1]).await,
            Err(StoreError::UnknownSession(other))
        );
    }
    let log = open(dir.path());
    assert_eq!(log.meta(m.id).await.unwrap(), Some(m.clone()));
    assert_eq!(log.list().await.unwrap(), std::slice::from_ref(&m));
    assert_eq!(log.load(m.id, 0).await.unwrap(), events);
    assert_eq!(log.load(m.id, 5).await.unwrap(), events[5..]);
    assert_eq!(
        State::replay(&log.load(m.id, 0).await.unwrap()),
        State::replay(&events)
    );
    let version: i64 = Connection::open(dir.path().join(FILE))
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_across_sessions_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(open(dir.path()));
    let events = session_events(40);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (log, events) = (log.clone(), events.clone());
        tasks.push(tokio::spawn(async move {
            let m = meta();
            log.create(&m, &events[..1]).await.unwrap();
            for (i, e) in events[1..].chunks(2).enumerate() {
                log.append(m.id, 1 + 2 * i as u64, &Origin::default(), e)
                    .await
                    .unwrap();
            }
            m.id
        }));
    }
    for t in tasks {
        let id = t.await.unwrap();
        assert_eq!(log.load(id, 0).await.unwrap(), events);
    }
}

/// Change the stored body of one record with SQL, as disk damage would.
pub(super) fn damage(dir: &Path, id: SessionId, seq: u64, sql: &str) {
    let c = Connection::open(dir.join(FILE)).unwrap();
    let n = c.execute(sql, params![id.to_string(), int(seq)]).unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn damaged_records_are_detected_and_refused_until_repaired() {
    for (how, sql, reason) in [
        (
            "truncated mid-record",
            "UPDATE events SET body = substr(body, 1, length(body) / 2) WHERE session = ?1 AND seq = ?2",
            "checksum mismatch",
        ),
        (
            "a flipped byte",
            "UPDATE events SET body = replace(body, 'Speaker', 'Speakes') WHERE session = ?1 AND seq = ?2",
            "checksum mismatch",
        ),
        (
            "a missing record",
            "DELETE FROM events WHERE session = ?1 AND seq = ?2",
            "missing record",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let events = session_events(4);
        let m = meta();
        let log = open(dir.path());
        log.create(&m, &events).await.unwrap();
        damage(dir.path(), m.id, 4, sql);
        match log.load(m.id, 0).await {
            Err(StoreError::Damaged {
                session,
                seq,
                reason: r,
            }) => {
                assert_eq!((session, seq, r.as_str()), (m.id, 4, reason), "{how}");
            }
            other => panic!("{how}: {other:?}"),
        }
        let checked = log.check().await.unwrap();
        assert!(
            checked[0]
                .1
                .as_ref()
                .is_err_and(|e| e.to_string().contains("damaged")),
            "{how}"
        );
        assert_eq!(
            log.repair(m.id).await,
            Ok(3),
            "{how}: cut back to the last valid record"
        );
        assert_eq!(log.load(m.id, 0).await.unwrap(), events[..3], "{how}");
        assert_eq!(
            log.meta(m.id).await.unwrap().unwrap().epoch,
            2,
            "{how}: the epoch moves on"
        );
        assert_eq!(
            log.append(m.id, 3, &Origin::default(), &events[3..4]).await,
            Ok(4),
            "{how}: and it goes on"
        );
    }
}

#[tokio::test]
async fn a_byte_flipped_in_the_file_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let events = session_events(3);
    let m = meta();
    {
        let log = open(dir.path());
        log.create(&m, &events).await.unwrap();
    } // closed: the WAL is checkpointed into the file
    let path = dir.path().join(FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(9)
        .position(|w| w == b"Speaker 1")
        .expect("the record is in the file");
    bytes[at + 8] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let log = open(dir.path());
    let r = log.load(m.id, 0).await;
    assert!(
        matches!(r, Err(StoreError::Damaged { seq: 4, .. })),
        "Speaker 1 joins at seq 4: {r:?}"
    );
}

#[tokio::test]
async fn a_full_database_refuses_appends_and_keeps_serving_reads() {
    let dir = tempfile::tempdir().unwrap();
    let log = SqliteLog::open(
        dir.path(),
        SqliteOptions {
            max_bytes: Some(64 * 1024),
            ..SqliteOptions::default()
        },
    )
    .unwrap();
    let events = session_events(60);
    let m = meta();
    log.create(&m, &events[..1]).await.unwrap();
    let mut tip = 1;
    let failure = loop {
        match log
            .append(m.id, tip, &Origin::default(), &events[1..])
            .await
        {
            Ok(t) => tip = t,
            Err(e) => break e,
        }
        assert!(tip < 100_000, "the cap is reached");
    };
    assert!(
        matches!(&failure, StoreError::Unavailable(msg) if msg.contains("full")),
        "{failure}"
    );
    assert!(
        log.ready().unwrap_err().contains("full"),
        "not ready when full"
    );
    // The cap counts the WAL too: the file and its log together stay within it (give or take
    // the last batch, written before the cap is checked).
    let size = |name: &str| std::fs::metadata(dir.path().join(name)).map_or(0, |m| m.len());
    let (db, wal) = (size(FILE), size("rostrum.db-wal"));
    assert!(db + wal <= 64 * 1024 + 4 * 4120, "db {db} + wal {wal}");
    let stored = log.load(m.id, 0).await.unwrap();
    assert_eq!(stored.len() as u64, tip, "nothing half-written");
    assert_eq!(
        log.append(m.id, tip + 1, &Origin::default(), &events[1..2])
            .await
            .unwrap_err(),
        StoreError::Conflict {
            expected: tip + 1,
            actual: tip
        }
    );
}

#[tokio::test]
async fn a_backup_is_a_consistent_copy_taken_while_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let events = session_events(5);
    let m = meta();
    let log = open(dir.path());
    log.create(&m, &events).await.unwrap();
    let copy = dir.path().join("backup");
    log.backup(&copy.join(FILE)).await.unwrap_err(); // the target directory must exist
    std::fs::create_dir(&copy).unwrap();
    log.backup(&copy.join(FILE)).await.unwrap();
    let restored = open(&copy);
    assert_eq!(restored.load(m.id, 0).await.unwrap(), events);
}

#[test]
fn an_unwritable_directory_is_refused_with_a_clear_error() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let err = SqliteLog::open(&file.path().join("sub"), SqliteOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains(&file.path().display().to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn answers_are_recorded_with_their_events_kept_for_an_hour_and_cut_by_repair() {
    let dir = tempfile::tempdir().unwrap();
    let events = session_events(4);
    let m = meta();
    let by = |req| Origin {
        req,
        sender: Some("s1".into()),
    };
    {
        let log = open(dir.path());
        log.create(&m, &events[..1]).await.unwrap();
        log.append(m.id, 1, &by(1), &events[1..3]).await.unwrap();
        // A stale append stores neither its events nor its answer.
        assert!(log.append(m.id, 1, &by(9), &events[3..]).await.is_err());
        log.append(m.id, 3, &Origin::default(), &events[3..5])
            .await
            .unwrap();
    }
    let log = open(dir.path());
    let all = log.answers(m.id, Timestamp(0)).await.unwrap();
    let expected = Recorded {
        sender: "s1".into(),
        req: 1,
        seq: 3,
        participant: Some(ParticipantId(0)), // a proxy is a participant
        at: events[2].at,
    };
    assert_eq!(
        all,
        std::slice::from_ref(&expected),
        "one answer: the append's last seq"
    );
    assert_eq!(
        log.replay(m.id, Timestamp(0)).await.unwrap(),
        Replay {
            events: events[..5].to_vec(),
            answers: vec![expected],
        }
    );
    assert_eq!(
        log.answers(m.id, Timestamp(events[2].at.0 + 1))
            .await
            .unwrap(),
        []
    );
    // An answer an hour younger than another drops it, without touching any event.
    let mut late = events[5..].to_vec();
    for e in &mut late {
        e.at = Timestamp(e.at.0 + ANSWERS_KEPT_MS + 1);
    }
    log.append(m.id, 5, &by(2), &late).await.unwrap();
    let left = log.answers(m.id, Timestamp(0)).await.unwrap();
    assert_eq!(left.iter().map(|a| a.req).collect::<Vec<_>>(), [2]);
    assert_eq!(log.load(m.id, 0).await.unwrap().len(), events.len());
    // Repair cuts the log back: an answer naming a seq that is gone goes with it.
    damage(
        dir.path(),
        m.id,
        4,
        "UPDATE events SET checksum = checksum + 1 WHERE session = ?1 AND seq = ?2",
    );
    assert_eq!(log.repair(m.id).await, Ok(3));
    assert_eq!(log.answers(m.id, Timestamp(0)).await.unwrap(), []);
}

#[test]
fn a_schema_1_file_is_migrated_keeping_its_events() {
    let dir = tempfile::tempdir().unwrap();
    let c = Connection::open(dir.path().join(FILE)).unwrap();
    c.execute_batch(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, epoch INTEGER NOT NULL, key_epoch INTEGER NOT NULL) WITHOUT ROWID;
         CREATE TABLE events (session TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL, checksum INTEGER NOT NULL, PRIMARY KEY (session, seq)) WITHOUT ROWID;
         INSERT INTO sessions VALUES ('x', 1, 1, 1);
         PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(c);
    drop(open(dir.path()));
    let c = Connection::open(dir.path().join(FILE)).unwrap();
    let version: i64 = c
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 3);
    let kept: i64 = c
        .query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    let answers: i64 = c
        .query_row("SELECT COUNT(*) FROM answers", [], |r| r.get(0))
        .unwrap();
    assert_eq!((kept, answers), (1, 0));
}

#[tokio::test]
async fn a_log_cut_short_is_refused_never_served_short() {
    let dir = tempfile::tempdir().unwrap();
    let events = session_events(5);
    let n = events.len() as u64;
    let m = meta();
    let log = open(dir.path());
    log.create(&m, &events).await.unwrap();
    // The last records vanish: every record left checks out and the seqs have no gap, which is
    // what a damaged B-tree page can look like. Only the head knows better.
    let c = Connection::open(dir.path().join(FILE)).unwrap();
    let gone = c
        .execute(
            "DELETE FROM events WHERE session = ?1 AND seq > 3",
            params![m.id.to_string()],
        )
        .unwrap();
    assert_eq!(gone, n as usize - 3);
    drop(c);
    match log.load(m.id, 0).await {
        Err(StoreError::Damaged { seq, reason, .. }) => {
            assert_eq!(seq, 4);
            assert!(
                reason.contains(&format!("records 4..={n} are missing")),
                "{reason}"
            );
        }
        other => panic!("served short: {other:?}"),
    }
    let found = check::check_dir(dir.path()).unwrap();
    assert!(!found.is_sound());
    assert!(found.to_string().contains("damaged at seq 4"), "{found}");
    assert_eq!(log.repair(m.id).await, Ok(3));
    assert_eq!(log.load(m.id, 0).await.unwrap(), events[..3]);
    assert_eq!(
        log.append(m.id, 3, &Origin::default(), &events[3..4]).await,
        Ok(4)
    );
    assert_eq!(log.load(m.id, 0).await.unwrap(), events[..4]);
}

#[tokio::test]
async fn edited_metadata_is_refused_and_repair_accepts_it_on_request() {
    for edit in [
        "UPDATE sessions SET created_at = created_at + 31536000000 WHERE id = ?1",
        "UPDATE sessions SET key_epoch = key_epoch + 1 WHERE id = ?1",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let events = session_events(2);
        let m = meta();
        let log = open(dir.path());
        log.create(&m, &events).await.unwrap();
        let c = Connection::open(dir.path().join(FILE)).unwrap();
        assert_eq!(c.execute(edit, params![m.id.to_string()]).unwrap(), 1);
        drop(c);
        for r in [
            log.meta(m.id).await.map(|_| ()),
            log.load(m.id, 0).await.map(|_| ()),
        ] {
            assert!(
                matches!(&r, Err(StoreError::Damaged { seq: 0, reason, .. }) if reason.contains("metadata")),
                "{edit}: {r:?}"
            );
        }
        let text = check::check_dir(dir.path()).unwrap().to_string();
        assert!(text.contains("does not match its checksum"), "{text}");
        assert_eq!(
            log.repair(m.id).await,
            Ok(events.len() as u64),
            "every record kept"
        );
        assert_eq!(log.load(m.id, 0).await.unwrap(), events);
    }
}

#[tokio::test]
async fn a_version_1_database_gains_heads_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let events = session_events(3);
    let m = meta();
    drop({
        let log = open(dir.path());
        log.create(&m, &events).await.unwrap();
        log
    });
    let c = Connection::open(dir.path().join(FILE)).unwrap();
    c.execute_batch("DROP TABLE heads; PRAGMA user_version = 1;")
        .unwrap();
    drop(c);
    let log = open(dir.path());
    assert_eq!(log.load(m.id, 0).await.unwrap(), events);
    let n = events.len() as u64;
    assert_eq!(
        log.append(m.id, n, &Origin::default(), &events[1..2]).await,
        Ok(n + 1)
    );
    assert!(check::check_dir(dir.path()).unwrap().is_sound());
}

/// The database, its WAL and the mark copied while the log is open and busy: what a SIGKILL
/// leaves on disk (nothing checkpointed).
fn copy_live(from: &Path, to: &Path) {
    for name in [FILE, "rostrum.db-wal", "rostrum.db-mark"] {
        std::fs::copy(from.join(name), to.join(name)).unwrap();
    }
}

#[tokio::test]
async fn a_wal_that_sqlite_would_cut_is_refused_before_it_is_opened() {
    let live = tempfile::tempdir().unwrap();
    let events = session_events(40);
    let m = meta();
    let log = open(live.path());
    log.create(&m, &events[..1]).await.unwrap();
    for seq in 1..events.len() {
        log.append(m.id, seq as u64, &Origin::default(), &events[seq..=seq])
            .await
            .unwrap();
    }
    let whole = tempfile::tempdir().unwrap();
    copy_live(live.path(), whole.path());
    drop(log);
    let scan = wal::scan(&whole.path().join(FILE)).unwrap();
    assert!(!scan.is_damaged(), "{scan}");
    assert_eq!(
        scan.mark.map(|m| m.commits),
        Some(scan.replayed_commits),
        "{scan}"
    );
    assert!(scan.replayed_commits >= 40, "{scan}");
    let wal_len = scan.bytes;

    // The WAL deleted, as people do to "fix" a database that will not open.
    let dir = tempfile::tempdir().unwrap();
    copy_live(whole.path(), dir.path());
    std::fs::remove_file(dir.path().join("rostrum.db-wal")).unwrap();
    let e = SqliteLog::open(dir.path(), SqliteOptions::default()).unwrap_err();
    assert!(e.to_string().contains("is gone or empty"), "{e}");

    for (how, cut) in [("a flipped bit", None), ("a truncation", Some(wal_len / 2))] {
        let dir = tempfile::tempdir().unwrap();
        copy_live(whole.path(), dir.path());
        let wal_file = dir.path().join("rostrum.db-wal");
        let mut bytes = std::fs::read(&wal_file).unwrap();
        match cut {
            None => bytes[usize::try_from(wal_len / 3).unwrap()] ^= 0x10,
            Some(n) => bytes.truncate(usize::try_from(n).unwrap()),
        }
        std::fs::write(&wal_file, &bytes).unwrap();
        if cut.is_none() {
            // Without the mark, the frames of this WAL after the break still give it away.
            let mark = std::fs::read(dir.path().join("rostrum.db-mark")).unwrap();
            std::fs::remove_file(dir.path().join("rostrum.db-mark")).unwrap();
            let scan = wal::scan(&dir.path().join(FILE)).unwrap();
            assert!(scan.is_damaged() && scan.frames_after_break > 0, "{scan}");
            std::fs::write(dir.path().join("rostrum.db-mark"), mark).unwrap();
        }
        let e = SqliteLog::open(dir.path(), SqliteOptions::default()).unwrap_err();
        assert!(
            e.to_string().contains("write-ahead log")
                && e.to_string().contains("rostrum repair --wal"),
            "{how}: {e}"
        );
        assert_eq!(
            std::fs::read(&wal_file).unwrap(),
            bytes,
            "{how}: nothing changed"
        );
        let found = check::check_dir(dir.path()).unwrap();
        assert!(!found.is_sound(), "{how}: {found}");
        assert!(found.wal.commits_at_risk() > 0, "{how}: {found}");
        let (scan, kept) = SqliteLog::repair_wal(dir.path()).unwrap();
        assert!(scan.commits_at_risk() > 0);
        assert_eq!(
            std::fs::read(&kept).unwrap(),
            bytes,
            "{how}: the log kept aside"
        );
        let found = check::check_dir(dir.path()).unwrap();
        assert!(found.is_sound(), "{how}: after repair: {found}");
        let log = open(dir.path());
        let kept = log.load(m.id, 0).await.unwrap();
        assert!(kept.len() < events.len(), "{how}");
        assert_eq!(kept, events[..kept.len()], "{how}: a prefix");
        assert_eq!(
            log.meta(m.id).await.unwrap().unwrap().epoch,
            2,
            "{how}: resync"
        );
    }
}

#[tokio::test]
async fn closing_leaves_everything_in_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let events = session_events(20);
    let m = meta();
    let log = open(dir.path());
    log.create(&m, &events).await.unwrap();
    assert!(dir.path().join("rostrum.db-wal").metadata().unwrap().len() > 0);
    log.close().await.unwrap();
    assert_eq!(
        dir.path().join("rostrum.db-wal").metadata().unwrap().len(),
        0
    );
    drop(log);
    let wal = dir.path().join("rostrum.db-wal");
    assert!(wal.metadata().map_or(true, |m| m.len() == 0));
}

/// What keeping the WAL short costs: the mark after each commit, and a truncating checkpoint
/// of a WAL of about 1,000 frames. Not a pass/fail test: `cargo test --lib
/// store::sqlite::tests::the_cost_of_checkpoints -- --ignored --nocapture` prints the figures
/// that docs/durability.md quotes.
#[tokio::test]
#[ignore]
async fn the_cost_of_checkpoints() {
    use std::time::Instant;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE);
    let events = session_events(1);
    let n = 2_000u64;
    // Appends one at a time, each its own commit with its fsync: what a quiet session costs.
    let log = open(dir.path());
    let m = meta();
    log.create(&m, &events[..1]).await.unwrap();
    let t = Instant::now();
    for seq in 1..=n {
        log.append(m.id, seq, &Origin::default(), &events[1..2])
            .await
            .unwrap();
    }
    let per_commit = t.elapsed() / u32::try_from(n).unwrap();
    // The mark alone, as the writer updates it after every commit.
    let mut marker = wal::Marker::open(&path).unwrap();
    let t = Instant::now();
    for i in 0..n {
        marker.committed(u32::try_from(i).unwrap()).unwrap();
    }
    let per_mark = t.elapsed() / u32::try_from(n).unwrap();
    drop(log);
    // The head moved on, as each append does inside its transaction.
    let mut c = Connection::open(&path).unwrap();
    let tx = c.transaction().unwrap();
    let t = Instant::now();
    for seq in n + 1..=2 * n {
        let rows = rows(m.id, seq + 1, &events[1..2]);
        head::advance(&tx, m.id, seq, &rows).unwrap();
    }
    let per_head = t.elapsed() / u32::try_from(n).unwrap();
    drop(tx);
    drop(c);
    // A WAL of about 1,000 frames checkpointed into the file and truncated.
    let c = Connection::open(&path).unwrap();
    c.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    c.execute_batch("CREATE TABLE filler (b BLOB)").unwrap();
    for _ in 0..250 {
        c.execute("INSERT INTO filler VALUES (zeroblob(15000))", [])
            .unwrap();
    }
    let wal_bytes = std::fs::metadata(dir.path().join("rostrum.db-wal"))
        .unwrap()
        .len();
    let t = Instant::now();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let truncate = t.elapsed();
    eprintln!(
        "one append, its own commit: {per_commit:?}; the mark: {per_mark:?} per commit; \
         the head: {per_head:?} per append; a truncating checkpoint of {wal_bytes} bytes of \
         WAL: {truncate:?}"
    );
}

#[test]
fn a_storage_failure_keeps_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the data directory should be: the file system's own error, kept whole.
    let not_a_dir = dir.path().join("taken");
    std::fs::write(&not_a_dir, b"a file").unwrap();
    let e = SqliteLog::open(&not_a_dir, SqliteOptions::default()).unwrap_err();
    let StoreError::Io { what, .. } = &e else {
        panic!("{e:?}");
    };
    assert!(what.contains("taken"), "says where: {what}");
    let cause = std::error::Error::source(&e).expect("the cause is kept");
    let io = cause
        .downcast_ref::<std::io::Error>()
        .expect("as the io::Error it was");
    assert!(what.ends_with(&io.to_string()), "{what} / {io}");
}

/// The checkpointer's thread copies the WAL into the file and names the WAL it copied by its
/// salts; a WAL restarted after it has others, so its count is not taken for the new one.
#[test]
fn the_checkpointer_copies_the_wal_and_names_the_wal_it_copied() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE);
    let c = Connection::open(&path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    c.execute_batch("CREATE TABLE filler (b BLOB)").unwrap();
    for _ in 0..20 {
        c.execute("INSERT INTO filler VALUES (zeroblob(5000))", [])
            .unwrap();
    }
    let before = wal::salts(&wal::wal_path(&path)).unwrap();
    let checkpointer = checkpointer::Checkpointer::start(&path, SqliteOptions::default()).unwrap();
    checkpointer.ask();
    checkpointer.ask(); // one asked already: nothing more
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let done = loop {
        let got: Vec<_> = checkpointer.outcomes().collect();
        if !got.is_empty() {
            break got;
        }
        assert!(std::time::Instant::now() < deadline, "no checkpoint");
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    assert_eq!(done.len(), 1, "{done:?}");
    let done = done[0];
    assert_eq!(done.salts, before);
    assert!(done.frames >= 20, "{done:?}");
    assert_eq!(
        done.backfilled, done.frames,
        "all of it copied: nobody was reading"
    );
    // Copied into the file: the rows are there with the WAL set aside.
    drop(checkpointer); // waits for its thread
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    let n: i64 = Connection::open(&copy)
        .unwrap()
        .query_row("SELECT count(*) FROM filler", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 20);
    // The next commit restarts the WAL, under new salts.
    c.execute("INSERT INTO filler VALUES (zeroblob(10))", [])
        .unwrap();
    assert_ne!(wal::salts(&wal::wal_path(&path)).unwrap(), before);
}

/// Steady commits past the threshold: the WAL is checkpointed beside the writer and restarts,
/// so it stays short; the mark records what was copied, and the log reopens whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_is_checkpointed_beside_the_writer_and_stays_short() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE);
    let events = session_events(1);
    let log = open(dir.path());
    let m = meta();
    log.create(&m, &events[..1]).await.unwrap();
    let first = wal::salts(&wal::wal_path(&path)).unwrap();
    let (mut restarts, mut copied, mut largest, mut last) = (0, 0, 0, first);
    let n = 1_500u64;
    for seq in 1..=n {
        log.append(m.id, seq, &Origin::default(), &events[1..2])
            .await
            .unwrap();
        let mark = wal::Mark::read(&path).unwrap();
        restarts += usize::from(mark.salts != last);
        last = mark.salts;
        copied = copied.max(mark.backfilled);
        largest = largest.max(mark.frames);
    }
    assert!(restarts >= 2, "the WAL restarted {restarts} times");
    assert!(copied > 0, "the mark records copied frames");
    assert!(
        largest < 4 * CHECKPOINT_FRAMES,
        "the WAL reached {largest} frames"
    );
    drop(log);
    let log = open(dir.path());
    let got = log.load(m.id, 0).await.unwrap();
    assert_eq!(got.len(), 1 + usize::try_from(n).unwrap());
}
