//! The model's input rules as JSON Schema, so that the document allows what
//! the server accepts and forbids what it refuses (schemathesis holds the
//! service to both). Each schema restates one parser of the model as a
//! pattern over what a JSON Schema regex can see; the tests below run the
//! pattern and the parser over the same strings and fail when they disagree.
//!
//! Two things no keyword carries are left to the descriptions: rules by
//! Unicode category (letters, marks, format and unassigned characters, which
//! ECMA-262 patterns without the `u` flag cannot name), and the clock. The
//! patterns therefore pin every ASCII and C1 character exactly and admit the
//! rest of Unicode, which the parser then judges.

use std::borrow::Cow;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// Unicode `White_Space`: what Rust's `trim` and `split_whitespace` remove.
/// Spelled out, because `\s` means something slightly different in each of
/// ECMA-262, Python and Rust.
const WS: &str = r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Control characters (general category Cc): C0, DEL and C1.
const CC: &str = r"\x00-\x1F\x7F-\x9F";

/// Declares a schema-only type: a named component built by `$build`.
macro_rules! rule {
    ($(#[$meta:meta])* $ty:ident = $name:literal, $build:expr) => {
        $(#[$meta])*
        pub(crate) struct $ty;

        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                let build: fn() -> ObjectBuilder = $build;
                build().into()
            }
        }

        impl utoipa::ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

fn string(description: &str, pattern: String) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).description(Some(description)).pattern(Some(pattern))
}

/// Decimal numbers with exactly as many digits as `max`, no leading zero,
/// at most `max`: one alternative per digit of `max` that is lowered.
fn digits_at_most(max: &str) -> String {
    let digits: Vec<u32> = max.chars().filter_map(|c| c.to_digit(10)).collect();
    let n = digits.len();
    let mut alternatives = Vec::new();
    for (i, &d) in digits.iter().enumerate() {
        let low = u32::from(i == 0);
        if d > low {
            let class = if d - 1 == low { low.to_string() } else { format!("[{low}-{}]", d - 1) };
            let rest = match n - i - 1 {
                0 => String::new(),
                k => format!("[0-9]{{{k}}}"),
            };
            alternatives.push(format!("{}{class}{rest}", &max[..i]));
        }
    }
    alternatives.push(max.to_owned());
    alternatives.join("|")
}

/// A user id: a positive int64 in decimal, without sign, padding or spaces.
pub(crate) fn user_id_pattern() -> String {
    format!("^(?:[1-9][0-9]{{0,17}}|{})$", digits_at_most(&i64::MAX.to_string()))
}

/// An event feed's cursor: a position, an int64 of zero or more in decimal,
/// without sign, padding or spaces (`shared_kernel::FeedQuery::parse`).
pub(crate) fn event_cursor_pattern() -> String {
    format!("^(?:0|[1-9][0-9]{{0,17}}|{})$", digits_at_most(&i64::MAX.to_string()))
}

/// A comma-separated list of event types, each one the service emits, no
/// spaces and no empty entry (`GET /events?types=`).
pub(crate) fn event_types_pattern() -> String {
    let one = crate::event_types::known_types().iter().map(|t| t.replace('.', r"\.")).collect::<Vec<_>>().join("|");
    format!("^(?:{one})(?:,(?:{one}))*$")
}

/// A Discord snowflake: 17 to 20 digits that fit a u64, no leading zero.
pub(crate) fn discord_id_pattern() -> String {
    format!("^(?:[1-9][0-9]{{16,18}}|{})$", digits_at_most(&u64::MAX.to_string()))
}

/// Text trimmed of white space at both ends, then without a `forbidden`
/// character: the first and last kept characters are not white space,
/// `inner` (a quantifier) bounds how many lie between them, and `single_ok`
/// says whether one kept character is enough.
fn trimmed_pattern(forbidden: &str, inner: &str, single_ok: bool) -> String {
    let edge = format!("[^{WS}{forbidden}]");
    let middle = format!("[^{forbidden}]");
    let optional = if single_ok { "?" } else { "" };
    format!("^[{WS}]*{edge}(?:{middle}{inner}{edge}){optional}[{WS}]*$")
}

/// One line of text trimmed of white space, `min..=max` characters (`min`
/// at least 2), without control characters or line and paragraph
/// separators inside.
pub(crate) fn one_line_pattern(min: usize, max: usize) -> String {
    trimmed_pattern(&format!(r"{CC}\u2028\u2029"), &format!("{{{},{}}}", min - 2, max - 2), false)
}

