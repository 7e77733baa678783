//! The profile's value types. Each parses its input once (squishing runs of
//! whitespace where barong does) and a value that exists is valid. Upper
//! bounds count the characters as sent; lower bounds, what is left after
//! squishing.
//!
//! | field | rule | code |
//! | --- | --- | --- |
//! | `firstName`, `lastName` | 1..255 letters, marks, digits, `_`, spaces, `-`, `'` | `first_name.invalid`, `last_name.invalid` |
//! | `city` | the same plus `.`, `~` and dash punctuation | `city.invalid` |
//! | `address` | 1..1024 printable characters except `@`, spacing kept | `address.invalid` |
//! | `postcode` | 2..32 letters, digits, spaces and `-` | `postcode.invalid` |
//! | `dob` | ISO date, 1900-01-01..=today | `dob.invalid` |
//! | `country` | ISO 3166-1 alpha-2 or alpha-3, any case → upper alpha-2 | `country.invalid` |
//! | `metadata` | a JSON object ≤ 4 KiB, or a string holding one | `metadata.invalid_format` |

use crate::countries::COUNTRIES;
use serde_json::{Map, Value};
use std::fmt;
use time::Date;
use time::macros::{date, format_description};

/// The profile fields, in record order. Their snake_case names are barong's
/// and form the error codes (`first_name.invalid`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `firstName`.
    FirstName,
    /// `lastName`.
    LastName,
    /// `dob`.
    Dob,
    /// `address`.
    Address,
    /// `postcode`.
    Postcode,
    /// `city`.
    City,
    /// `country`.
    Country,
    /// `metadata`.
    Metadata,
}

impl Field {
    /// Every field, in record order.
    pub const ALL: [Field; 8] = [
        Field::FirstName,
        Field::LastName,
        Field::Dob,
        Field::Address,
        Field::Postcode,
        Field::City,
        Field::Country,
        Field::Metadata,
    ];

    /// barong's snake_case name (`first_name`), used in codes and settings.
    pub const fn snake_name(self) -> &'static str {
        match self {
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::Dob => "dob",
            Field::Address => "address",
            Field::Postcode => "postcode",
            Field::City => "city",
            Field::Country => "country",
            Field::Metadata => "metadata",
        }
    }

    /// The camelCase JSON name (`firstName`).
    pub const fn json_name(self) -> &'static str {
        match self {
            Field::FirstName => "firstName",
            Field::LastName => "lastName",
            other => other.snake_name(),
        }
    }

    /// The 422 code for an invalid value: `<field>.invalid`, except
    /// barong's `metadata.invalid_format`.
    pub const fn invalid_code(self) -> &'static str {
        match self {
            Field::FirstName => "first_name.invalid",
            Field::LastName => "last_name.invalid",
            Field::Dob => "dob.invalid",
            Field::Address => "address.invalid",
            Field::Postcode => "postcode.invalid",
            Field::City => "city.invalid",
            Field::Country => "country.invalid",
            Field::Metadata => "metadata.invalid_format",
        }
    }

    /// The 422 code for a field that `profiles.required_on_submit` names but
    /// the profile lacks: `<field>.missing`.
    pub const fn missing_code(self) -> &'static str {
        match self {
            Field::FirstName => "first_name.missing",
            Field::LastName => "last_name.missing",
            Field::Dob => "dob.missing",
            Field::Address => "address.missing",
            Field::Postcode => "postcode.missing",
            Field::City => "city.missing",
            Field::Country => "country.missing",
            Field::Metadata => "metadata.missing",
        }
    }

    /// Parses a field name, snake_case or camelCase.
    pub fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.snake_name() == name || f.json_name() == name)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json_name())
    }
}

/// A field value that does not parse; `message` says why, for humans.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// Which field.
    pub field: Field,
    /// What the field must look like.
    pub message: &'static str,
}

impl FieldError {
    fn new(field: Field, message: &'static str) -> Self {
        Self { field, message }
    }
}

