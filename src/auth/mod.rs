//! What the server's secret proves, split by concept: capability tokens for role links
//! (`capability.rs`), the room's rotating code and the session's short code (`room.rs`), the
//! client secrets that name a sender across reconnects (`client.rs`), and the admin token's
//! check (`admin.rs`). Each is an HMAC-SHA256 under a key derived from the one secret with its
//! own label, so one kind of token never passes for another.

mod admin;
mod capability;
mod client;
mod room;

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use admin::{random_token, secret_matches};
pub use capability::{Capability, Role};
pub use room::{ROOM_CODE_PERIOD_MS, RoomCode, SHORT_CODE_LEN, normalize_short_code};

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

/// The server's signing secret.
#[derive(Clone)]
pub struct Keys {
    secret: Vec<u8>,
    /// The HMAC keyed with the derived MAC key once (its inner and outer pads hashed), cloned
    /// for each use: every connect verifies a link and makes a client secret with it.
    mac: Hmac<Sha256>,
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
        let mac_key: [u8; 32] = mac.finalize().into_bytes().into();
        Ok(Self {
            secret: secret.to_vec(),
            mac: Hmac::<Sha256>::new_from_slice(&mac_key).expect("any key length"),
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
        self.mac.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Capability, Role};
    use crate::ids::SessionId;

    #[test]
    fn secrets_are_long_hex_and_never_printed() {
        let keys = Keys::generate();
        let hex = keys.to_hex();
        assert_eq!(hex.len(), 64);
        assert!(!format!("{keys:?}").contains(&hex));
        let again = Keys::from_hex(&hex).unwrap();
        let c = Capability {
            role: Role::Chair,
            session: SessionId::random(),
            participant: None,
            epoch: 3,
        };
        assert_eq!(again.verify(&keys.sign(&c)), Ok(c));
        assert_eq!(Keys::from_hex("abcd").unwrap_err(), AuthError::WeakSecret);
        assert_eq!(Keys::from_hex("zz").unwrap_err(), AuthError::WeakSecret);
    }
}
