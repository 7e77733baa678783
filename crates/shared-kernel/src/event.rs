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
    /// Only events that occurred at or after this instant.
    pub since: Option<OffsetDateTime>,
    /// Only events that occurred before this instant.
    pub until: Option<OffsetDateTime>,
    /// Only this person's changes.
    pub actor_id: Option<UserId>,
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
    /// A time range that ends before it starts.
    #[error("`from` must be before `to`")]
    Range,
}

impl FeedQuery {
    /// The most events one page holds.
    pub const MAX_LIMIT: u32 = 500;
    /// A page's size when the reader does not say.
    pub const DEFAULT_LIMIT: u32 = 100;
    /// The most events one export (an audit's CSV) holds.
    pub const EXPORT_LIMIT: u32 = 10_000;

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
        Ok(Self { after, limit, types, organization_id, since: None, until: None, actor_id: None })
    }

    /// Narrowed to what happened from `since` until before `until`, and to
    /// what `actor` did: an audit's filters. A range that ends before it starts is refused.
    pub fn within(
        self,
        since: Option<OffsetDateTime>,
        until: Option<OffsetDateTime>,
        actor_id: Option<UserId>,
    ) -> Result<Self, FeedError> {
        if let (Some(since), Some(until)) = (since, until)
            && since >= until
        {
            return Err(FeedError::Range);
        }
        Ok(Self { since, until, actor_id, ..self })
    }

    /// As large a page as an export holds, [`FeedQuery::EXPORT_LIMIT`].
    pub fn exporting(self) -> Self {
        Self { limit: Self::EXPORT_LIMIT, ..self }
    }

    /// Whether `event` passes every filter but the position.
    pub fn matches(&self, event: &Event) -> bool {
        self.organization_id.is_none_or(|o| event.organization_id == Some(o))
            && (self.types.is_empty() || self.types.contains(&event.kind))
            && self.since.is_none_or(|t| event.occurred_at >= t)
            && self.until.is_none_or(|t| event.occurred_at < t)
            && self.actor_id.is_none_or(|a| event.actor_id == Some(a))
    }
}

/// An in-memory event log, for the domains' in-memory adapters: events
/// in append order with their positions, which pruning never reuses.
#[derive(Clone, Debug, Default)]
pub struct EventBuffer {
    kept: Vec<Recorded>,
    last: i64,
}

impl EventBuffer {
    /// Appends `event` at the end.
    pub fn push(&mut self, event: Event) {
        self.last += 1;
        self.kept.push(Recorded { position: self.last, event });
    }

    /// What the feed answers `query`: up to `limit + 1` matching events after `after`.
    pub fn read(&self, query: &FeedQuery) -> Vec<Recorded> {
        self.kept
            .iter()
            .filter(|r| r.position > query.after && query.matches(&r.event))
            .take(query.limit as usize + 1)
            .cloned()
            .collect()
    }

    /// Forgets at most `batch` of the events that occurred before `cutoff`,
    /// oldest positions first, keeping the newest, as [`EventLog::prune`]
    /// does; how many.
    pub fn prune(&mut self, cutoff: OffsetDateTime, batch: u32) -> u64 {
        let mut left = batch;
        let newest = self.kept.last().map(|r| r.position);
        self.kept.retain(|r| {
            let forget = left > 0 && r.event.occurred_at < cutoff && Some(r.position) != newest;
            left -= u32::from(forget);
            !forget
        });
        u64::from(batch - left)
    }
}

impl TryFrom<u32> for Retention {
    type Error = RetentionOutOfRange;

    fn try_from(days: u32) -> Result<Self, Self::Error> {
        Self::days(days)
    }
}

impl From<Retention> for u32 {
    fn from(retention: Retention) -> u32 {
        retention.days
    }
}

impl Extend<Event> for EventBuffer {
    fn extend<I: IntoIterator<Item = Event>>(&mut self, events: I) {
        for event in events {
            self.push(event);
        }
    }
}

/// How long events are kept: at least [`Retention::MIN_DAYS`] days, so that
/// a reader that was away for a month still finds what it missed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Retention {
    days: u32,
}

/// A retention outside [`Retention::MIN_DAYS`]..=[`Retention::MAX_DAYS`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("events must be kept at least {min} and at most {max} days, not {0}", min = Retention::MIN_DAYS, max = Retention::MAX_DAYS)]
pub struct RetentionOutOfRange(pub u32);

impl Retention {
    /// The shortest retention.
    pub const MIN_DAYS: u32 = 30;
    /// The longest: a hundred years, so the cutoff stays a date every database stores.
    pub const MAX_DAYS: u32 = 36_500;

    /// Events kept `days` days.
    pub fn days(days: u32) -> Result<Self, RetentionOutOfRange> {
        if !(Self::MIN_DAYS..=Self::MAX_DAYS).contains(&days) {
            return Err(RetentionOutOfRange(days));
        }
        Ok(Self { days })
    }

    /// The days kept.
    pub fn get(self) -> u32 {
        self.days
    }

    /// Events kept 90 days, three times the least.
    pub const DEFAULT: Self = Self { days: 90 };

    /// Events that occurred before this instant are past keeping at `now`.
    pub fn cutoff(self, now: OffsetDateTime) -> OffsetDateTime {
        now - time::Duration::days(i64::from(self.days))
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

    /// Deletes at most `batch` of the events that occurred before `cutoff`
    /// (oldest positions first), never the newest event, so that no
    /// position is ever handed out twice; how many it deleted.
    async fn prune(&self, cutoff: OffsetDateTime, batch: u32) -> anyhow::Result<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_kept_at_least_thirty_days_and_pruned_by_when_they_occurred() {
        assert_eq!(Retention::days(29), Err(RetentionOutOfRange(29)));
        assert_eq!(Retention::days(u32::MAX), Err(RetentionOutOfRange(u32::MAX)), "no cutoff before year 1");
        assert!(Retention::days(Retention::MAX_DAYS).is_ok());
        let month = Retention::days(30).expect("30 days is enough");
        let now = time::macros::datetime!(2026-12-31 12:00 UTC);
        assert_eq!(month.cutoff(now), time::macros::datetime!(2026-12-01 12:00 UTC));
        assert_eq!(serde_json::from_str::<Retention>("90").ok(), Some(Retention::DEFAULT));
        assert!(
            serde_json::from_str::<Retention>("7").is_err_and(|e| e.to_string().contains("at least 30 and at most"))
        );

        let mut log = EventBuffer::default();
        let at = |day: u8| {
            time::Date::from_calendar_date(2026, time::Month::November, day).expect("a day").midnight().assume_utc()
        };
        let event =
            |day| Event::new("zone.created", at(day), None, None, Subject::new("zone", day), serde_json::json!({}));
        log.extend([event(1), event(20), event(2), event(3)]);
        // The third event occurred early but committed late: pruned all the
        // same. The newest (the fourth) stays, however old; positions stay.
        assert_eq!(log.prune(at(10), 1), 1);
        assert_eq!(log.prune(at(10), 100), 1);
        let all = FeedQuery::parse(None, None, vec![], None, &[]).expect("a query");
        let left: Vec<i64> = log.read(&all).iter().map(|r| r.position).collect();
        assert_eq!(left, [2, 4]);
        log.push(event(21));
        assert_eq!(log.read(&all).iter().map(|r| r.position).collect::<Vec<_>>(), [2, 4, 5]);
    }

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