/// Replaces every run of whitespace with one space and trims the ends (Rails' `squish`).
pub fn squish(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Combining marks that Rust's `Alphabetic` property leaves out (general
/// diacritics, viramas and nuktas of the Indic scripts, Thai and kana marks),
/// so that `[[:word:]]`-style names in any script pass.
fn is_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x05BF | 0x05C1..=0x05C2 | 0x05C4..=0x05C5 | 0x05C7
        | 0x0610..=0x061A | 0x064B..=0x065F | 0x0670 | 0x06D6..=0x06DC | 0x06DF..=0x06E4 | 0x06E7..=0x06E8
        | 0x06EA..=0x06ED | 0x093C | 0x094D | 0x0951..=0x0954 | 0x09BC | 0x09CD | 0x0A3C | 0x0A4D | 0x0ABC | 0x0ACD
        | 0x0B3C | 0x0B4D | 0x0BCD | 0x0C4D | 0x0CBC | 0x0CCD | 0x0D4D | 0x0DCA | 0x0E31 | 0x0E34..=0x0E3A
        | 0x0E47..=0x0E4E | 0x0EB1 | 0x0EB4..=0x0EBC | 0x0EC8..=0x0ECD | 0x0F71..=0x0F84 | 0x102D..=0x103E
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0x302A..=0x302F | 0x3099..=0x309A | 0xFE00..=0xFE0F
        | 0xFE20..=0xFE2F)
}

/// barong's `[[:word:]]`: letters, marks, numbers and connector punctuation (`_`).
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || is_mark(c) || c == '_'
}

/// Unicode dash punctuation (general category Pd).
fn is_dash(c: char) -> bool {
    matches!(
        c as u32,
        0x002D | 0x058A | 0x05BE | 0x1400 | 0x1806 | 0x2010
            ..=0x2015
                | 0x2E17
                | 0x2E1A
                | 0x2E3A
                | 0x2E3B
                | 0x2E40
                | 0x2E5D
                | 0x301C
                | 0x3030
                | 0x30A0
                | 0xFE31
                | 0xFE32
                | 0xFE58
                | 0xFE63
                | 0xFF0D
    )
}

fn name_char(c: char) -> bool {
    is_word(c) || c == ' ' || c == '-' || c == '\''
}

fn squished(
    raw: &str,
    field: Field,
    min: usize,
    max: usize,
    ok: fn(char) -> bool,
    message: &'static str,
) -> Result<String, FieldError> {
    // The upper bound counts what was sent, so that a client (and a JSON
    // Schema `maxLength`) can check it without knowing how squishing works.
    let value = squish(raw);
    if value.chars().count() < min || raw.chars().count() > max || !value.chars().all(ok) {
        return Err(FieldError::new(field, message));
    }
    Ok(value)
}

/// A first or last name: 1..255 letters, marks, digits, `_`, spaces, `-` and `'`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

const NAME_MESSAGE: &str = "must be 1 to 255 letters, digits, spaces, `_`, `-` or `'`";

impl PersonName {
    /// Squishes whitespace and checks the characters; `field` names the error.
    pub fn parse(raw: &str, field: Field) -> Result<Self, FieldError> {
        squished(raw, field, 1, 255, name_char, NAME_MESSAGE).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first character and one `*` per further character (`Lovelace` → `L*******`).
    pub fn masked(&self) -> String {
        let mut chars = self.0.chars();
        let first = chars.next().map(String::from).unwrap_or_default();
        first + &"*".repeat(chars.count())
    }
}

/// A city: a name's characters plus `.`, `~` and dash punctuation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct City(String);

impl City {
    /// Squishes whitespace and checks the characters.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        squished(
            raw,
            Field::City,
            1,
            255,
            |c| name_char(c) || c == '.' || c == '~' || is_dash(c),
            "must be 1 to 255 letters, digits, spaces, `_`, `'`, `.`, `~` or dashes",
        )
        .map(Self)
    }

    /// The city.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A postcode: 2..32 letters, digits, spaces and `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Postcode(String);

