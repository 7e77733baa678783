//! E-mail addresses, parsed once by an RFC 5321/5322 parser and normalised
//! so that comparisons are plain string equality.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An e-mail address: syntactically valid per RFC 5322 (the parser the SMTP
/// adapter uses, so an address accepted here is one the mailer accepts),
/// with an ASCII-lower-cased local part and its domain in ASCII (punycode).
///
/// Case folding is ASCII-only on purpose: Unicode case folding would make
/// `\u{212A}` (KELVIN SIGN) equal to `k`, so an identity provider's
/// `\u{212A}evin@corp.example` would match an invitation for
/// `kevin@corp.example`. Internationalised domains are compared in punycode,
/// and a domain that only equals its punycode form after Unicode mapping
/// (the Kelvin sign, full-width letters) is refused rather than folded.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

/// Why a string is not an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Empty after trimming.
    #[error("the e-mail address is empty")]
    Empty,
    /// Longer than RFC 5321 allows (254 characters, 64 before the `@`).
    #[error("the e-mail address is longer than RFC 5321 allows (254 characters, 64 before the @)")]
    TooLong,
    /// Not of the form `local@domain` by RFC 5322.
    #[error("the e-mail address must look like name@example.com")]
    Malformed,
    /// The domain is not a valid (internationalised) host name with a dot.
    #[error("the e-mail address has an invalid domain")]
    Domain,
    /// A quoted part before the `@` (`"john doe"@example.com`): valid RFC
    /// 5322, but the mailer cannot address it, so no mail would reach it.
    #[error("the e-mail address has a quoted part before the @; use one without quotes")]
    Quoted,
}

impl EmailAddress {
    /// Trims, parses and normalises an address. A quoted local part is
    /// refused: the SMTP adapter's message builder takes only dot-atoms.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let address = Self::from_stored(raw)?;
        if address.local_part().contains('"') {
            return Err(EmailError::Quoted);
        }
        Ok(address)
    }

    /// An address as stored by any release: [`Self::parse`] without the
    /// refusal of quoted local parts, which came later, so that rows
    /// written before it still read.
    pub fn from_stored(raw: &str) -> Result<Self, EmailError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(EmailError::Malformed)?;
        let local = local.to_ascii_lowercase();
        if local.len() > 64 {
            return Err(EmailError::TooLong);
        }
        // The RFC parser accepts quoted strings; a control character inside
        // one is still refused, as the SMTP adapter would refuse it.
        if local.is_empty()
            || local.chars().any(char::is_control)
            || !email_address::EmailAddress::is_valid_local_part(&local)
        {
            return Err(EmailError::Malformed);
        }
        let domain = ascii_domain(domain)?;
        let address = format!("{local}@{domain}");
        if address.len() > 254 {
            return Err(EmailError::TooLong);
        }
        Ok(Self(address))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the last `@`.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or(self.0.as_str(), |(local, _)| local)
    }

    /// The domain, in ASCII.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }

    /// The address as a hint for someone who may not learn it whole:
    /// the first character before the `@`, then `***`, then the domain
    /// (`b***@example.com`). Enough to tell which of one's accounts is
    /// meant, not enough to write to a stranger.
    pub fn masked(&self) -> String {
        let first = self.local_part().chars().next().unwrap_or('*');
        format!("{first}***@{}", self.domain())
    }
}