/// A members search: one line trimmed of white space, 1 to 100 characters.
pub(crate) fn search_pattern() -> String {
    trimmed_pattern(&format!(r"{CC}\u2028\u2029"), "{0,98}", true)
}

/// A value of `min` (1 or 2) or more characters that are `ascii` or beyond
/// ASCII, after runs of white space are squished: the profile fields.
fn squished_pattern(ascii: &str, min: usize) -> String {
    let token = format!("(?:[{ascii}]|[^\\x00-\\x9F{WS}])");
    let more = if min >= 2 { "+" } else { "*" };
    format!("^[{WS}]*{token}(?:[{WS}]*{token}){more}[{WS}]*$")
}

/// A KYC review's reason: trimmed, not empty, no control character but a
/// line feed.
pub(crate) fn reason_pattern() -> String {
    trimmed_pattern(r"\x00-\x09\x0B-\x1F\x7F-\x9F", "*", true)
}

/// Something besides white space: texts that are trimmed and may not end up empty.
pub(crate) fn not_blank_pattern() -> String {
    format!("[^{WS}]")
}

fn case_insensitive(word: &str) -> String {
    word.chars()
        .map(|c| match (c.to_ascii_uppercase(), c.to_ascii_lowercase()) {
            (u, l) if u != l => format!("[{u}{l}]"),
            _ => c.to_string(),
        })
        .collect()
}

/// An ISO 3166-1 alpha-2 or alpha-3 code in any case, white space around it allowed.
pub(crate) fn country_pattern() -> String {
    let codes: Vec<String> = profile_verification::Country::codes()
        .flat_map(|(a2, a3)| [case_insensitive(a2), case_insensitive(a3)])
        .collect();
    format!("^[{WS}]*(?:{})[{WS}]*$", codes.join("|"))
}

/// An image media type the uploads take, in any case, parameters ignored.
pub(crate) fn image_type_pattern() -> String {
    let types = ["jpeg", "png", "webp"].map(case_insensitive).join("|");
    format!("^[{WS}]*{}/(?:{types})[{WS}]*(?:;[\\s\\S]*)?$", case_insensitive("image"))
}

rule!(
    /// `UserId`: a positive int64 in decimal.
    UserId = "UserId",
    || string("A user id: a positive int64 in decimal, as a string (no sign, leading zero or spaces).", user_id_pattern())
        .examples(["42"])
);

rule!(
    /// `EventCursor`: the `nextCursor` of an event feed.
    EventCursor = "EventCursor",
    || string("The `nextCursor` of an earlier page: a position, in decimal.", event_cursor_pattern()).examples(["1042"])
);

rule!(
    /// `EventType`: one of the event types the service emits (docs/events.md).
    EventType = "EventType",
    || {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An event type (docs/events.md)."))
            .enum_values(Some(crate::event_types::known_types().iter().copied()))
    }
);

rule!(
    /// `EventTypes`: comma-separated event types, for a query string.
    EventTypes = "EventTypes",
    || string("Comma-separated event types (docs/events.md), without spaces.", event_types_pattern())
        .examples(["membership.created,membership.ended"])
);

rule!(
    /// `WebhookUrl`: where a webhook endpoint's deliveries go.
    WebhookUrl = "WebhookUrl",
    || string(
        "Where deliveries are posted: `https://` (or `http://` to this machine while the service runs on loopback), \
         a lowercase host name or IPv4 address, an optional port, then a path and query of URL-safe characters. \
         No user name or password, no `#fragment`, and no address of a private, link-local or loopback network \
         (checked again against the address each attempt connects to).",
        webhooks::endpoint::URL_PATTERN.to_owned(),
    )
    .max_length(Some(webhooks::EndpointUrl::MAX_LEN))
    .examples(["https://crm.example.com/hooks/usher"])
);

rule!(
    /// `DiscordId`: a snowflake.
    DiscordId = "DiscordId",
    || string("A Discord user id: a snowflake of 17 to 20 digits that fits a u64, no leading zero.", discord_id_pattern())
        .examples(["80351110224678912"])
);

rule!(
    /// `Username`.
    Username = "Username",
    || string(
        "A username: 1 to 40 characters of `a-z`, `0-9`, `.`, `_` and `-`, starting with a letter or digit.",
        "^[a-z0-9][a-z0-9._-]{0,39}$".to_owned(),
    )
    .examples(["ada.lovelace"])
);