impl Postcode {
    /// Squishes whitespace and checks the characters.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        squished(
            raw,
            Field::Postcode,
            2,
            32,
            |c| c.is_alphanumeric() || c == ' ' || c == '-',
            "must be 2 to 32 letters, digits, spaces or `-`",
        )
        .map(Self)
    }

    /// The postcode.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A street address: 1..1024 printable characters except `@`, spacing kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address(String);

impl Address {
    /// Checks length and characters; the spacing is kept as sent.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let len = raw.chars().count();
        let printable = |c: char| !c.is_control() && c != '@' && c != '\u{2028}' && c != '\u{2029}';
        if len == 0 || len > 1024 || raw.trim().is_empty() || !raw.chars().all(printable) {
            return Err(FieldError::new(
                Field::Address,
                "must be 1 to 1024 printable characters, not only spaces, without `@`",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A date of birth: an ISO date from 1900-01-01 up to today.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dob(Date);

/// The earliest accepted date of birth.
pub const EARLIEST_DOB: Date = date!(1900 - 01 - 01);

impl Dob {
    /// Parses `YYYY-MM-DD` and checks it is within 1900-01-01..=`today`.
    pub fn parse(raw: &str, today: Date) -> Result<Self, FieldError> {
        let invalid = || FieldError::new(Field::Dob, "must be an ISO date (YYYY-MM-DD) from 1900-01-01 up to today");
        let date = Date::parse(raw, format_description!("[year]-[month]-[day]")).map_err(|_| invalid())?;
        Self::new(date, today).ok_or_else(invalid)
    }

    /// Checks a date within 1900-01-01..=`today`.
    pub fn new(date: Date, today: Date) -> Option<Self> {
        (EARLIEST_DOB..=today).contains(&date).then_some(Self(date))
    }

    /// Wraps a stored date without checking "today" (it was checked when written).
    pub fn from_stored(raw: &str) -> Option<Self> {
        let date = Date::parse(raw, format_description!("[year]-[month]-[day]")).ok()?;
        (date >= EARLIEST_DOB).then_some(Self(date))
    }

    /// The date.
    pub fn date(&self) -> Date {
        self.0
    }

    /// `YYYY-MM-DD`.
    pub fn to_iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.0.year(), u8::from(self.0.month()), self.0.day())
    }

    /// `YYYY-MM-**`: the day hidden.
    pub fn masked(&self) -> String {
        format!("{:04}-{:02}-**", self.0.year(), u8::from(self.0.month()))
    }
}

/// An ISO 3166-1 country, held as its upper-case alpha-2 code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Country(&'static str);

impl Country {
    /// Accepts alpha-2 or alpha-3 in any case (`us`, `USA`).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let upper = raw.trim().to_ascii_uppercase();
        let found = match upper.len() {
            2 => COUNTRIES.binary_search_by(|(a2, _, _)| (*a2).cmp(upper.as_str())).ok().map(|i| COUNTRIES[i].0),
            3 => COUNTRIES.iter().find(|(_, a3, _)| *a3 == upper).map(|(a2, _, _)| *a2),
            _ => None,
        };
        found.map(Self).ok_or_else(|| FieldError::new(Field::Country, "must be an ISO 3166-1 alpha-2 or alpha-3 code"))
    }

    /// The upper-case alpha-2 code.
    pub fn alpha2(&self) -> &'static str {
        self.0
    }

    /// The alpha-3 code.
    pub fn alpha3(&self) -> &'static str {
        COUNTRIES.iter().find(|(a2, _, _)| *a2 == self.0).map_or("", |(_, a3, _)| *a3)
    }

    /// The English short name.
    pub fn name(&self) -> &'static str {
        COUNTRIES.iter().find(|(a2, _, _)| *a2 == self.0).map_or("", |(_, _, n)| *n)
    }

    /// Every accepted code, as `(alpha-2, alpha-3)` pairs in upper case.
    pub fn codes() -> impl Iterator<Item = (&'static str, &'static str)> {
        COUNTRIES.iter().map(|(a2, a3, _)| (*a2, *a3))
    }
}

