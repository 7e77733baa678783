//! The `PiiCipher` port over AES-256-GCM (RustCrypto `aes-gcm` 0.10).
//!
//! A [`KeyRing`] holds every configured key by id and seals with the active
//! one. Each sealed value is self-describing text:
//! `v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`, with a fresh random
//! 96-bit nonce per value and the storage context (table, column, row) as
//! associated data. Rotating keys = add a new key, make it active, keep the
//! old one configured until no stored value names it.
//!
//! Per-user data keys (crypto-shredding): a user's personal data is sealed
//! as `d1.<base64url(nonce ‖ ciphertext ‖ tag)>` with a random 256-bit key
//! of their own, stored wrapped (sealed by the ring, so it rotates with it).
//! Destroying the wrapped key erases every copy of that user's values.
#![forbid(unsafe_code)]

use aes_gcm::aead::{Aead as _, Payload};
use aes_gcm::{Aes256Gcm, KeyInit as _, Nonce};
use anyhow::{Context as _, anyhow, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use profile_verification::{KeyUnavailable, PiiCipher};
use std::collections::BTreeMap;
use std::fmt;

/// The format tag of sealed values.
const VERSION: &str = "v1";
/// AES-GCM's standard nonce length.
const NONCE_LEN: usize = 12;

/// Keys by id, and the id new values are sealed with.
pub struct KeyRing {
    keys: BTreeMap<String, Aes256Gcm>,
    active: String,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key material.
        f.debug_struct("KeyRing")
            .field("ids", &self.keys.keys().collect::<Vec<_>>())
            .field("active", &self.active)
            .finish()
    }
}

/// Whether a key id is 1..32 ASCII letters, digits, `_` or `-` (it is stored
/// inside every sealed value, so it must not contain the `.` separator).
pub fn is_valid_key_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Decodes a 32-byte key given in standard or URL-safe base64 (padding optional).
pub fn decode_key(encoded: &str) -> anyhow::Result<[u8; 32]> {
    let trimmed = encoded.trim();
    let bytes = STANDARD
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed.trim_end_matches('=')))
        .map_err(|_| anyhow!("the key is not base64"))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| anyhow!("the key must decode to 32 bytes, not {}", bytes.len()))
}

/// A 32-byte key derived from a generated secret's text (SHA-256 with a
/// domain-separation prefix): how the embedded default turns the secret file
/// it generates into `data_dir` into an AES-256 key.
pub fn derive_key(secret: &str) -> [u8; 32] {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"usher profile pii key v1\0");
    hasher.update(secret.as_bytes());
    hasher.finalize().into()
}

/// A short public fingerprint of a key (8 hex digits of a SHA-256 with a
/// domain-separation prefix), used to name generated keys so that two
/// different generated keys never share an id.
pub fn fingerprint(key: &[u8; 32]) -> String {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"usher key fingerprint v1\0");
    hasher.update(key);
    hasher.finalize().iter().take(4).map(|b| format!("{b:02x}")).collect()
}

impl KeyRing {
    /// A ring of `(id, 32-byte key)` pairs sealing with `active`.
    pub fn new(keys: impl IntoIterator<Item = (String, [u8; 32])>, active: &str) -> anyhow::Result<Self> {
        let mut ring = BTreeMap::new();
        for (id, key) in keys {
            ensure!(is_valid_key_id(&id), "encryption key id {id:?} must be 1..32 letters, digits, `_` or `-`");
            let cipher = Aes256Gcm::new(&key.into());
            ensure!(ring.insert(id.clone(), cipher).is_none(), "encryption key id {id:?} is configured twice");
        }
        ensure!(ring.contains_key(active), "the active encryption key {active:?} is not among the configured keys");
        Ok(Self { keys: ring, active: active.to_owned() })
    }

    /// The id new values are sealed with.
    pub fn active_id(&self) -> &str {
        &self.active
    }

    /// The id of the key that sealed `sealed`, if it is a sealed value.
    pub fn key_id_of(sealed: &str) -> Option<&str> {
        let mut parts = sealed.splitn(3, '.');
        (parts.next() == Some(VERSION)).then_some(())?;
        parts.next().filter(|id| is_valid_key_id(id))
    }
}

/// Encrypts with a fresh random nonce; returns `nonce ‖ ciphertext ‖ tag`.
fn encrypt(cipher: &Aes256Gcm, plaintext: &str, context: &str) -> anyhow::Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| anyhow!("reading the OS random generator: {e}"))?;
    let sealed = cipher
        .encrypt(&Nonce::from(nonce), Payload { msg: plaintext.as_bytes(), aad: context.as_bytes() })
        .map_err(|_| anyhow!("sealing a value for {context}"))?;
    let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&sealed);
    Ok(blob)
}