rule!(
    /// `Name`: display, organization and zone names.
    Name = "Name",
    || string(
        "A name: trimmed, 2 to 100 characters, one line of visible text without control, format, \
         bidirectional-override, private-use or unassigned characters.",
        one_line_pattern(2, 100),
    )
    .examples(["Ecole Sainte-Anne"])
);

rule!(
    /// `MemberSearch`: the members list's prefix search.
    MemberSearch = "MemberSearch",
    || string(
        "A prefix of a member's display name or e-mail: trimmed, 1 to 100 characters, one line of visible text \
         without control, format, bidirectional-override, private-use or unassigned characters. ASCII letters \
         match in either case; every other character, `%` and `_` included, matches itself.",
        search_pattern(),
    )
    .examples(["grace"])
);

rule!(
    /// `PersonName`: a profile's first or last name.
    PersonName = "PersonName",
    || string(
        "At most 255 characters as sent; runs of white space become one space; then 1 or more letters, marks, \
         digits, spaces, `_`, `-` or `'`.",
        squished_pattern(r"A-Za-z0-9_'\-", 1),
    )
    .max_length(Some(255))
    .examples(["Lovelace"])
);

rule!(
    /// `City`: a profile's city.
    City = "City",
    || string(
        "At most 255 characters as sent; runs of white space become one space; then 1 or more letters, marks, \
         digits, spaces, `_`, `'`, `.`, `~` or dashes.",
        squished_pattern(r"A-Za-z0-9_'.~\-", 1),
    )
    .max_length(Some(255))
    .examples(["London"])
);

rule!(
    /// `Postcode`: a profile's postcode.
    Postcode = "Postcode",
    || string(
        "At most 32 characters as sent; runs of white space become one space; then 2 or more letters, digits, \
         spaces or `-`.",
        squished_pattern(r"A-Za-z0-9\-", 2),
    )
    .max_length(Some(32))
    .examples(["SW1Y 4JH"])
);

rule!(
    /// `Address`: a profile's street address.
    Address = "Address",
    || string(
        "1 to 1024 printable characters (no control characters, line or paragraph separators, or `@`), \
         not only white space; spacing is kept.",
        format!(r"^[^{CC}@\u2028\u2029]*[^{CC}@\u2028\u2029{WS}][^{CC}@\u2028\u2029]*$"),
    )
    .max_length(Some(1024))
    .examples(["12 St James's Square"])
);

rule!(
    /// `Country`: an ISO 3166-1 code.
    Country = "Country",
    || string("An ISO 3166-1 alpha-2 or alpha-3 code, in any case; stored as upper-case alpha-2.", country_pattern())
        .examples(["GB"])
);

rule!(
    /// `ImageType`: what the uploads take.
    ImageType = "ImageType",
    || string(
        "`image/jpeg`, `image/png` or `image/webp` (case and parameters ignored); any other type is refused with \
         415 `upload.unsupported_type`.",
        image_type_pattern(),
    )
    .max_length(Some(255))
    .examples(["image/png"])
);

rule!(
    /// `ReviewReason`: why a KYC decision was taken.
    ReviewReason = "ReviewReason",
    || string(
        "At most 1024 characters as sent, trimmed, not blank, without control characters but line feeds.",
        reason_pattern(),
    )
    .max_length(Some(1024))
    .examples(["the scan of the passport is unreadable"])
);

rule!(
    /// `PhotoReason`: why a photo was rejected.
    PhotoReason = "PhotoReason",
    || string("At most 500 characters as sent, trimmed, not blank.", not_blank_pattern())
        .max_length(Some(500))
        .examples(["The photo does not show your face."])
);