/// Free-form metadata: a JSON object of at most 4 KiB (serialised compactly).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata(Map<String, Value>);

/// The largest metadata object, in bytes of compact JSON.
pub const METADATA_MAX_BYTES: usize = 4096;

impl Metadata {
    /// Accepts an object, or (for barong clients) a string holding one.
    pub fn parse(raw: &Value) -> Result<Self, FieldError> {
        let invalid =
            || FieldError::new(Field::Metadata, "must be a JSON object of at most 4 KiB, or a string holding one");
        let object = match raw {
            Value::Object(map) => map.clone(),
            Value::String(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => map,
                _ => return Err(invalid()),
            },
            _ => return Err(invalid()),
        };
        let size = serde_json::to_vec(&object).map_err(|_| invalid())?.len();
        if size > METADATA_MAX_BYTES {
            return Err(invalid());
        }
        Ok(Self(object))
    }

    /// The object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The compact JSON text.
    pub fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}

/// One or more fields failed validation (422): each with its code
/// (`first_name.invalid`, `metadata.invalid_format`, `country.missing`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid profile fields: {}", .0.iter().map(|p| p.code).collect::<Vec<_>>().join(", "))]
pub struct InvalidFields(Vec<FieldProblem>);

/// One field's problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    /// Which field.
    pub field: Field,
    /// The stable code.
    pub code: &'static str,
    /// A human explanation.
    pub message: &'static str,
}

