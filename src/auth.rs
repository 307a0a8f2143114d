//! Capability tokens for role links, signed with HMAC-SHA256.
//!
//! A link's fragment carries `v1.<payload>.<mac>`: the payload (base64url JSON) names the role,
//! the session, the participant (on a joined participant's own link) and the session's key epoch;
//! the MAC covers exactly the signed text and is checked in constant time before the payload is
//! parsed. Rotating a session's key epoch invalidates every older link at once. The MAC key is
//! derived from the server's secret with a label, so the same secret can sign other things
//! later without one kind of token passing for another.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::queue::ParticipantId;

/// A session's id (a random UUID v4), shown as 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub uuid::Uuid);

impl SessionId {
    /// A fresh random id.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.simple())
    }
}

impl FromStr for SessionId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Self)
    }
}

impl Serialize for SessionId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for SessionId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SessionId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A session's id: 32 lowercase hex digits.",
            "type": "string",
            "pattern": "^[0-9a-f]{32}$"
        })
    }
}

/// The roles a link can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The onsite moderator.
    Chair,
    /// The online moderator.
    OnlineModerator,
    /// A participant (the shared join link, or a joined participant's own link).
    Participant,
    /// The room display.
    Display,
}

/// What a link allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capability {
    /// The role.
    pub role: Role,
    /// The session.
    pub session: SessionId,
    /// The participant, on a joined participant's own link.
    pub participant: Option<ParticipantId>,
    /// The session's key epoch when signed.
    pub epoch: u32,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    r: Role,
    s: SessionId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<u32>,
    e: u32,
}

/// Why a token or secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Not a token.
    #[error("the token is malformed")]
    Malformed,
    /// Signed with another key, or altered.
    #[error("the token's signature does not match")]
    BadSignature,
    /// A secret shorter than 32 bytes.
    #[error("the secret must be at least 32 bytes")]
    WeakSecret,
}

impl AuthError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Malformed | AuthError::BadSignature => "bad_token",
            AuthError::WeakSecret => "weak_secret",
        }
    }
}

const PREFIX: &str = "v1.";
const TOKEN_MAX: usize = 512;

/// The server's signing secret.
#[derive(Clone)]
pub struct Keys {
    secret: Vec<u8>,
    mac_key: [u8; 32],
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys(<redacted>)")
    }
}

impl Keys {
    /// 32 fresh random bytes.
    pub fn generate() -> Self {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the OS has randomness");
        Self::from_secret(&secret).expect("32 bytes")
    }

    /// Keys from a secret of at least 32 bytes. The MAC key is derived from it with a label,
    /// so the same secret can sign other things later without confusion.
    pub fn from_secret(secret: &[u8]) -> Result<Self, AuthError> {
        if secret.len() < 32 {
            return Err(AuthError::WeakSecret);
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
        mac.update(b"rostrum capability v1");
        Ok(Self {
            secret: secret.to_vec(),
            mac_key: mac.finalize().into_bytes().into(),
        })
    }

    /// The secret as hex, for keeping it.
    pub fn to_hex(&self) -> String {
        self.secret.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Keys from hex.
    pub fn from_hex(s: &str) -> Result<Self, AuthError> {
        let s = s.trim();
        if !s.len().is_multiple_of(2) || !s.is_ascii() {
            return Err(AuthError::WeakSecret);
        }
        let bytes: Result<Vec<u8>, _> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16))
            .collect();
        Self::from_secret(&bytes.map_err(|_| AuthError::WeakSecret)?)
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.mac_key).expect("any key length")
    }

    /// The token for a capability.
    pub fn sign(&self, cap: &Capability) -> String {
        let payload = Payload {
            r: cap.role,
            s: cap.session,
            p: cap.participant.map(|p| p.0),
            e: cap.epoch,
        };
        let body = format!(
            "{PREFIX}{}",
            B64.encode(serde_json::to_vec(&payload).expect("serializes"))
        );
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        format!("{body}.{}", B64.encode(mac.finalize().into_bytes()))
    }

    /// The capability a token carries, if this server signed it. The MAC is checked (in
    /// constant time) before the payload is parsed.
    pub fn verify(&self, token: &str) -> Result<Capability, AuthError> {
        if token.len() > TOKEN_MAX || !token.starts_with(PREFIX) {
            return Err(AuthError::Malformed);
        }
        let (body, sig) = token.rsplit_once('.').ok_or(AuthError::Malformed)?;
        let sig = B64.decode(sig).map_err(|_| AuthError::Malformed)?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&sig)
            .map_err(|_| AuthError::BadSignature)?;
        let json = B64
            .decode(&body[PREFIX.len()..])
            .map_err(|_| AuthError::Malformed)?;
        let p: Payload = serde_json::from_slice(&json).map_err(|_| AuthError::Malformed)?;
        if p.p.is_some() && p.r != Role::Participant {
            return Err(AuthError::Malformed);
        }
        Ok(Capability {
            role: p.r,
            session: p.s,
            participant: p.p.map(ParticipantId),
            epoch: p.e,
        })
    }
}

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

