//! An endpoint's signing secret: 32 random bytes, written `whsec_` and their
//! base64, shown once when made; and the pair kept while one replaces the
//! other, so that receivers can switch without missing a delivery.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::fmt;
use time::{Duration, OffsetDateTime};

/// The prefix Standard Webhooks gives a secret.
const PREFIX: &str = "whsec_";

/// A signing secret. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

/// A secret that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    /// Not `whsec_` and base64.
    #[error("a webhook secret is `whsec_` followed by base64")]
    Format,
    /// Fewer than 24 or more than 64 bytes.
    #[error("a webhook secret holds 24 to 64 bytes")]
    Length,
}

impl Secret {
    /// The bytes a new secret holds.
    pub const BYTES: usize = 32;

    /// A secret of `bytes` (from the host's random source), 24 to 64 of them.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SecretError> {
        if !(24..=64).contains(&bytes.len()) {
            return Err(SecretError::Length);
        }
        Ok(Self(bytes.to_vec()))
    }

    /// Reads `whsec_<base64>`.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text.strip_prefix(PREFIX).ok_or(SecretError::Format)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| SecretError::Format)?;
        Self::from_bytes(&bytes)
    }

    /// The key the signatures are made with.
    pub fn key(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Secret {
    /// `whsec_<base64>`: the form shown once to whoever registers the endpoint.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", STANDARD.encode(&self.0))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// An endpoint's secrets: the current one, and after a rotation the one it
/// replaced, still signing until `until` so receivers can switch over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secrets {
    /// Signs every delivery.
    pub current: Secret,
    /// The replaced secret and when it stops signing.
    pub previous: Option<(Secret, OffsetDateTime)>,
}

impl Secrets {
    /// How long a replaced secret keeps signing beside the new one.
    pub const OVERLAP: Duration = Duration::hours(24);

    /// A new endpoint's secrets.
    pub fn new(current: Secret) -> Self {
        Self { current, previous: None }
    }

    /// `next` becomes the current secret at `now`; the current one keeps
    /// signing for [`Secrets::OVERLAP`]. A secret replaced earlier and still
    /// in its overlap stops now: two signatures at most.
    pub fn rotate(&self, next: Secret, now: OffsetDateTime) -> Self {
        Self { current: next, previous: Some((self.current.clone(), now + Self::OVERLAP)) }
    }

    /// The secrets that sign a delivery sent at `now`: the current one, and
    /// the replaced one while its overlap lasts.
    pub fn signing_at(&self, now: OffsetDateTime) -> Vec<&Secret> {
        let previous = self.previous.as_ref().filter(|(_, until)| now < *until).map(|(s, _)| s);
        std::iter::once(&self.current).chain(previous).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_secret_reads_and_writes_as_whsec_base64_and_never_shows_in_debug() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(secret.to_string(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), Err(SecretError::Format));
        assert_eq!(Secret::parse("whsec_not base64!"), Err(SecretError::Format));
        assert_eq!(Secret::parse("whsec_c2hvcnQ="), Err(SecretError::Length));
        let made = Secret::from_bytes(&[7; Secret::BYTES]).unwrap();
        assert_eq!(Secret::parse(&made.to_string()), Ok(made));
    }

    #[test]
    fn a_rotated_secret_signs_beside_the_new_one_for_a_day_then_stops() {
        let (a, b, c) = (
            Secret::from_bytes(&[1; 32]).unwrap(),
            Secret::from_bytes(&[2; 32]).unwrap(),
            Secret::from_bytes(&[3; 32]).unwrap(),
        );
        let now = datetime!(2026-12-04 12:00 UTC);
        let secrets = Secrets::new(a.clone());
        assert_eq!(secrets.signing_at(now), [&a]);
        let rotated = secrets.rotate(b.clone(), now);
        assert_eq!(rotated.signing_at(now + Duration::hours(23)), [&b, &a]);
        assert_eq!(rotated.signing_at(now + Duration::hours(24)), [&b]);
        // Rotating again within the overlap: the oldest stops at once.
        let again = rotated.rotate(c.clone(), now + Duration::hours(1));
        assert_eq!(again.signing_at(now + Duration::hours(2)), [&c, &b]);
    }
}