rule!(
    /// `Note`: a reviewer's internal note.
    Note = "Note",
    || string("At most 2000 characters as sent, trimmed, not blank; only reviewers see it.", not_blank_pattern())
        .max_length(Some(2000))
        .examples(["second blurry scan this month"])
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regex::Regex;

    fn compiled(pattern: &str) -> Regex {
        Regex::new(pattern).expect("the pattern compiles")
    }

    /// Characters that put each rule's edges to the test: every ASCII
    /// character, C1 controls, Unicode spaces and separators, letters and
    /// digits beyond ASCII. Format characters and marks are left out: no
    /// pattern judges them (the descriptions do).
    const EDGES: &[char] = &[
        '\u{85}', '\u{90}', '\u{9F}', '\u{A0}', '\u{1680}', '\u{2000}', '\u{2028}', '\u{2029}', '\u{3000}', 'é', 'Ж',
        '日', '٣',
    ];

    fn any_char() -> impl Strategy<Value = char> {
        prop_oneof![
            4 => (0u8..0x80).prop_map(char::from),
            1 => proptest::sample::select(EDGES),
        ]
    }

    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(any_char(), 0..max).prop_map(|cs| cs.into_iter().collect())
    }

    /// Text over an alphabet of `chars`, so that the valid region is reached often.
    fn text_of(chars: &'static str, max: usize) -> impl Strategy<Value = String> {
        let alphabet: Vec<char> = chars.chars().collect();
        proptest::collection::vec(proptest::sample::select(alphabet), 0..max).prop_map(|cs| cs.into_iter().collect())
    }

    fn agree(pattern: &Regex, raw: &str, accepted: bool) -> Result<(), TestCaseError> {
        prop_assert_eq!(pattern.is_match(raw), accepted, "pattern {} and parser disagree on {:?}", pattern, raw);
        Ok(())
    }

    #[test]
    fn event_cursors_and_types_are_what_the_feed_takes() {
        let cursor = compiled(&event_cursor_pattern());
        let known = crate::event_types::known_types();
        for raw in
            ["0", "1", "42", "9223372036854775807", "9223372036854775808", "", "-1", "01", "+4", "1e3", " 4", "4\0"]
        {
            let parsed = shared_kernel::FeedQuery::parse(Some(raw), None, vec![], None, known).is_ok();
            assert_eq!(cursor.is_match(raw), parsed, "{raw:?}");
        }
        let types = compiled(&event_types_pattern());
        for (raw, ok) in [
            ("membership.created", true),
            ("membership.created,invitation.accepted", true),
            ("membership.createdX", false),
            ("membershipXcreated", false),
            ("", false),
            ("membership.created,", false),
            (",membership.created", false),
            ("membership.created, invitation.accepted", false),
        ] {
            assert_eq!(types.is_match(raw), ok, "{raw:?}");
            let split = crate::event_types::split_types(Some(raw));
            let parsed = shared_kernel::FeedQuery::parse(None, None, split, None, known).is_ok();
            assert_eq!(parsed, ok, "the feed on {raw:?}");
        }
    }

    #[test]
    fn numeric_ids_are_bounded_exactly() {
        let user = compiled(&user_id_pattern());
        for (raw, ok) in [
            ("1", true),
            ("9223372036854775807", true),
            ("9223372036854775808", false),
            ("9999999999999999999", false),
            ("1000000000000000000", true),
            ("0", false),
            ("01", false),
            ("+1", false),
            ("10000000000000000000", false),
        ] {
            assert_eq!(user.is_match(raw), ok, "{raw}");
            assert_eq!(raw.parse::<shared_kernel::UserId>().is_ok(), ok, "{raw}");
        }
        let discord = compiled(&discord_id_pattern());
        for (raw, ok) in [
            ("10000000000000000", true),
            ("18446744073709551615", true),
            ("18446744073709551616", false),
            ("19999999999999999999", false),
            ("1000000000000000", false),
            ("080351110224678912", false),
        ] {
            assert_eq!(discord.is_match(raw), ok, "{raw}");
            assert_eq!(shared_kernel::DiscordId::parse(raw).is_ok(), ok, "{raw}");
        }
    }

    proptest! {
        #[test]
        fn user_ids(raw in prop_oneof![text_of("0123456789+- ", 22), "[1-9][0-9]{17,19}"]) {
            agree(&compiled(&user_id_pattern()), &raw, raw.parse::<shared_kernel::UserId>().is_ok())?;
        }

        #[test]
        fn discord_ids(raw in prop_oneof![text_of("0123456789+ ", 22), "[1-9][0-9]{15,20}"]) {
            agree(&compiled(&discord_id_pattern()), &raw, shared_kernel::DiscordId::parse(&raw).is_ok())?;
        }

        #[test]
        fn webhook_urls(raw in prop_oneof![
            text(12),
            "https?://[a-z0-9.:-]{0,12}[/?]?[a-zA-Z0-9/?#@%. -]{0,6}",
            "https?://(?:[0-9]{1,3}\\.){2,4}[0-9]{1,3}(?::[0-9]{1,6})?/?",
            "https?://\\[[0-9a-f:]{2,6}\\](?::[0-9]{1,5})?",
        ]) {
            use webhooks::{EndpointUrl, UrlError};
            let shaped = !matches!(
                EndpointUrl::parse(&raw, true),
                Err(UrlError::Invalid | UrlError::Credentials | UrlError::Fragment)
            );
            agree(&compiled(webhooks::endpoint::URL_PATTERN), &raw, shaped)?;
        }

        #[test]
        fn usernames(raw in prop_oneof![text(44), text_of("az09._-A ", 44)]) {
            let pattern = compiled("^[a-z0-9][a-z0-9._-]{0,39}$");
            agree(&pattern, &raw, users::Username::parse(&raw).is_ok())?;
        }

        #[test]
        fn names(raw in prop_oneof![text(8), text_of("ab \t\n\u{85}\u{a0}\u{1c}\u{2028}é", 8), "[a-z ]{95,106}"]) {
            agree(&compiled(&one_line_pattern(2, 100)), &raw, users::DisplayName::parse(&raw).is_ok())?;
        }

        #[test]
        fn member_searches(raw in prop_oneof![text(8), text_of("ab \t\n\u{85}\u{a0}\u{1c}\u{2028}é%", 8), "[a-z ]{95,106}"]) {
            agree(&compiled(&search_pattern()), &raw, organizations::MemberSearch::parse(&raw).is_ok())?;
        }

        #[test]
        fn profile_fields(raw in prop_oneof![text(8), text_of("aZ9_'.~-@# \t\n\u{85}\u{a0}\u{90}\u{2028}é日", 8), "[a-z ]{250,260}", "[a-z ]{28,36}"]) {
            use profile_verification::{Address, City, Field, PersonName, Postcode};
            let rules: [(String, bool); 4] = [
                (squished_pattern(r"A-Za-z0-9_'\-", 1), PersonName::parse(&raw, Field::FirstName).is_ok()),
                (squished_pattern(r"A-Za-z0-9_'.~\-", 1), City::parse(&raw).is_ok()),
                (squished_pattern(r"A-Za-z0-9\-", 2), Postcode::parse(&raw).is_ok()),
                (format!(r"^[^{CC}@\u2028\u2029]*[^{CC}@\u2028\u2029{WS}][^{CC}@\u2028\u2029]*$"), Address::parse(&raw).is_ok()),
            ];
            let limits = [255, 255, 32, 1024];
            for ((pattern, accepted), limit) in rules.iter().zip(limits) {
                let documented = compiled(pattern).is_match(&raw) && raw.chars().count() <= limit;
                prop_assert_eq!(documented, *accepted, "{} on {:?}", pattern, raw);
            }
        }

        #[test]
        fn countries(raw in prop_oneof![text(5), text_of("gbGBrRus \u{a0}\t", 5)]) {
            agree(&compiled(&country_pattern()), &raw, profile_verification::Country::parse(&raw).is_ok())?;
        }

        #[test]
        fn image_types(raw in prop_oneof![text(12), "[ \t]?(image|IMAGE|Image)/(png|PnG|jpeg|webp|gif|jpg)[ \t]?(; ?q=1)?"]) {
            agree(&compiled(&image_type_pattern()), &raw, image_upload::ImageType::from_mime(&raw).is_some())?;
        }

        #[test]
        fn notes_and_photo_reasons(raw in prop_oneof![text(6), text_of("a \t\u{a0}", 6), "[a ]{495,505}", "[a ]{1995,2005}"]) {
            let not_blank = compiled(&not_blank_pattern()).is_match(&raw);
            let len = raw.chars().count();
            prop_assert_eq!(not_blank && len <= 2000, shared_kernel::ReviewNote::parse(&raw).is_ok(), "{:?}", raw);
            prop_assert_eq!(not_blank && len <= 500, photo_verification::RejectionReason::parse(&raw).is_ok(), "{:?}", raw);
        }

        #[test]
        fn review_reasons(raw in prop_oneof![text(6), text_of("a \n\t\u{85}\u{a0}", 6)]) {
            let documented = compiled(&reason_pattern()).is_match(&raw) && raw.trim().chars().count() <= 1024;
            prop_assert_eq!(documented, profile_verification::Reason::parse(&raw).is_some(), "{:?}", raw);
        }
    }
}