/// Decrypts the base64url `body` made by [`encrypt`]; `key` names the key in errors.
fn decrypt(cipher: &Aes256Gcm, body: &str, context: &str, key: &str) -> anyhow::Result<String> {
    let blob = URL_SAFE_NO_PAD.decode(body).with_context(|| format!("decoding the sealed value for {context}"))?;
    ensure!(blob.len() > NONCE_LEN, "the sealed value for {context} is truncated");
    let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().context("splitting the nonce")?;
    let plain = cipher
        .decrypt(&Nonce::from(nonce), Payload { msg: ciphertext, aad: context.as_bytes() })
        .map_err(|_| anyhow!("the sealed value for {context} does not open with {key} (tampered or moved)"))?;
    String::from_utf8(plain).with_context(|| format!("the value for {context} is not UTF-8"))
}

/// The format tag of values sealed with a user's data key: `d1.<base64url>`.
const DATA_VERSION: &str = "d1";

impl KeyRing {
    /// The AES-256-GCM cipher of a wrapped data key.
    fn data_cipher(&self, wrapped: &str, key_context: &str) -> anyhow::Result<Aes256Gcm> {
        let encoded = self.open(wrapped, key_context)?;
        let key = URL_SAFE_NO_PAD.decode(encoded).context("decoding an unwrapped data key")?;
        let key = <[u8; 32]>::try_from(key.as_slice()).map_err(|_| anyhow!("a data key is not 32 bytes"))?;
        Ok(Aes256Gcm::new(&key.into()))
    }
}

impl PiiCipher for KeyRing {
    fn seal(&self, plaintext: &str, context: &str) -> anyhow::Result<String> {
        let cipher = self.keys.get(&self.active).ok_or_else(|| anyhow!("the active key vanished"))?;
        let blob = encrypt(cipher, plaintext, context)?;
        Ok(format!("{VERSION}.{}.{}", self.active, URL_SAFE_NO_PAD.encode(blob)))
    }