/// What a client secret starts with (its format's version).
const CLIENT_PREFIX: &str = "c1.";
/// Random bytes in a client secret, then as many bytes of its MAC.
const CLIENT_RANDOM: usize = 16;

impl Keys {
    /// A fresh client secret for `session`: `c1.` then base64url of 128 random bits and the
    /// first 128 bits of their HMAC (with the session). Issued in `welcome` and presented on
    /// resume, it names one client as the sender of its commands; only the server can make one,
    /// and it checks without any state, after a restart or on another node with the secret.
    pub fn client_secret(&self, session: SessionId) -> String {
        let mut bytes = [0u8; 2 * CLIENT_RANDOM];
        getrandom::fill(&mut bytes[..CLIENT_RANDOM]).expect("the OS has randomness");
        let tag = self.client_tag(session, &bytes[..CLIENT_RANDOM]);
        bytes[CLIENT_RANDOM..].copy_from_slice(&tag[..CLIENT_RANDOM]);
        format!("{CLIENT_PREFIX}{}", B64.encode(bytes))
    }

    /// Whether `secret` is a client secret this server issued for `session` (checked in
    /// constant time).
    pub fn client_secret_valid(&self, session: SessionId, secret: &str) -> bool {
        let Some(bytes) = secret
            .strip_prefix(CLIENT_PREFIX)
            .and_then(|b| B64.decode(b).ok())
            .filter(|b| b.len() == 2 * CLIENT_RANDOM)
        else {
            return false;
        };
        let tag = self.client_tag(session, &bytes[..CLIENT_RANDOM]);
        tag[..CLIENT_RANDOM]
            .iter()
            .zip(&bytes[CLIENT_RANDOM..])
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
    }

