//! Random secrets and identifiers: API tokens, event tickets, access keys,
//! internal credentials and operation ids. A leaf: it imports nothing of
//! this crate, so every layer may use it.

use base64::Engine as _;
use rand::RngCore;

/// `bytes` random bytes from the OS-seeded generator, as lower-case hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh access key: 32 random bytes, base64 like Azure's (44 characters).
pub fn new_access_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_look_like_azures() {
        let key = new_access_key();
        assert_eq!(key.len(), 44);
        assert!(key.ends_with('='));
        assert_ne!(key, new_access_key());
    }

    #[test]
    fn hex_has_two_digits_per_byte() {
        let hex = random_hex(16);
        assert_eq!(hex.len(), 32);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