    fn open(&self, sealed: &str, context: &str) -> anyhow::Result<String> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            bail!("the stored value for {context} is not a sealed value");
        };
        let cipher = self.keys.get(id).ok_or_else(|| {
            anyhow::Error::new(KeyUnavailable { key_id: id.to_owned() })
                .context(format!("opening the value for {context}"))
        })?;
        decrypt(cipher, body, context, &format!("key {id:?}"))
    }

    fn new_data_key(&self, key_context: &str) -> anyhow::Result<String> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| anyhow!("reading the OS random generator: {e}"))?;
        self.seal(&URL_SAFE_NO_PAD.encode(key), key_context)
    }

    fn seal_with(&self, wrapped: &str, key_context: &str, plaintext: &str, context: &str) -> anyhow::Result<String> {
        let blob = encrypt(&self.data_cipher(wrapped, key_context)?, plaintext, context)?;
        Ok(format!("{DATA_VERSION}.{}", URL_SAFE_NO_PAD.encode(blob)))
    }

    fn open_with(&self, wrapped: &str, key_context: &str, sealed: &str, context: &str) -> anyhow::Result<String> {
        let Some(body) = sealed.strip_prefix(DATA_VERSION).and_then(|rest| rest.strip_prefix('.')) else {
            bail!("the stored value for {context} is not sealed with a data key");
        };
        decrypt(&self.data_cipher(wrapped, key_context)?, body, context, "the user's data key")
    }

    fn is_data_sealed(&self, stored: &str) -> bool {
        stored.strip_prefix(DATA_VERSION).is_some_and(|rest| rest.starts_with('.'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_keys_seal_per_user_and_destroying_one_erases_its_values() {
        let ring = ring(&[("k1", 1)], "k1");
        let wrapped = ring.new_data_key("user_data_keys:7").unwrap();
        assert!(wrapped.starts_with("v1.k1."), "wrapped by the key ring: {wrapped}");
        let sealed = ring.seal_with(&wrapped, "user_data_keys:7", "Ada", "profiles.first_name:x").unwrap();
        assert!(sealed.starts_with("d1.") && ring.is_data_sealed(&sealed) && !ring.is_data_sealed(&wrapped));
        assert_eq!(ring.open_with(&wrapped, "user_data_keys:7", &sealed, "profiles.first_name:x").unwrap(), "Ada");
        // Another user's key, a moved value or a moved key does not open it.
        let other = ring.new_data_key("user_data_keys:8").unwrap();
        assert!(ring.open_with(&other, "user_data_keys:8", &sealed, "profiles.first_name:x").is_err());
        assert!(ring.open_with(&wrapped, "user_data_keys:7", &sealed, "profiles.last_name:x").is_err());
        assert!(ring.open_with(&wrapped, "user_data_keys:8", &sealed, "profiles.first_name:x").is_err());
        // Rotating the key ring keeps wrapped data keys readable while the old key is configured.
        let rotated = KeyRing::new([("k1".to_owned(), [1; 32]), ("k2".to_owned(), [2; 32])], "k2").unwrap();
        assert_eq!(rotated.open_with(&wrapped, "user_data_keys:7", &sealed, "profiles.first_name:x").unwrap(), "Ada");
    }

    fn ring(keys: &[(&str, u8)], active: &str) -> KeyRing {
        KeyRing::new(keys.iter().map(|(id, b)| ((*id).to_owned(), [*b; 32])), active).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_and_reveals_nothing_of_the_plaintext() {
        let ring = ring(&[("k1", 7)], "k1");
        let sealed = ring.seal("Ada Lovelace", "profiles.first_name:1").unwrap();
        assert!(sealed.starts_with("v1.k1."), "{sealed}");
        assert!(!sealed.contains("Ada") && !sealed.contains("Lovelace"));
        assert_eq!(KeyRing::key_id_of(&sealed), Some("k1"));
        assert_eq!(ring.open(&sealed, "profiles.first_name:1").unwrap(), "Ada Lovelace");
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let ring = ring(&[("k1", 7)], "k1");
        assert_ne!(ring.seal("same", "c").unwrap(), ring.seal("same", "c").unwrap());
    }

    #[test]
    fn a_value_moved_to_another_row_or_column_does_not_open() {
        let ring = ring(&[("k1", 7)], "k1");
        let sealed = ring.seal("Ada", "profiles.first_name:1").unwrap();
        assert!(ring.open(&sealed, "profiles.first_name:2").is_err());
        assert!(ring.open(&sealed, "profiles.last_name:1").is_err());
    }

    #[test]
    fn values_sealed_with_a_rotated_out_key_open_while_it_is_configured() {
        let old = ring(&[("2025", 1)], "2025");
        let sealed = old.seal("1990-02-28", "ctx").unwrap();
        let rotated = ring(&[("2025", 1), ("2026", 2)], "2026");
        assert_eq!(rotated.open(&sealed, "ctx").unwrap(), "1990-02-28");
        assert!(rotated.seal("x", "ctx").unwrap().starts_with("v1.2026."));
        let dropped = ring(&[("2026", 2)], "2026");
        let err = dropped.open(&sealed, "ctx").unwrap_err();
        assert_eq!(err.downcast_ref::<KeyUnavailable>(), Some(&KeyUnavailable { key_id: "2025".into() }), "{err:#}");
        assert!(format!("{err:#}").contains("not configured"), "{err:#}");
    }

    #[test]
    fn tampered_truncated_or_foreign_values_fail_to_open() {
        let ring = ring(&[("k1", 7)], "k1");
        let sealed = ring.seal("Ada", "c").unwrap();
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(ring.open(&String::from_utf8(tampered).unwrap(), "c").is_err());
        for bad in ["", "Ada", "v1.k1.", "v1.k1.AAAA", "v2.k1.xxxx", "v1.k1.!!!"] {
            assert!(ring.open(bad, "c").is_err(), "{bad:?}");
        }
        let other = KeyRing::new([("k1".to_owned(), [8u8; 32])], "k1").unwrap();
        assert!(other.open(&sealed, "c").is_err(), "a different key under the same id");
    }

    #[test]
    fn key_rings_refuse_bad_ids_duplicates_and_a_missing_active_key() {
        assert!(KeyRing::new([("a.b".to_owned(), [0; 32])], "a.b").is_err());
        assert!(KeyRing::new([("k".to_owned(), [0; 32]), ("k".to_owned(), [1; 32])], "k").is_err());
        assert!(KeyRing::new([("k".to_owned(), [0; 32])], "other").is_err());
        assert!(!format!("{:?}", ring(&[("k1", 7)], "k1")).contains('7'));
    }

    #[test]
    fn derived_keys_are_stable_and_differ_per_secret() {
        assert_eq!(derive_key("abc"), derive_key("abc"));
        assert_ne!(derive_key("abc"), derive_key("abd"));
    }

    #[test]
    fn fingerprints_are_short_stable_hex_and_differ_per_key() {
        let a = fingerprint(&[1; 32]);
        assert_eq!(a.len(), 8);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, fingerprint(&[1; 32]));
        assert_ne!(a, fingerprint(&[2; 32]));
        assert!(is_valid_key_id(&format!("local-{a}")));
    }

    #[test]
    fn keys_decode_from_either_base64_alphabet_and_must_be_32_bytes() {
        let key = [0xfbu8; 32];
        assert_eq!(decode_key(&STANDARD.encode(key)).unwrap(), key);
        assert_eq!(decode_key(&URL_SAFE_NO_PAD.encode(key)).unwrap(), key);
        assert!(decode_key(&STANDARD.encode([0u8; 16])).is_err());
        assert!(decode_key("not base64!").is_err());
    }
}