    fn client_tag(&self, session: SessionId, random: &[u8]) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(b"client\0");
        mac.update(session.0.as_bytes());
        mac.update(random);
        mac.finalize().into_bytes().into()
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

/// Whether `given` equals the secret `expected` (the admin token, a room code), compared in
/// constant time over SHA-256 digests, so lengths leak nothing either.
pub fn secret_matches(expected: &str, given: &str) -> bool {
    let a = Sha256::digest(expected.as_bytes());
    let b = Sha256::digest(given.as_bytes());
    !expected.is_empty()
        && a.iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// 32 random bytes, base64url: a generated admin token.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    B64.encode(bytes)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

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
    fn client_secrets_are_unguessable_bound_to_their_session_and_this_server() {
        let keys = Keys::generate();
        let (s, other) = (SessionId::random(), SessionId::random());
        let a = keys.client_secret(s);
        let b = keys.client_secret(s);
        assert_ne!(a, b, "fresh each time");
        assert!(a.len() <= 64, "fits the hello's client field: {a}");
        assert!(keys.client_secret_valid(s, &a));
        assert!(!keys.client_secret_valid(other, &a), "another session's");
        assert!(
            !Keys::generate().client_secret_valid(s, &a),
            "another server's"
        );
        // Any change to the random part or the tag breaks it.
        let mut forged = a.clone().into_bytes();
        let last = forged.len() - 5;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        assert!(!keys.client_secret_valid(s, std::str::from_utf8(&forged).unwrap()));
        for junk in ["", "tab-1", "c1.", "c1.AAAA", &format!("c2.{}", &a[3..])] {
            assert!(!keys.client_secret_valid(s, junk), "{junk}");
        }
    }

    fn cap(role: Role, participant: Option<u32>) -> Capability {
        Capability {
            role,
            session: SessionId::random(),
            participant: participant.map(ParticipantId),
            epoch: 3,
        }
    }

    #[test]
    fn every_role_round_trips() {
        let keys = Keys::generate();
        for c in [
            cap(Role::Chair, None),
            cap(Role::OnlineModerator, None),
            cap(Role::Participant, None),
            cap(Role::Participant, Some(7)),
            cap(Role::Display, None),
        ] {
            let token = keys.sign(&c);
            assert!(
                token
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch)),
                "fragment-safe: {token}"
            );
            assert_eq!(keys.verify(&token), Ok(c));
        }
    }

    #[test]
    fn altered_or_foreign_tokens_are_refused() {
        let keys = Keys::generate();
        let token = keys.sign(&cap(Role::Participant, Some(1)));
        assert_eq!(
            Keys::generate().verify(&token),
            Err(AuthError::BadSignature),
            "another server's key"
        );
        for i in 3..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            if let Ok(t) = String::from_utf8(bytes)
                && t != token
            {
                assert!(keys.verify(&t).is_err(), "byte {i} flipped");
            }
        }
        // A participant's payload re-encoded as the chair's, with the old signature.
        let (body, sig) = token.rsplit_once('.').unwrap();
        let json = String::from_utf8(B64.decode(&body[3..]).unwrap())
            .unwrap()
            .replace("participant", "chair");
        let forged = format!("v1.{}.{sig}", B64.encode(json));
        assert_eq!(keys.verify(&forged), Err(AuthError::BadSignature));
    }

    #[test]
    fn garbage_is_malformed_never_a_panic() {
        let keys = Keys::generate();
        for t in [
            "",
            ".",
            "v1..",
            "v1.x",
            "v2.a.b",
            "v1.!!!.???",
            &"v1.".repeat(400),
        ] {
            assert!(keys.verify(t).is_err(), "{t:?}");
        }
        let mut mac = keys.mac();
        let body = format!("v1.{}", B64.encode("not json"));
        mac.update(body.as_bytes());
        let signed_garbage = format!("{body}.{}", B64.encode(mac.finalize().into_bytes()));
        assert_eq!(keys.verify(&signed_garbage), Err(AuthError::Malformed));
    }

    #[test]
    fn secrets_are_long_hex_and_never_printed() {
        let keys = Keys::generate();
        let hex = keys.to_hex();
        assert_eq!(hex.len(), 64);
        assert!(!format!("{keys:?}").contains(&hex));
        let again = Keys::from_hex(&hex).unwrap();
        let c = cap(Role::Chair, None);
        assert_eq!(again.verify(&keys.sign(&c)), Ok(c));
        assert_eq!(Keys::from_hex("abcd").unwrap_err(), AuthError::WeakSecret);
        assert_eq!(Keys::from_hex("zz").unwrap_err(), AuthError::WeakSecret);
    }

    #[test]
    fn session_ids_print_as_hex_and_parse_back() {
        let id = SessionId::random();
        let s = id.to_string();
        assert_eq!(s.len(), 32);
        assert_eq!(s.parse::<SessionId>().unwrap(), id);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{s}\""));
        assert!("nope".parse::<SessionId>().is_err());
    }

    #[test]
    fn the_admin_token_must_match_exactly() {
        assert!(secret_matches("secret-token", "secret-token"));
        assert!(!secret_matches("secret-token", "secret-toke"));
        assert!(!secret_matches("secret-token", ""));
        assert!(
            !secret_matches("", ""),
            "an empty admin token opens nothing"
        );
        assert_ne!(random_token(), random_token());
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

    proptest! {
        #[test]
        fn verify_never_panics(s in ".{0,600}") {
            let _ = Keys::from_secret(&[1; 32]).unwrap().verify(&s);
        }
    }
}
