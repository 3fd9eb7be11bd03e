//! Access keys: long random URL-safe tokens, of which the store keeps only
//! a SHA-256 hash and a short hint.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use sds_store::KeyHash;

/// `[A-Za-z0-9_-]`: clients paste keys into URLs unescaped.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// 43 characters of 6 bits: 258 bits of randomness.
const KEY_CHARS: usize = 43;
const HINT_CHARS: usize = 6;

/// A secret key. `Debug` never shows it, so it cannot leak into logs.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

/// Why a key value cannot be imported (`sds keys import`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyFormatError {
    #[error("a key must be {IMPORT_MIN_CHARS} to {IMPORT_MAX_CHARS} characters long; this one has {0}")]
    Length(usize),
    #[error("a key may hold only the URL-safe characters A-Z, a-z, 0-9, '-' and '_'")]
    Characters,
}

/// Shortest and longest key value `sds keys import` accepts. Bing Maps keys
/// are 64 characters; 16 is the least that is still hard to guess.
pub const IMPORT_MIN_CHARS: usize = 16;
pub const IMPORT_MAX_CHARS: usize = 128;

impl SecretKey {
    /// An existing key value brought from elsewhere (a Bing Maps key), so
    /// that URLs holding it keep working. It must be 16 to 128 characters
    /// of `[A-Za-z0-9_-]`, which need no escaping in a URL.
    pub fn import(value: &str) -> Result<SecretKey, KeyFormatError> {
        let length = value.chars().count();
        if !(IMPORT_MIN_CHARS..=IMPORT_MAX_CHARS).contains(&length) {
            return Err(KeyFormatError::Length(length));
        }
        if !value.bytes().all(|byte| ALPHABET.contains(&byte)) {
            return Err(KeyFormatError::Characters);
        }
        Ok(SecretKey(value.to_owned()))
    }

    pub fn generate() -> SecretKey {
        let mut bytes = [0u8; KEY_CHARS];
        rand::thread_rng().fill_bytes(&mut bytes);
        // 64 divides 256, so masking keeps every character equally likely.
        let mut key: String = bytes.iter().map(|byte| ALPHABET[usize::from(byte & 63)] as char).collect();
        // A key that starts with `-` reads as an option on a command line
        // (`sds keys import --key -x…`, `sds upload --key -x…`): its first
        // character is a letter or digit (62 of 64 choices; 257.9 bits).
        if key.starts_with(['-', '_']) {
            let first = ALPHABET[rand::Rng::gen_range(&mut rand::thread_rng(), 0..62)] as char;
            key.replace_range(..1, first.encode_utf8(&mut [0; 4]));
        }
        SecretKey(key)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> KeyHash {
        hash_key(&self.0)
    }

    pub fn hint(&self) -> String {
        self.0.chars().take(HINT_CHARS).collect()
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

pub fn hash_key(key: &str) -> KeyHash {
    Sha256::digest(key.as_bytes()).into()
}

/// Compares two hashes without an early exit on the first differing byte.
pub fn hashes_equal(left: &KeyHash, right: &KeyHash) -> bool {
    left.ct_eq(right).into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_keys_never_start_like_an_option() {
        for _ in 0..2000 {
            let key = super::SecretKey::generate();
            assert_eq!(key.expose().len(), super::KEY_CHARS);
            assert!(key.expose().as_bytes()[0].is_ascii_alphanumeric(), "{}", key.expose());
        }
    }

    use super::*;

    #[test]
    fn keys_are_long_url_safe_and_distinct() {
        let key = SecretKey::generate();
        assert_eq!(key.expose().len(), KEY_CHARS);
        assert!(key.expose().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(key, SecretKey::generate());
        assert_eq!(format!("{key:?}"), "SecretKey(…)");
    }

    #[test]
    fn imported_keys_must_be_16_to_128_url_safe_characters() {
        assert!(SecretKey::import(&"a".repeat(16)).is_ok());
        assert!(SecretKey::import(&"Z9_-".repeat(32)).is_ok());
        assert_eq!(SecretKey::import(&"a".repeat(15)), Err(KeyFormatError::Length(15)));
        assert_eq!(SecretKey::import(&"a".repeat(129)), Err(KeyFormatError::Length(129)));
        assert_eq!(SecretKey::import("abcdefghijklmno+"), Err(KeyFormatError::Characters));
        assert_eq!(SecretKey::import("abcdefghijklmnoé"), Err(KeyFormatError::Characters));
    }

    #[test]
    fn hash_identifies_the_key() {
        let key = SecretKey::generate();
        assert!(hashes_equal(&key.hash(), &hash_key(key.expose())));
        assert!(!hashes_equal(&key.hash(), &hash_key(&key.expose().to_lowercase())));
    }
}