/// The domain lower-cased in ASCII and, when internationalised, in punycode.
/// A host name needs a dot (no `localhost`, no bare IP literals).
fn ascii_domain(raw: &str) -> Result<String, EmailError> {
    let lower = raw.to_ascii_lowercase();
    let ascii = if lower.is_ascii() {
        lower
    } else {
        let ascii = idna::domain_to_ascii(&lower).map_err(|_| EmailError::Domain)?;
        let (back, valid) = idna::domain_to_unicode(&ascii);
        if valid.is_err() || back != lower {
            return Err(EmailError::Domain);
        }
        ascii
    };
    // RFC 5321's `Domain`: dot-separated labels of letters, digits and
    // inner hyphens (no underscores, no IP literals), at least two labels.
    let ldh = |label: &str| {
        (1..=63).contains(&label.len())
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let labels: Vec<&str> = ascii.split('.').collect();
    let all_numeric = labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()));
    if labels.len() < 2
        || !labels.iter().all(|l| ldh(l))
        || all_numeric
        || !email_address::EmailAddress::is_valid_domain(&ascii)
    {
        return Err(EmailError::Domain);
    }
    Ok(ascii)
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = EmailError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_are_trimmed_and_ascii_lower_cased() {
        let e = EmailAddress::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "ada.lovelace@example.com");
        assert_eq!(e.local_part(), "ada.lovelace");
        assert_eq!(e.domain(), "example.com");
    }

    #[test]
    fn obvious_garbage_is_refused() {
        for bad in [
            "",
            "   ",
            "ada",
            "@example.com",
            "ada@",
            "ada@localhost",
            "a da@x.io",
            "ada@x.io.",
            "ada@.io",
            "a\u{0}@x.io",
            "a..b@x.io",
            ".a@x.io",
            "a@b@x.io",
            "ada@[127.0.0.1]",
            "ada@127.0.0.1",
            "ada@exa_mple.com",
            "\"a\u{7}b\"@x.io",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(EmailAddress::parse(&format!("{}@x.io", "a".repeat(65))), Err(EmailError::TooLong));
        assert_eq!(EmailAddress::parse(&format!("a@{}.io", "b".repeat(250))), Err(EmailError::Domain));
    }

    #[test]
    fn the_kelvin_sign_does_not_fold_to_k() {
        let kelvin = EmailAddress::parse("\u{212A}evin@example.com");
        assert_ne!(kelvin.ok().map(|e| e.0), Some("kevin@example.com".to_owned()));
        // In a domain it is refused rather than mapped to `k`.
        assert_eq!(EmailAddress::parse("ada@\u{212A}orp.example"), Err(EmailError::Domain));
        assert_eq!(EmailAddress::parse("ada@ｅxample.com"), Err(EmailError::Domain));
    }

    #[test]
    fn internationalised_domains_compare_in_punycode() {
        let idn = EmailAddress::parse("Jörg@Bücher.example").unwrap();
        assert_eq!(idn.domain(), "xn--bcher-kva.example");
        assert_eq!(idn.local_part(), "jörg", "only ASCII letters are folded");
        assert_eq!(EmailAddress::parse("jörg@xn--bcher-kva.example").unwrap(), idn);
    }

    #[test]
    fn rfc_5322_forms_that_mailers_accept_are_accepted() {
        for good in ["a+tag@x.io", "first.last@sub.example.co.uk", "o'brien@x.io", "u@xn--bcher-kva.example"] {
            assert!(EmailAddress::parse(good).is_ok(), "{good:?} was refused");
        }
    }

    /// The mailer's message builder refuses every quoted local part, even
    /// one whose content needs no quotes (found by adapter-smtp's proptest).
    #[test]
    fn quoted_local_parts_are_refused_but_stored_ones_still_read() {
        for quoted in ["\"john doe\"@x.io", "\".\"@a.aa", "\"a\"@x.io"] {
            assert_eq!(EmailAddress::parse(quoted), Err(EmailError::Quoted), "{quoted}");
            assert_eq!(EmailAddress::from_stored(quoted).unwrap().as_str(), quoted);
        }
    }

    #[test]
    fn a_masked_address_keeps_the_first_character_and_the_domain() {
        let mask = |raw: &str| EmailAddress::parse(raw).unwrap().masked();
        assert_eq!(mask("Bob.Smith@Example.com"), "b***@example.com");
        assert_eq!(mask("a@x.io"), "a***@x.io");
        assert_eq!(mask("zoë@bücher.de"), "z***@xn--bcher-kva.de");
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_is_idempotent(raw in "\\PC{0,80}") {
            if let Ok(e) = EmailAddress::parse(&raw) {
                prop_assert_eq!(EmailAddress::parse(e.as_str()), Ok(e.clone()));
            }
        }
    }
}
