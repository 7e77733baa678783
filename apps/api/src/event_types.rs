//! The event types the service emits, gathered from every domain crate,
//! and how a query string lists them. The feeds check what they are asked
//! against this list and the OpenAPI document states it (`schema::rules`),
//! so both read it from here.

/// Every event type the service emits.
pub(crate) fn known_types() -> &'static [&'static str] {
    static KNOWN: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        [
            organizations::events::EVENT_TYPES,
            users::events::EVENT_TYPES,
            photo_verification::events::EVENT_TYPES,
            profile_verification::events::EVENT_TYPES,
        ]
        .concat()
    });
    &KNOWN
}

/// The types of `?types=`: comma-separated, taken as they are (an empty
/// or padded entry is an unknown type, as the document's pattern says).
pub(crate) fn split_types(types: Option<&str>) -> Vec<String> {
    types.map(|t| t.split(',').map(str::to_owned).collect()).unwrap_or_default()
}
