//! Events: each state change as the systems around Usher learn of it. A
//! domain's model builds the event of every change it decides; the adapter
//! that writes the change writes its events in the same transaction (a
//! transactional outbox), and the feed reads them back in commit order.

use crate::UserId;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

/// One change.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// UUIDv7: unique, and ordered like the changes' instants.
    pub id: Uuid,
    /// A dotted lowercase noun and verb: `invitation.accepted`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When the change happened.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// Who made it; none for the service's own jobs (a lapsed membership ended by the sweeper).
    pub actor_id: Option<UserId>,
    /// The organization it happened in, when there is one.
    pub organization_id: Option<Uuid>,
    /// What changed.
    pub subject: Subject,
    /// The subject as it stood after the change, and what the type says besides (a reason, a cause).
    pub data: serde_json::Value,
}

/// What an event is about: a kind of resource and its id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Subject {
    /// `organization`, `membership`, `invitation`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id, as the API writes it.
    pub id: String,
}

impl Subject {
    /// The subject `kind` with id `id`.
    pub fn new(kind: &str, id: impl ToString) -> Self {
        Self { kind: kind.to_owned(), id: id.to_string() }
    }
}

impl Event {
    /// An event of `kind` about `subject`, happening at `at`, with a fresh UUIDv7.
    pub fn new(
        kind: &str,
        at: OffsetDateTime,
        actor_id: Option<UserId>,
        organization_id: Option<Uuid>,
        subject: Subject,
        data: serde_json::Value,
    ) -> Self {
        Self { id: Uuid::now_v7(), kind: kind.to_owned(), occurred_at: at, actor_id, organization_id, subject, data }
    }
}

/// An event as the feed reads it back, with its place in commit order.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    /// Events commit in this order, and a position once read is never filled in later.
    pub position: i64,
    /// The event.
    pub event: Event,
}

/// Events a feed reader asks for: after a position, at most `limit`, of
/// some types (all when empty), in one organization or all of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedQuery {
    /// Only events after this position (0: from the oldest kept).
    pub after: i64,
    /// At most this many.
    pub limit: u32,
    /// Only these types; every type when empty.
    pub types: Vec<String>,
    /// Only this organization's events.
    pub organization_id: Option<Uuid>,
}

/// A page of the feed cannot be read as asked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FeedError {
    /// The cursor is not one the feed gave out.
    #[error("the cursor is not one this feed gave out")]
    Cursor,
    /// The limit is outside 1..=[`FeedQuery::MAX_LIMIT`].
    #[error("limit must be between 1 and {}", FeedQuery::MAX_LIMIT)]
    Limit,
    /// A type the service does not emit (a typo would otherwise read as "nothing happened").
    #[error("unknown event type {0:?}")]
    UnknownType(String),
}

impl FeedQuery {
    /// The most events one page holds.
    pub const MAX_LIMIT: u32 = 500;
    /// A page's size when the reader does not say.
    pub const DEFAULT_LIMIT: u32 = 100;

    /// A query from what a reader sent: the cursor of an earlier page (none:
    /// from the start), a limit, and types, each of which must be one of `known`.
    pub fn parse(
        cursor: Option<&str>,
        limit: Option<u32>,
        types: Vec<String>,
        organization_id: Option<Uuid>,
        known: &[&str],
    ) -> Result<Self, FeedError> {
        let after = match cursor {
            None => 0,
            Some(text) => {
                text.parse::<i64>().ok().filter(|p| *p >= 0 && text == p.to_string()).ok_or(FeedError::Cursor)?
            }
        };
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT);
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(FeedError::Limit);
        }
        if let Some(unknown) = types.iter().find(|t| !known.contains(&t.as_str())) {
            return Err(FeedError::UnknownType(unknown.clone()));
        }
        Ok(Self { after, limit, types, organization_id })
    }
}

impl FeedQuery {
    /// What an in-memory log, `log` in commit order (position = index + 1),
    /// answers: up to `limit + 1` matching events after `after`.
    pub fn select(&self, log: &[Event]) -> Vec<Recorded> {
        let from = usize::try_from(self.after).unwrap_or(usize::MAX);
        log.iter()
            .enumerate()
            .skip(from)
            .filter(|(_, e)| self.organization_id.is_none_or(|o| e.organization_id == Some(o)))
            .filter(|(_, e)| self.types.is_empty() || self.types.contains(&e.kind))
            .take(self.limit as usize + 1)
            .map(|(i, e)| Recorded { position: i64::try_from(i).map_or(i64::MAX, |p| p + 1), event: e.clone() })
            .collect()
    }
}

/// A page of the feed: the events, oldest first, and where the next page starts.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedPage {
    /// The events.
    pub events: Vec<Event>,
    /// The cursor to read on from: after the last event here, or the one
    /// asked with when there were none (so a poller keeps its place).
    pub next_cursor: String,
    /// Whether more events were already there when this page was read.
    pub has_more: bool,
}

impl FeedPage {
    /// A page from `limit + 1` rows read after `after`: the extra row only says there are more.
    pub fn from_overfetch(mut rows: Vec<Recorded>, query: &FeedQuery) -> Self {
        let has_more = rows.len() > query.limit as usize;
        rows.truncate(query.limit as usize);
        let last = rows.last().map_or(query.after, |r| r.position);
        Self { events: rows.into_iter().map(|r| r.event).collect(), next_cursor: last.to_string(), has_more }
    }
}

/// Where events are kept: the storage every domain's adapter appends to.
#[async_trait::async_trait]
pub trait EventLog: Send + Sync {
    /// Up to `query.limit + 1` events after `query.after`, in commit order.
    async fn read(&self, query: &FeedQuery) -> anyhow::Result<Vec<Recorded>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_a_position_the_feed_wrote() {
        let parse = |c: &str| FeedQuery::parse(Some(c), None, vec![], None, &[]);
        assert_eq!(parse("42").map(|q| q.after), Ok(42));
        for forged in ["-1", "+4", "04", "4.0", "", "x", "99999999999999999999", "4\0"] {
            assert_eq!(parse(forged), Err(FeedError::Cursor), "{forged:?}");
        }
        assert_eq!(FeedQuery::parse(None, None, vec![], None, &[]).map(|q| (q.after, q.limit)), Ok((0, 100)));
    }

    #[test]
    fn limits_and_types_are_checked() {
        let known = ["a.created"];
        let q = |limit, types: &[&str]| {
            FeedQuery::parse(None, limit, types.iter().map(|t| (*t).to_owned()).collect(), None, &known)
        };
        assert_eq!(q(Some(0), &[]), Err(FeedError::Limit));
        assert_eq!(q(Some(501), &[]), Err(FeedError::Limit));
        assert!(q(Some(500), &["a.created"]).is_ok());
        assert_eq!(q(None, &["a.creatd"]), Err(FeedError::UnknownType("a.creatd".into())));
    }
}
