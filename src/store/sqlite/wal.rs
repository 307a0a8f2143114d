//! The write-ahead log read the way SQLite replays it, to notice what SQLite would silently cut.
//!
//! SQLite stops reading a WAL at the first frame whose cumulative checksum fails, and drops
//! everything after it: that is its design (a torn write at a crash looks the same), so a flipped
//! bit or a truncation in the WAL loses committed transactions without a word. rostrum notices
//! in two ways, both before SQLite opens the file (opening would replay the prefix and later
//! overwrite the rest):
//!
//! - the **mark**, `rostrum.db-mark`: after every commit the writer records the WAL's salts, its
//!   frame count and its commit count (24 bytes, written in place; the WAL itself was already
//!   synced). A WAL that replays fewer frames than the mark says was cut.
//! - without a usable mark (it is stale, or gone), frames carrying this WAL's salts *after* a
//!   checksum break: valid-looking frames SQLite would drop.
//!
//! The format is SQLite's, documented at <https://sqlite.org/fileformat2.html> ("WAL File
//! Format"): a 32-byte header, then frames of a 24-byte header and a page, every integer
//! big-endian, checksums cumulative from the header's.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const HEADER: usize = 32;
const FRAME_HEADER: usize = 24;
const MAGIC_LE: u32 = 0x377f_0682;
const MAGIC_BE: u32 = 0x377f_0683;
const VERSION: u32 = 3_007_000;
const MARK_MAGIC: &[u8; 4] = b"RWM1";
const MARK_LEN: usize = 24;

/// The WAL's path beside the database.
pub(super) fn wal_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push("-wal");
    PathBuf::from(p)
}

/// The mark's path beside the database.
pub(super) fn mark_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push("-mark");
    PathBuf::from(p)
}

/// What the writer last committed, as recorded in the mark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mark {
    /// The WAL's salts when it was written (they change each time the WAL restarts).
    pub salts: [u32; 2],
    /// Frames in the WAL after the last commit.
    pub frames: u32,
    /// Commits in the WAL since it was last restarted.
    pub commits: u32,
    /// Frames already copied into the database file by a checkpoint.
    pub backfilled: u32,
}

