//! Capability tokens for role links, signed with HMAC-SHA256.
//!
//! A link's fragment carries `v1.<payload>.<mac>`: the payload (base64url JSON) names the role,
//! the session, the participant (on a joined participant's own link) and the session's key epoch;
//! the MAC covers exactly the signed text and is checked in constant time before the payload is
//! parsed. Rotating a session's key epoch invalidates every older link at once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::Mac;
use serde::{Deserialize, Serialize};

use super::{AuthError, Keys};
use crate::ids::SessionId;
use crate::queue::ParticipantId;

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

const PREFIX: &str = "v1.";
const TOKEN_MAX: usize = 512;

impl Keys {
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

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use hmac::Mac;
    use proptest::prelude::*;

    use super::*;

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

    proptest! {
        #[test]
        fn verify_never_panics(s in ".{0,600}") {
            let _ = Keys::from_secret(&[1; 32]).unwrap().verify(&s);
        }
    }
}
