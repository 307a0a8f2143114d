//! The admin token: its constant-time check and a generated one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use sha2::{Digest, Sha256};

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
    use super::*;

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
}
