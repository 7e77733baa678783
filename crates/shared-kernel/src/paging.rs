//! Keyset paging: `limit` (1..=100, default 20) and an opaque cursor over
//! `(created_at, id)`, so a page costs the same at row 10 and at row 10,000,000.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use time::OffsetDateTime;

/// The default page size.
pub const DEFAULT_LIMIT: u32 = 20;
/// The largest page size a client may ask for.
pub const MAX_LIMIT: u32 = 100;

/// A validated page request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    limit: u32,
    after: Option<Cursor>,
}

/// Why a page request is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagingError {
    /// `limit` outside 1..=100.
    #[error("limit must be between 1 and 100")]
    Limit,
    /// The cursor was not produced by this service.
    #[error(transparent)]
    Cursor(#[from] CursorError),
}

impl PageRequest {
    /// Checks the limit and decodes the cursor.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, PagingError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(PagingError::Limit);
        }
        let after = cursor.filter(|c| !c.is_empty()).map(Cursor::decode).transpose()?;
        Ok(Self { limit, after })
    }

    /// Rows per page.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The position after which the page starts, if any.
    pub fn after(&self) -> Option<&Cursor> {
        self.after.as_ref()
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { limit: DEFAULT_LIMIT, after: None }
    }
}

/// A position in a `(created_at, id)` ordering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The creation time of the last row seen.
    pub created_at: OffsetDateTime,
    /// The id of the last row seen, as text (an int64 or a UUID).
    pub id: String,
}

/// Why a cursor could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not one this service issued")]
pub struct CursorError;

impl Cursor {
    /// Encodes the cursor as opaque base64url text.
    pub fn encode(&self) -> String {
        let nanos = self.created_at.unix_timestamp_nanos();
        URL_SAFE_NO_PAD.encode(format!("{nanos}|{}", self.id))
    }

    /// Decodes a cursor made by [`Cursor::encode`].
    pub fn decode(raw: &str) -> Result<Self, CursorError> {
        if raw.len() > 256 {
            return Err(CursorError);
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| CursorError)?;
        let text = String::from_utf8(bytes).map_err(|_| CursorError)?;
        let (nanos, id) = text.split_once('|').ok_or(CursorError)?;
        let nanos: i128 = nanos.parse().map_err(|_| CursorError)?;
        let created_at = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| CursorError)?;
        // Rows are created after 1970; a forged instant outside what every
        // supported database stores is refused here, not by the database.
        if created_at < OffsetDateTime::UNIX_EPOCH || id.is_empty() || id.contains('\0') {
            return Err(CursorError);
        }
        Ok(Self { created_at, id: id.to_owned() })
    }
}

/// One page of results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// The cursor of the next page, or `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page from rows fetched with `limit + 1`: the extra row only says that
    /// another page exists, and the cursor points after the last row kept.
    pub fn from_overfetch(mut rows: Vec<T>, request: &PageRequest, cursor_of: impl Fn(&T) -> Cursor) -> Self {
        let limit = request.limit() as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|row| cursor_of(row).encode())
        } else {
            None
        };
        Self { items: rows, next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    #[test]
    fn limits_default_to_twenty_and_stay_within_one_to_a_hundred() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit(), 20);
        assert_eq!(PageRequest::parse(Some(100), None).unwrap().limit(), 100);
        assert_eq!(PageRequest::parse(Some(0), None), Err(PagingError::Limit));
        assert_eq!(PageRequest::parse(Some(101), None), Err(PagingError::Limit));
    }

    #[test]
    fn cursors_round_trip() {
        let c = Cursor { created_at: datetime!(2026-06-14 10:00:00.123456 UTC), id: "42".into() };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        let req = PageRequest::parse(Some(5), Some(&c.encode())).unwrap();
        assert_eq!(req.after(), Some(&c));
    }

    #[test]
    fn an_overfetched_row_becomes_the_next_cursor_and_is_dropped() {
        let at = datetime!(2026-06-14 10:00:00 UTC);
        let request = PageRequest::parse(Some(2), None).unwrap();
        let cursor_of = |n: &i64| Cursor { created_at: at, id: n.to_string() };
        let page = Page::from_overfetch(vec![1, 2, 3], &request, cursor_of);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap().id, "2");
        let last = Page::from_overfetch(vec![1, 2], &request, cursor_of);
        assert_eq!((last.items, last.next_cursor), (vec![1, 2], None));
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_text_never_panics(raw in "\\PC{0,300}") {
            let _ = Cursor::decode(&raw);
        }
    }
}
