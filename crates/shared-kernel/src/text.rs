//! Single-line, human-facing text (organization, zone and display names):
//! what may appear in one, checked once for every name type.
//!
//! A name is shown to other people, so it must not be able to rewrite how
//! the text around it is displayed (bidirectional overrides and other
//! format characters), break a line, or look empty while passing a length
//! check (zero-width and filler characters only).

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory as _};

/// Why a string is not acceptable as a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Fewer than `min` or more than `max` characters after trimming.
    #[error("must be {min} to {max} characters after trimming, got {len}")]
    Length {
        /// Characters after trimming.
        len: usize,
        /// The least accepted.
        min: usize,
        /// The most accepted.
        max: usize,
    },
    /// A control character, a line or paragraph separator, or a format
    /// character such as a bidirectional override or a zero-width joiner.
    #[error("must not contain control, format or bidirectional-override characters (U+{0:04X})")]
    Forbidden(u32),
    /// Nothing visible: only spaces, combining marks or filler characters.
    #[error("must contain visible characters")]
    Invisible,
}

/// Trims `raw` and checks it is a one-line name of `min..=max` Unicode
/// scalar values with something visible in it; returns the trimmed text.
pub fn one_line(raw: &str, min: usize, max: usize) -> Result<&str, TextError> {
    let s = raw.trim();
    if let Some(c) = s.chars().find(|c| forbidden(*c)) {
        return Err(TextError::Forbidden(u32::from(c)));
    }
    let len = s.chars().count();
    if !(min..=max).contains(&len) {
        return Err(TextError::Length { len, min, max });
    }
    if !s.chars().any(visible) {
        return Err(TextError::Invisible);
    }
    Ok(s)
}

/// Control (Cc), format (Cf: bidi overrides and isolates, zero-width
/// joiners and spaces, soft hyphens, tags), line and paragraph separators,
/// private use and unassigned code points.
fn forbidden(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate
            | GeneralCategory::Unassigned
    )
}

/// Whether `c` draws something: not a space, not a combining mark, and not
/// one of the letters that Unicode classes as letters but renders blank
/// (Hangul fillers, the braille blank).
fn visible(c: char) -> bool {
    let blank_letter = matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}');
    !c.is_whitespace()
        && !blank_letter
        && !matches!(
            c.general_category(),
            GeneralCategory::SpaceSeparator | GeneralCategory::NonspacingMark | GeneralCategory::EnclosingMark
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_trimmed_and_counted_in_scalar_values() {
        assert_eq!(one_line("  École Sainte-Anne ", 2, 100), Ok("École Sainte-Anne"));
        assert_eq!(one_line("日本", 2, 100), Ok("日本"));
        assert_eq!(one_line("a", 2, 100), Err(TextError::Length { len: 1, min: 2, max: 100 }));
    }

    #[test]
    fn bidi_overrides_and_other_format_characters_are_refused() {
        for bad in [
            "ab\u{202E}cd",
            "ab\u{2066}cd",
            "a\u{200B}b",
            "a\u{200D}b",
            "a\u{00AD}b",
            "a\u{FEFF}b",
            "a\u{2028}b",
            "a\u{0}b",
            "a\u{E000}b",
        ] {
            assert!(matches!(one_line(bad, 2, 100), Err(TextError::Forbidden(_))), "{bad:?} was accepted");
        }
    }

    #[test]
    fn invisible_only_text_is_refused() {
        for bad in
            ["\u{3164}\u{3164}", "\u{2800}\u{2800}\u{2800}", "a\u{0301}"[1..].repeat(3).as_str(), "\u{115F}\u{1160}"]
        {
            assert_eq!(one_line(bad, 2, 100), Err(TextError::Invisible), "{bad:?} was accepted");
        }
        assert_eq!(one_line("e\u{0301}e", 2, 100), Ok("e\u{0301}e"));
    }

    proptest! {
        #[test]
        fn checking_never_panics_and_is_idempotent(raw in "\\PC{0,120}") {
            if let Ok(s) = one_line(&raw, 2, 100) {
                prop_assert_eq!(one_line(s, 2, 100), Ok(s));
            }
        }
    }
}
