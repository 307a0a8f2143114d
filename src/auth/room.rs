//! The room's code (six digits that rotate on the display, so "onsite" means "was in the
//! room") and the session's short code for `/j/{code}`: both derived from the secret, never
//! stored, so every node with the secret agrees on them.

use hmac::Mac;

use super::{Keys, secret_matches};
use crate::ids::SessionId;

/// How long a room code shows on the display before the next one replaces it.
pub const ROOM_CODE_PERIOD_MS: u64 = 60_000;

impl Keys {
    /// The room code of `session` for the period holding `at_ms`: six digits shown on the room's
    /// display (and in its QR code). Joining as onsite needs it, so "onsite" means "was in the
    /// room". Derived, never stored: any node with the secret agrees on it.
    pub fn room_code(&self, session: SessionId, at_ms: u64) -> String {
        let mut mac = self.mac();
        mac.update(b"room\0");
        mac.update(session.0.as_bytes());
        mac.update(&(at_ms / ROOM_CODE_PERIOD_MS).to_le_bytes());
        let d = mac.finalize().into_bytes();
        format!(
            "{:06}",
            u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % 1_000_000
        )
    }

    /// Whether `code` is the room code of this period or the previous one: a code keeps working
    /// for up to a period after it leaves the screen, then expires.
    pub fn room_code_valid(&self, session: SessionId, code: &str, now_ms: u64) -> bool {
        let earlier = now_ms.saturating_sub(ROOM_CODE_PERIOD_MS);
        [now_ms, earlier]
            .iter()
            .any(|&t| secret_matches(&self.room_code(session, t), code.trim()))
    }
}

/// What a typed room code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomCode {
    /// This period's code or the last one's: the person was in the room.
    Current,
    /// A code the display showed within the last hour: the person was in the room, a while ago.
    Expired,
    /// No code the display showed lately: mistyped, or guessed.
    Wrong,
}

/// Periods an old code is still told apart as expired rather than wrong (an hour).
const ROOM_CODE_REMEMBERED: u64 = 60;

impl Keys {
    /// What `code` is for `session` at `now_ms` (see [`RoomCode`]).
    pub fn room_code_check(&self, session: SessionId, code: &str, now_ms: u64) -> RoomCode {
        if self.room_code_valid(session, code, now_ms) {
            return RoomCode::Current;
        }
        let expired = (2..=ROOM_CODE_REMEMBERED).any(|back| {
            let t = now_ms.saturating_sub(back * ROOM_CODE_PERIOD_MS);
            secret_matches(&self.room_code(session, t), code.trim())
        });
        if expired {
            RoomCode::Expired
        } else {
            RoomCode::Wrong
        }
    }
}

/// Crockford's base32 alphabet: digits and capitals without I, L, O and U, so a code read off a
/// poster cannot be mistyped into another one.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a session's short code (5 bits each: 50 bits).
pub const SHORT_CODE_LEN: usize = 10;

impl Keys {
    /// The short code of `session`: ten characters of Crockford base32 from the HMAC of its id,
    /// for `/j/{code}`, the address typed by people who cannot scan the poster's QR code.
    /// Derived from the id alone (not the key epoch), so it stays the same after a rotation and
    /// a restart, needs no storage, and every node with the secret agrees on it.
    pub fn short_code(&self, session: SessionId) -> String {
        let mut mac = self.mac();
        mac.update(b"short\0");
        mac.update(session.0.as_bytes());
        let d = mac.finalize().into_bytes();
        let bits = u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
        (0..SHORT_CODE_LEN)
            .map(|i| char::from(CROCKFORD[((bits >> (59 - 5 * i)) & 31) as usize]))
            .collect()
    }
}

/// `code` as typed, in the canonical form of [`Keys::short_code`]: case-insensitive, hyphens
/// and spaces dropped, `O` read as zero and `I`/`L` as one (Crockford's rules); `None` if it
/// cannot be a short code.
pub fn normalize_short_code(code: &str) -> Option<String> {
    let out: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    (out.len() == SHORT_CODE_LEN && out.bytes().all(|b| CROCKFORD.contains(&b))).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_codes_are_stable_per_session_and_typed_loosely() {
        let keys = Keys::from_secret(b"a secret of the right kind, long enough").unwrap();
        let (a, b) = (SessionId::random(), SessionId::random());
        let code = keys.short_code(a);
        assert_eq!(code.len(), SHORT_CODE_LEN);
        assert_eq!(code, keys.short_code(a));
        assert_ne!(code, keys.short_code(b));
        // Another server's secret gives another code.
        let other = Keys::from_secret(b"another secret, just as long as the first").unwrap();
        assert_ne!(code, other.short_code(a));
        // Lowercase, a hyphen in the middle, O for zero and l for one all read the same.
        let typed = format!("{}-{}", &code[..5], &code[5..])
            .to_lowercase()
            .replace('0', "o")
            .replace('1', "l");
        assert_eq!(normalize_short_code(&typed).as_deref(), Some(code.as_str()));
        assert_eq!(normalize_short_code("ABCDE"), None);
        assert_eq!(normalize_short_code("ABCDEFGHJU"), None);
        assert_eq!(normalize_short_code("ÅBCDEFGHJK"), None);
    }

    #[test]
    fn old_codes_are_expired_and_others_wrong() {
        let keys = Keys::generate();
        let s = SessionId::random();
        let t0 = 1_700_000_000_000;
        let now = keys.room_code(s, t0);
        let old = keys.room_code(s, t0 - 10 * ROOM_CODE_PERIOD_MS);
        assert_eq!(keys.room_code_check(s, &now, t0), RoomCode::Current);
        if old != now {
            assert_eq!(keys.room_code_check(s, &old, t0), RoomCode::Expired);
        }
        let other = (0..1_000_000)
            .map(|n| format!("{n:06}"))
            .find(|c| {
                (0..=ROOM_CODE_REMEMBERED)
                    .all(|b| *c != keys.room_code(s, t0 - b * ROOM_CODE_PERIOD_MS))
            })
            .unwrap();
        assert_eq!(keys.room_code_check(s, &other, t0), RoomCode::Wrong);
    }

    #[test]
    fn room_codes_rotate_and_expire_one_period_after_they_leave_the_screen() {
        let keys = Keys::generate();
        let s = SessionId::random();
        let t0 = 10 * ROOM_CODE_PERIOD_MS;
        let code = keys.room_code(s, t0);
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(
            keys.room_code(s, t0 + ROOM_CODE_PERIOD_MS - 1),
            code,
            "stable within its period"
        );
        assert!(
            keys.room_code_valid(s, &code, t0 + ROOM_CODE_PERIOD_MS + 10),
            "still valid just after"
        );
        assert!(
            !keys.room_code_valid(s, &code, t0 + 2 * ROOM_CODE_PERIOD_MS),
            "expired"
        );
        assert!(
            !keys.room_code_valid(SessionId::random(), &code, t0),
            "another room's code"
        );
        assert!(
            !Keys::generate().room_code_valid(s, &code, t0),
            "another server's code"
        );
    }
}
