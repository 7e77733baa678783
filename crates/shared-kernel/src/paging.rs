//! Keyset paging: `limit` (1..=100, default 20) and an opaque cursor over
//! `(created_at, id)`, so a page costs the same at row 10 and at row 10,000,000.
//!
//! A cursor is typed by the key of the list it pages ([`CursorKey`]: a
//! UUID, an `i64`, a [`UserId`]), so a cursor of one kind of list cannot be
//! fed to a list keyed by another: it fails to decode, at the edge.

use crate::ids::UserId;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use std::fmt;
use time::OffsetDateTime;
use uuid::Uuid;

/// The default page size.
pub const DEFAULT_LIMIT: u32 = 20;
/// The largest page size a client may ask for.
pub const MAX_LIMIT: u32 = 100;

/// The row key a list is ordered by after its creation time: what a
/// cursor carries, written as text inside the opaque cursor.
pub trait CursorKey: Sized + Clone + fmt::Debug + PartialEq + Eq {
    /// The key as text (never empty, no `\0`).
    fn encode_key(&self) -> String;

    /// The key for text made by [`Self::encode_key`], if it is one.
    fn decode_key(raw: &str) -> Option<Self>;
}

impl CursorKey for i64 {
    fn encode_key(&self) -> String {
        self.to_string()
    }

    fn decode_key(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }
}

impl CursorKey for Uuid {
    /// The hyphenated lower-case form.
    fn encode_key(&self) -> String {
        self.to_string()
    }

    fn decode_key(raw: &str) -> Option<Self> {
        Uuid::try_parse(raw).ok()
    }
}

impl CursorKey for UserId {
    fn encode_key(&self) -> String {
        self.get().encode_key()
    }

    fn decode_key(raw: &str) -> Option<Self> {
        i64::decode_key(raw).map(UserId::new)
    }
}

/// A validated page request over a list keyed by `K`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest<K: CursorKey> {
    limit: u32,
    after: Option<Cursor<K>>,
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

impl<K: CursorKey> PageRequest<K> {
    /// Checks the limit and decodes the cursor (which must carry a `K`).
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
    pub fn after(&self) -> Option<&Cursor<K>> {
        self.after.as_ref()
    }
}

impl<K: CursorKey> Default for PageRequest<K> {
    fn default() -> Self {
        Self { limit: DEFAULT_LIMIT, after: None }
    }
}

/// A position in a `(created_at, id)` ordering of rows keyed by `K`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor<K: CursorKey> {
    /// The creation time of the last row seen.
    pub created_at: OffsetDateTime,
    /// The key of the last row seen.
    pub id: K,
}

/// Why a cursor could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not one this service issued")]
pub struct CursorError;

impl<K: CursorKey> Cursor<K> {
    /// Encodes the cursor as opaque base64url text of `<unix nanos>|<key>`.
    pub fn encode(&self) -> String {
        let nanos = self.created_at.unix_timestamp_nanos();
        URL_SAFE_NO_PAD.encode(format!("{nanos}|{}", self.id.encode_key()))
    }

    /// Decodes a cursor made by [`Cursor::encode`] for the same kind of key.
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
        Ok(Self { created_at, id: K::decode_key(id).ok_or(CursorError)? })
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
    pub fn from_overfetch<K: CursorKey>(
        mut rows: Vec<T>,
        request: &PageRequest<K>,
        cursor_of: impl Fn(&T) -> Cursor<K>,
    ) -> Self {
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
        assert_eq!(PageRequest::<i64>::parse(None, None).unwrap().limit(), 20);
        assert_eq!(PageRequest::<i64>::parse(Some(100), None).unwrap().limit(), 100);
        assert_eq!(PageRequest::<i64>::parse(Some(0), None), Err(PagingError::Limit));
        assert_eq!(PageRequest::<i64>::parse(Some(101), None), Err(PagingError::Limit));
    }

    #[test]
    fn limits_are_checked_whatever_the_key() {
        assert_eq!(PageRequest::<Uuid>::parse(Some(0), None), Err(PagingError::Limit));
        assert_eq!(PageRequest::<UserId>::parse(None, None).unwrap().limit(), 20);
    }

    #[test]
    fn cursors_round_trip() {
        let c = Cursor { created_at: datetime!(2026-06-14 10:00:00.123456 UTC), id: 42_i64 };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        let req = PageRequest::parse(Some(5), Some(&c.encode())).unwrap();
        assert_eq!(req.after(), Some(&c));
        let u = Cursor { created_at: c.created_at, id: Uuid::now_v7() };
        assert_eq!(Cursor::decode(&u.encode()).unwrap(), u);
        let user = Cursor { created_at: c.created_at, id: UserId::new(42) };
        assert_eq!(user.encode(), c.encode(), "a user id is written as its int64");
    }

    #[test]
    fn the_encoding_is_the_one_issued_before_cursors_were_typed() {
        // `<unix nanos>|<key>` in unpadded base64url, as issued before.
        let at = datetime!(2026-06-14 10:00:00.123456 UTC);
        let nanos = at.unix_timestamp_nanos();
        let id = Uuid::parse_str("0196f0e0-0000-7000-8000-000000000000").unwrap();
        let uuid_cursor = URL_SAFE_NO_PAD.encode(format!("{nanos}|0196f0e0-0000-7000-8000-000000000000"));
        assert_eq!(Cursor { created_at: at, id }.encode(), uuid_cursor);
        assert_eq!(Cursor::<Uuid>::decode(&uuid_cursor).unwrap().id, id);
        let int_cursor = URL_SAFE_NO_PAD.encode(format!("{nanos}|42"));
        assert_eq!(Cursor { created_at: at, id: 42_i64 }.encode(), int_cursor);
        assert_eq!(Cursor::<UserId>::decode(&int_cursor).unwrap().id, UserId::new(42));
    }

    #[test]
    fn a_cursor_of_one_kind_of_list_is_refused_by_another() {
        let at = datetime!(2026-06-14 10:00:00 UTC);
        let by_uuid = Cursor { created_at: at, id: Uuid::now_v7() }.encode();
        assert_eq!(Cursor::<i64>::decode(&by_uuid), Err(CursorError));
        assert_eq!(PageRequest::<UserId>::parse(None, Some(&by_uuid)), Err(PagingError::Cursor(CursorError)));
        let by_int = Cursor { created_at: at, id: 42_i64 }.encode();
        assert_eq!(Cursor::<Uuid>::decode(&by_int), Err(CursorError));
    }

    #[test]
    fn an_overfetched_row_becomes_the_next_cursor_and_is_dropped() {
        let at = datetime!(2026-06-14 10:00:00 UTC);
        let request = PageRequest::parse(Some(2), None).unwrap();
        let cursor_of = |n: &i64| Cursor { created_at: at, id: *n };
        let page = Page::from_overfetch(vec![1, 2, 3], &request, cursor_of);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(Cursor::<i64>::decode(page.next_cursor.as_deref().unwrap()).unwrap().id, 2);
        let last = Page::from_overfetch(vec![1, 2], &request, cursor_of);
        assert_eq!((last.items, last.next_cursor), (vec![1, 2], None));
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_text_never_panics(raw in "\\PC{0,300}") {
            let _ = Cursor::<Uuid>::decode(&raw);
            let _ = Cursor::<i64>::decode(&raw);
        }
    }
}