impl Mark {
    fn encode(&self) -> [u8; MARK_LEN] {
        let mut b = [0; MARK_LEN];
        b[..4].copy_from_slice(MARK_MAGIC);
        for (i, v) in [
            self.salts[0],
            self.salts[1],
            self.frames,
            self.commits,
            self.backfilled,
        ]
        .into_iter()
        .enumerate()
        {
            b[4 + 4 * i..8 + 4 * i].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    fn decode(b: &[u8]) -> Option<Mark> {
        if b.len() < MARK_LEN || &b[..4] != MARK_MAGIC {
            return None;
        }
        let w = |i: usize| u32::from_le_bytes(b[4 + 4 * i..8 + 4 * i].try_into().unwrap());
        Some(Mark {
            salts: [w(0), w(1)],
            frames: w(2),
            commits: w(3),
            backfilled: w(4),
        })
    }

    pub(super) fn read(db: &Path) -> Option<Mark> {
        std::fs::read(mark_path(db))
            .ok()
            .and_then(|b| Mark::decode(&b))
    }
}

/// The writer's side: keeps the mark up to date after every commit and checkpoint.
pub(super) struct Marker {
    mark: File,
    wal_path: PathBuf,
    last: Mark,
}

impl Marker {
    /// The mark beside `db`, starting from what the WAL holds now (commits made before the
    /// writer's hook was registered, by a migration say, count too).
    pub(super) fn open(db: &Path) -> std::io::Result<Marker> {
        let now = scan(db)?;
        let mark = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(mark_path(db))?;
        Ok(Marker {
            mark,
            wal_path: wal_path(db),
            last: Mark {
                salts: now.salts,
                frames: now.replayed_frames,
                commits: now.replayed_commits,
                backfilled: 0,
            },
        })
    }

    /// The salts of the WAL as of the last commit or checkpoint recorded.
    pub(super) fn recorded_salts(&self) -> [u32; 2] {
        self.last.salts
    }

    /// After a commit that left `frames` frames in the WAL.
    pub(super) fn committed(&mut self, frames: u32) -> std::io::Result<()> {
        let salts = salts(&self.wal_path).unwrap_or_default();
        let restarted = salts != self.last.salts || frames < self.last.frames;
        let next = Mark {
            salts,
            frames,
            commits: if restarted { 1 } else { self.last.commits + 1 },
            backfilled: if restarted { 0 } else { self.last.backfilled },
        };
        self.write(next)
    }

    /// After a checkpoint: `frames` in the WAL (0 once truncated), `backfilled` of them copied.
    pub(super) fn checkpointed(&mut self, frames: u32, backfilled: u32) -> std::io::Result<()> {
        let next = if frames == 0 {
            Mark::default()
        } else {
            Mark {
                backfilled,
                ..self.last
            }
        };
        self.write(next)
    }

    fn write(&mut self, m: Mark) -> std::io::Result<()> {
        self.mark.write_all_at(&m.encode(), 0)?;
        self.last = m;
        Ok(())
    }
}

/// The salts of the WAL at `wal` now (read each time: SQLite may delete and recreate the file).
pub(super) fn salts(wal: &Path) -> Option<[u32; 2]> {
    let mut h = [0; HEADER];
    File::open(wal).ok()?.read_exact_at(&mut h, 0).ok()?;
    Some([be(&h[16..]), be(&h[20..])])
}

fn be(b: &[u8]) -> u32 {
    u32::from_be_bytes(b[..4].try_into().unwrap())
}

/// SQLite's WAL checksum: pairs of 32-bit words, in the byte order the magic names.
fn checksum(big_endian: bool, data: &[u8], mut s: (u32, u32)) -> (u32, u32) {
    for pair in data.chunks_exact(8) {
        let word = |b: &[u8]| {
            let b: [u8; 4] = b.try_into().unwrap();
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        s.0 = s.0.wrapping_add(word(&pair[..4])).wrapping_add(s.1);
        s.1 = s.1.wrapping_add(word(&pair[4..])).wrapping_add(s.0);
    }
    s
}

/// What a WAL holds compared with what SQLite will replay from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalScan {
    /// The WAL's size in bytes (0: none).
    pub bytes: u64,
    /// Whether its header checks out (else SQLite ignores the whole file).
    pub header_ok: bool,
    /// The header's salts.
    pub salts: [u32; 2],
    /// Frames SQLite will replay (up to its last valid commit frame).
    pub replayed_frames: u32,
    /// Commits among them.
    pub replayed_commits: u32,
    /// The first frame (1-based) that SQLite will not accept, if any frame follows it.
    pub break_at: Option<u32>,
    /// Frames after the break that carry this WAL's salts: written by this generation of the
    /// WAL, dropped by SQLite.
    pub frames_after_break: u32,
    /// Commit frames among them.
    pub commits_after_break: u32,
    /// The writer's mark, if it is there and belongs to this WAL.
    pub mark: Option<Mark>,
}

impl WalScan {
    /// Commits that were acknowledged (or look written) but that SQLite would not replay.
    pub fn commits_at_risk(&self) -> u32 {
        match self.mark {
            Some(m) => m.commits.saturating_sub(self.replayed_commits),
            None => self.commits_after_break,
        }
    }

    /// Whether SQLite would replay less than was committed.
    pub fn is_damaged(&self) -> bool {
        match self.mark {
            Some(m) => {
                // A WAL whose every frame is already in the database file loses nothing if
                // SQLite ignores it whole; a replayed prefix shorter than the mark would put
                // stale pages over newer ones.
                let ignored_whole_but_copied = !self.header_ok && m.backfilled >= m.frames;
                self.replayed_frames < m.frames && !ignored_whole_but_copied
            }
            None => self.frames_after_break > 0,
        }
    }
}

impl fmt::Display for WalScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.bytes == 0 {
            return match self.mark {
                Some(m) => write!(
                    f,
                    "the write-ahead log is gone or empty, but the writer last recorded {} frames \
                     ({} commits) in it",
                    m.frames, m.commits
                ),
                None => write!(f, "no write-ahead log (everything is in the database file)"),
            };
        }
        write!(
            f,
            "{} bytes; SQLite replays {} frames ({} commits)",
            self.bytes, self.replayed_frames, self.replayed_commits
        )?;
        if !self.header_ok {
            write!(
                f,
                "; its header does not check out, so SQLite ignores it whole"
            )?;
        }
        if let Some(at) = self.break_at {
            write!(
                f,
                "; frame {at} breaks the checksum chain, {} frames ({} commits) of this log follow it",
                self.frames_after_break, self.commits_after_break
            )?;
        }
        if let Some(m) = self.mark {
            write!(
                f,
                "; the writer last recorded {} frames ({} commits)",
                m.frames, m.commits
            )?;
        }
        Ok(())
    }
}

