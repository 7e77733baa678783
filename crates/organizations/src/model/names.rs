//! Organization and zone names: one-line, visible text of 2..=100
//! characters; a case-free key for uniqueness; a transliterated slug.

use super::OrganizationId;
use shared_kernel::TextError;

/// Why a name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a name {0}")]
pub struct NameError(#[from] pub TextError);

/// An organization or zone name: trimmed, 2..=100 Unicode scalar values,
/// no control, format or bidirectional-override characters, something visible.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct Name(String);

impl Name {
    /// The fewest characters.
    pub const MIN: usize = 2;
    /// The most characters.
    pub const MAX: usize = 100;

    /// Checks a name.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        Ok(Self(shared_kernel::text::one_line(raw, Self::MIN, Self::MAX)?.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key that must be unique among an organization's zones: the name
    /// lower-cased, so `North` and `north` are the same zone.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// A URL-friendly slug: the name transliterated to lower-case ASCII
    /// (`École` → `ecole`) with `-` between words, followed by a short
    /// suffix from `id` so equal names never collide.
    pub fn slug(&self, id: OrganizationId) -> String {
        let base = slug::slugify(&self.0);
        let simple = id.as_uuid().simple().to_string();
        // The tail of a UUIDv7 is random; the head is a timestamp.
        let suffix = &simple[simple.len() - 8..];
        let base: String = base.chars().take(80).collect();
        let base = base.trim_end_matches('-');
        if base.is_empty() { suffix.to_owned() } else { format!("{base}-{suffix}") }
    }
}

impl TryFrom<String> for Name {
    type Error = NameError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("  Acme  ").unwrap().as_str(), "Acme");
        assert!(Name::parse("A").is_err());
        assert!(Name::parse(&"x".repeat(101)).is_err());
        assert!(Name::parse("a\u{0}b").is_err());
    }

    #[test]
    fn names_with_bidi_overrides_or_nothing_visible_are_refused() {
        assert!(matches!(Name::parse("Acme\u{202E}gnp.exe"), Err(NameError(TextError::Forbidden(0x202E)))));
        assert!(matches!(Name::parse("\u{200B}\u{200B}"), Err(NameError(TextError::Forbidden(_)))));
        assert!(matches!(Name::parse("\u{3164}\u{3164}\u{3164}"), Err(NameError(TextError::Invisible))));
    }

    #[test]
    fn slugs_transliterate_and_are_unique() {
        let id = OrganizationId::new();
        let slug = Name::parse("École St. Anne!").unwrap().slug(id);
        assert!(slug.starts_with("ecole-st-anne-"), "{slug}");
        assert_ne!(slug, Name::parse("École St. Anne!").unwrap().slug(OrganizationId::new()));
        assert!(Name::parse("日本の学校").unwrap().slug(id).is_ascii());
        assert_eq!(Name::parse("!!").unwrap().slug(id).len(), 8);
    }

    #[test]
    fn zone_keys_ignore_case() {
        assert_eq!(Name::parse("North").unwrap().key(), Name::parse("NORTH").unwrap().key());
        assert_eq!(Name::parse("Ärzte").unwrap().key(), Name::parse("ärzte").unwrap().key());
    }
}
