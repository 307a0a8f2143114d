//! Client secrets: issued in `welcome` and presented on resume, one names a client as the
//! sender of its commands; checked without any state.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::Mac;

use super::Keys;
use crate::ids::SessionId;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