/// Read the WAL beside `db` (and the writer's mark) without changing either. A service
/// running meanwhile may commit or checkpoint between the two reads: the mark is read before
/// and after the WAL, and the scan taken again (a few times at most) until both agree.
pub(super) fn scan(db: &Path) -> std::io::Result<WalScan> {
    let mut tries = 0;
    loop {
        let before = Mark::read(db);
        let found = scan_once(db, before)?;
        tries += 1;
        if Mark::read(db) == before || tries == 3 {
            return Ok(found);
        }
    }
}

fn scan_once(db: &Path, mark: Option<Mark>) -> std::io::Result<WalScan> {
    // The mark first: a service running meanwhile only makes the WAL read after it newer.
    let mark = mark.filter(|m| m.frames > 0);
    let mut bytes = Vec::new();
    match File::open(wal_path(db)) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut out = WalScan {
        bytes: bytes.len() as u64,
        ..WalScan::default()
    };
    let header = bytes.get(..HEADER);
    let magic = header.map(be);
    let big_endian = magic == Some(MAGIC_BE);
    let Some(h) = header.filter(|h| matches!(be(h), MAGIC_LE | MAGIC_BE) && be(&h[4..]) == VERSION)
    else {
        // No header SQLite would accept: the mark alone says whether frames were lost.
        out.mark = mark;
        return Ok(out);
    };
    let page = be(&h[8..]) as usize;
    let salts = [be(&h[16..]), be(&h[20..])];
    out.salts = salts;
    let mut sum = checksum(big_endian, &h[..24], (0, 0));
    out.header_ok = sum == (be(&h[24..]), be(&h[28..]));
    // A mark of another generation of the WAL (stale) tells nothing about this one.
    out.mark = mark.filter(|m| !out.header_ok || m.salts == salts);
    if !out.header_ok || !(512..=65_536).contains(&page) || !page.is_power_of_two() {
        out.header_ok = false;
        return Ok(out);
    }
    let frame_len = FRAME_HEADER + page;
    let frames = bytes[HEADER..].chunks(frame_len);
    let mut valid = true;
    for (n, frame) in (1u32..).zip(frames) {
        let whole = frame.len() == frame_len;
        let ours = whole && [be(&frame[8..]), be(&frame[12..])] == salts;
        let commit = whole && be(&frame[4..]) != 0;
        if valid {
            let ok = ours && be(frame) != 0 && {
                let s = checksum(big_endian, &frame[..8], sum);
                let s = checksum(big_endian, &frame[FRAME_HEADER..], s);
                let stored = (be(&frame[16..]), be(&frame[20..]));
                sum = s;
                s == stored
            };
            if ok {
                if commit {
                    out.replayed_frames = n;
                    out.replayed_commits += 1;
                }
                continue;
            }
            valid = false;
            out.break_at = Some(n);
        }
        if ours {
            out.frames_after_break += 1;
            out.commits_after_break += u32::from(commit);
        }
    }
    if out.frames_after_break == 0 {
        // A torn last write at a crash, or the end of this generation of the log (an older one
        // may follow, with other salts): nothing of this log follows it.
        out.break_at = None;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_sqlites() {
        // Two pairs, little-endian: s0 = 1 + 0, s1 = 2 + 1, s0 = 3 + 3 + 6... computed by hand.
        let data = [1u32, 2, 3, 4]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect::<Vec<_>>();
        let (a, b) = checksum(false, &data, (0, 0));
        // s0 = 0 + 1 + 0 = 1; s1 = 0 + 2 + 1 = 3; s0 = 1 + 3 + 3 = 7; s1 = 3 + 4 + 7 = 14.
        assert_eq!((a, b), (7, 14));
    }

    #[test]
    fn a_mark_round_trips() {
        let m = Mark {
            salts: [1, 2],
            frames: 3,
            commits: 4,
            backfilled: 5,
        };
        assert_eq!(Mark::decode(&m.encode()), Some(m));
        assert_eq!(Mark::decode(b"nope"), None);
    }
}