impl InvalidFields {
    /// From value-type failures.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Self(
            errors
                .into_iter()
                .map(|e| FieldProblem { field: e.field, code: e.field.invalid_code(), message: e.message })
                .collect(),
        )
    }

    /// Fields required on submit but absent.
    pub fn missing(fields: Vec<Field>) -> Self {
        Self(
            fields
                .into_iter()
                .map(|field| FieldProblem {
                    field,
                    code: field.missing_code(),
                    message: "is required to submit the profile (profiles.required_on_submit)",
                })
                .collect(),
        )
    }

    /// The problems, in record order.
    pub fn problems(&self) -> &[FieldProblem] {
        &self.0
    }

    /// The codes, in record order.
    pub fn codes(&self) -> Vec<&'static str> {
        self.0.iter().map(|p| p.code).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const TODAY: Date = date!(2026 - 06 - 14);

    #[test]
    fn names_in_any_script_pass_and_whitespace_is_squished() {
        for ok in ["Ada", "Jean-Luc", "O'Brien", "김민준", "Σωκράτης", "José", "Nguyễn", "देवनागरी", "x_1", "Zoë"]
        {
            assert_eq!(PersonName::parse(ok, Field::FirstName).unwrap().as_str(), ok);
        }
        assert_eq!(PersonName::parse("  Mary \t  Ann ", Field::FirstName).unwrap().as_str(), "Mary Ann");
        assert_eq!(PersonName::parse(&"a".repeat(255), Field::FirstName).unwrap().as_str().len(), 255);
    }

    #[test]
    fn names_with_symbols_or_out_of_range_lengths_are_refused_with_their_field() {
        for bad in ["", "   ", "Ada!", "a@b", "<script>", "Ada.", "1+1", "名\u{0}"] {
            let err = PersonName::parse(bad, Field::LastName).unwrap_err();
            assert_eq!(err.field.invalid_code(), "last_name.invalid", "{bad:?}");
        }
        assert!(PersonName::parse(&"a".repeat(256), Field::FirstName).is_err());
    }

    #[test]
    fn cities_allow_dots_tildes_and_dashes_but_not_hash_or_at() {
        for ok in ["St. Petersburg", "Hubli–Dharwad", "Cava de' Tirreni", "Rio~Grande", "Москва"] {
            assert_eq!(City::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "#1 City", "a@b", "City!"] {
            assert_eq!(City::parse(bad).unwrap_err().field.invalid_code(), "city.invalid", "{bad:?}");
        }
    }

    #[test]
    fn addresses_keep_their_spacing_and_refuse_at_signs_and_control_characters() {
        let ok = r#"Flat 2/B, "Old Mill"  \ Rd & Co: (rear) ~ Hubli–Dharwad"#;
        assert_eq!(Address::parse(ok).unwrap().as_str(), ok);
        for bad in ["", "   ", "me@example.com", "line\nbreak", "tab\there"] {
            assert_eq!(Address::parse(bad).unwrap_err().field.invalid_code(), "address.invalid", "{bad:?}");
        }
        assert!(Address::parse(&"a".repeat(1024)).is_ok());
        assert!(Address::parse(&"a".repeat(1025)).is_err());
    }

    #[test]
    fn postcodes_are_two_to_thirty_two_letters_digits_spaces_or_dashes() {
        assert_eq!(Postcode::parse(" SW1A   1AA ").unwrap().as_str(), "SW1A 1AA");
        assert_eq!(Postcode::parse("01-234").unwrap().as_str(), "01-234");
        // The upper bound counts what was sent: padding does not sneak past it.
        assert!(Postcode::parse(&format!("SW1A 1AA{}", " ".repeat(25))).is_err());
        for bad in ["1", "", "12#34", &"1".repeat(33)] {
            assert_eq!(Postcode::parse(bad).unwrap_err().field.invalid_code(), "postcode.invalid", "{bad:?}");
        }
    }

    #[test]
    fn dates_of_birth_are_iso_dates_between_1900_and_today() {
        assert_eq!(Dob::parse("1990-02-28", TODAY).unwrap().to_iso(), "1990-02-28");
        assert_eq!(Dob::parse("2026-06-14", TODAY).unwrap().to_iso(), "2026-06-14");
        assert_eq!(Dob::parse("1900-01-01", TODAY).unwrap().to_iso(), "1900-01-01");
        for bad in ["", "2026-06-15", "1899-12-31", "1990-02-30", "14/06/1990", "1990-2-3", "19900203"] {
            assert_eq!(Dob::parse(bad, TODAY).unwrap_err().field.invalid_code(), "dob.invalid", "{bad:?}");
        }
        assert_eq!(Dob::parse("1990-02-28", TODAY).unwrap().masked(), "1990-02-**");
    }

    #[test]
    fn countries_accept_alpha_two_and_three_in_any_case_and_store_upper_alpha_two() {
        for (raw, a2) in [("us", "US"), ("USA", "US"), ("deu", "DE"), ("Gb", "GB"), ("kor", "KR")] {
            assert_eq!(Country::parse(raw).unwrap().alpha2(), a2, "{raw}");
        }
        assert_eq!(Country::parse("DE").unwrap().alpha3(), "DEU");
        assert_eq!(Country::parse("DE").unwrap().name(), "Germany");
        for bad in ["", "U", "XX", "ZZZ", "United States", "U S"] {
            assert_eq!(Country::parse(bad).unwrap_err().field.invalid_code(), "country.invalid", "{bad:?}");
        }
    }

    #[test]
    fn the_country_table_is_sorted_complete_and_unique() {
        assert_eq!(COUNTRIES.len(), 249);
        assert!(COUNTRIES.windows(2).all(|w| w[0].0 < w[1].0));
        let mut a3: Vec<&str> = COUNTRIES.iter().map(|c| c.1).collect();
        a3.sort_unstable();
        a3.dedup();
        assert_eq!(a3.len(), 249);
    }

    #[test]
    fn metadata_is_an_object_or_a_string_holding_one_of_at_most_4_kib() {
        assert_eq!(Metadata::parse(&json!({"a": 1})).unwrap().to_json(), r#"{"a":1}"#);
        assert_eq!(Metadata::parse(&json!(r#"{"a": [1, 2]}"#)).unwrap().to_json(), r#"{"a":[1,2]}"#);
        for bad in [json!([1]), json!(1), json!(true), json!("[1]"), json!("not json"), json!("\"x\"")] {
            assert_eq!(Metadata::parse(&bad).unwrap_err().field.invalid_code(), "metadata.invalid_format", "{bad}");
        }
        let big = json!({ "k": "x".repeat(METADATA_MAX_BYTES) });
        assert!(Metadata::parse(&big).is_err());
        let fits = json!({ "k": "x".repeat(METADATA_MAX_BYTES - 8) });
        assert!(Metadata::parse(&fits).is_ok());
    }

    #[test]
    fn masking_keeps_the_first_character_of_the_last_name() {
        assert_eq!(PersonName::parse("Lovelace", Field::LastName).unwrap().masked(), "L*******");
        assert_eq!(PersonName::parse("김", Field::LastName).unwrap().masked(), "김");
    }

    #[test]
    fn field_names_parse_in_both_spellings() {
        assert_eq!(Field::parse("first_name"), Some(Field::FirstName));
        assert_eq!(Field::parse("lastName"), Some(Field::LastName));
        assert_eq!(Field::parse("state"), None);
    }

    proptest! {
        #[test]
        fn no_input_makes_a_parser_panic(raw in "\\PC{0,300}") {
            let _ = PersonName::parse(&raw, Field::FirstName);
            let _ = City::parse(&raw);
            let _ = Address::parse(&raw);
            let _ = Postcode::parse(&raw);
            let _ = Dob::parse(&raw, TODAY);
            let _ = Country::parse(&raw);
            let _ = Metadata::parse(&Value::String(raw));
        }

        #[test]
        fn a_parsed_name_is_squished_and_reparses_to_itself(raw in "[ \\t\\pL'_-]{0,300}") {
            if let Ok(name) = PersonName::parse(&raw, Field::FirstName) {
                prop_assert_eq!(squish(name.as_str()), name.as_str());
                prop_assert_eq!(PersonName::parse(name.as_str(), Field::FirstName).unwrap(), name.clone());
                prop_assert!((1..=255).contains(&name.as_str().chars().count()));
            }
        }

        #[test]
        fn names_with_a_forbidden_symbol_never_parse(prefix in "\\pL{0,10}", symbol in "[@#$%^&*()+=!?<>/\\\\|.,;:]", suffix in "\\pL{0,10}") {
            let raw = format!("{prefix}{symbol}{suffix}");
            prop_assert!(PersonName::parse(&raw, Field::LastName).is_err());
        }

        #[test]
        fn every_valid_date_round_trips(days in 0i32..46_000) {
            let date = EARLIEST_DOB + time::Duration::days(i64::from(days));
            let dob = Dob::parse(&Dob(date).to_iso(), TODAY);
            prop_assert_eq!(dob.is_ok(), date <= TODAY);
        }

        #[test]
        fn every_country_parses_from_either_code_in_either_case(i in 0usize..249, lower in any::<bool>()) {
            let (a2, a3, _) = COUNTRIES[i];
            let case = |s: &str| if lower { s.to_ascii_lowercase() } else { s.to_owned() };
            prop_assert_eq!(Country::parse(&case(a2)).unwrap().alpha2(), a2);
            prop_assert_eq!(Country::parse(&case(a3)).unwrap().alpha2(), a2);
        }

        #[test]
        fn postcodes_parse_iff_they_fit_as_sent_and_squished(raw in "[a-zA-Z0-9 -]{0,40}") {
            let squished_len = squish(&raw).chars().count();
            let fits = squished_len >= 2 && raw.chars().count() <= 32;
            prop_assert_eq!(Postcode::parse(&raw).is_ok(), fits);
        }
    }
}
