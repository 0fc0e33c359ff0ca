//! API tokens: generated at random, shown once, stored as a SHA-256 hash only.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix that makes gitomatic tokens recognisable in secret scanners.
const TOKEN_PREFIX: &str = "gtm_";

/// A freshly generated token: the secret to show once and the hash to store.
pub struct NewToken {
    /// The bearer token, shown to the operator once.
    pub secret: String,
    /// Hex SHA-256 of the secret, the only thing stored.
    pub hash: String,
}

/// Generates a random 256-bit token.
pub fn generate() -> NewToken {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let hash = hash(&secret);
    NewToken { secret, hash }
}

/// Hex SHA-256 of a presented token, as stored in `api_tokens.token_hash`.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hash_to_what_is_stored() {
        let a = generate();
        let b = generate();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(TOKEN_PREFIX));
        assert_eq!(hash(&a.secret), a.hash);
        assert_ne!(a.hash, a.secret);
        assert_eq!(a.hash.len(), 64);
    }
}
