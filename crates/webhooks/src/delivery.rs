//! A delivery: one event on its way to one endpoint, and what each attempt
//! to post it did. The model decides everything here; the store writes it.

use crate::{Endpoint, EndpointId, Retry, RetrySchedule};
use shared_kernel::{Recorded, Subject, truncate_to_micros};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

shared_kernel::uuid_id!(
    /// A delivery's id.
    DeliveryId
);

/// How long a claimed delivery is reserved for its sender: longer than an
/// attempt's timeout, so a live sender never loses its claim, and short
/// enough that a crashed sender's delivery is soon taken up again.
pub const DELIVERY_LEASE: Duration = Duration::minutes(1);

/// The longest answer excerpt kept of an attempt.
pub const EXCERPT_BYTES: usize = 1024;

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    /// Not yet answered with a 2xx; tried at `next_attempt_at`.
    Pending,
    /// Answered with a 2xx.
    Delivered,
    /// Tried for as long as the retry schedule allows, never answered with a 2xx.
    Failed,
}

impl DeliveryState {
    /// Its name in the API and in storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// The state named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed].into_iter().find(|s| s.as_str() == name)
    }
}

/// One event for one endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Its id.
    pub id: DeliveryId,
    /// The endpoint it goes to.
    pub endpoint_id: EndpointId,
    /// The event's place in the log: deliveries of one subject go in this order.
    pub event_position: i64,
    /// The event's id, sent as `webhook-id` on every attempt and every replay.
    pub event_id: Uuid,
    /// The event's type.
    pub event_type: String,
    /// What the event is about.
    pub subject: Subject,
    /// The body posted: the event as the feed writes it.
    pub payload: String,
    /// The delivery this one replays, when an admin asked for it again.
    pub replay_of: Option<DeliveryId>,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: u32,
    /// When the first attempt was made (the retry schedule counts from it).
    pub first_attempt_at: Option<OffsetDateTime>,
    /// When it is due (or, while claimed, when the claim lapses).
    pub next_attempt_at: OffsetDateTime,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

/// What one attempt did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// When it was made.
    pub at: OffsetDateTime,
    /// The HTTP status answered; none when no answer came (a timeout, a refused connection).
    pub status: Option<u16>,
    /// How long it took, in milliseconds.
    pub latency_ms: u32,
    /// The first [`EXCERPT_BYTES`] of the answer's body.
    pub response: String,
    /// Why no answer came.
    pub error: Option<String>,
}

/// How an endpoint's health changes with an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// As it was.
    Unchanged,
    /// It answered with a 2xx: whatever failing it was marked with is cleared.
    Healthy,
    /// A delivery was given up: the endpoint is failing.
    Failing(Failing),
}

/// What follows an attempt: the delivery as it now stands, and the endpoint's health.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settled {
    /// The delivery after the attempt.
    pub delivery: Delivery,
    /// The attempt, as recorded.
    pub attempt: Attempt,
    /// The endpoint's health after it.
    pub health: Health,
}

/// Why an endpoint's health is failing, written for its admin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failing {
    /// Why.
    pub reason: String,
    /// Since when.
    pub since: OffsetDateTime,
}

impl Attempt {
    /// An attempt at `at` that got an answer.
    pub fn answered(at: OffsetDateTime, status: u16, latency_ms: u32, body: &[u8]) -> Self {
        Self { at, status: Some(status), latency_ms, response: excerpt(body), error: None }
    }

    /// An attempt at `at` that got no answer, for `error`.
    pub fn unanswered(at: OffsetDateTime, latency_ms: u32, error: &str) -> Self {
        Self { at, status: None, latency_ms, response: String::new(), error: Some(excerpt(error.as_bytes())) }
    }

    /// Whether the endpoint took the delivery: any 2xx.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// What went wrong, in a sentence an admin reads.
    pub fn failure(&self) -> String {
        match (self.status, &self.error) {
            (Some(status), _) => format!("answered HTTP {status}"),
            (None, Some(error)) => error.clone(),
            (None, None) => "no answer".to_owned(),
        }
    }
}

/// The first [`EXCERPT_BYTES`] of `body`, as text, cut at a character boundary.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_BYTES)]);
    let mut cut = text.len().min(EXCERPT_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    // NUL never reaches PostgreSQL's text.
    text[..cut].replace('\0', "\u{fffd}")
}

impl Delivery {
    /// `event` for `endpoint`, due at `now`, when the endpoint wants it.
    pub fn of(endpoint: &Endpoint, recorded: &Recorded, now: OffsetDateTime) -> Option<Self> {
        endpoint.wants(&recorded.event).then(|| Self {
            id: DeliveryId::new(),
            endpoint_id: endpoint.id,
            event_position: recorded.position,
            event_id: recorded.event.id,
            event_type: recorded.event.kind.clone(),
            subject: recorded.event.subject.clone(),
            payload: payload(&recorded.event),
            replay_of: None,
            state: DeliveryState::Pending,
            attempts: 0,
            first_attempt_at: None,
            next_attempt_at: now,
            created_at: now,
        })
    }

    /// A new delivery of the same event with the same `webhook-id`, due at
    /// `now`: a receiver that deduplicates by id sees it once, one that
    /// does not sees it again.
    pub fn replayed(&self, now: OffsetDateTime) -> Self {
        Self {
            id: DeliveryId::new(),
            replay_of: Some(self.id),
            state: DeliveryState::Pending,
            attempts: 0,
            first_attempt_at: None,
            next_attempt_at: now,
            created_at: now,
            ..self.clone()
        }
    }

    /// What follows `attempt`: delivered on a 2xx; otherwise tried again
    /// by `schedule` (with `jitter` in `0.0..1.0`), or given up, which marks
    /// the endpoint failing.
    pub fn settle(&self, attempt: Attempt, schedule: &RetrySchedule, jitter: f64) -> Settled {
        let first_at = self.first_attempt_at.unwrap_or(attempt.at);
        let attempts = self.attempts.saturating_add(1);
        let tried = Self { attempts, first_attempt_at: Some(first_at), ..self.clone() };
        let (delivery, health) = if attempt.succeeded() {
            (Self { state: DeliveryState::Delivered, ..tried }, Health::Healthy)
        } else {
            match schedule.after(attempts, first_at, attempt.at, jitter) {
                Retry::At(next) => (Self { next_attempt_at: truncate_to_micros(next), ..tried }, Health::Unchanged),
                Retry::GiveUp => {
                    let reason = format!(
                        "gave up on a delivery of {} after {attempts} attempts over a day; the last {}",
                        self.event_type,
                        attempt.failure()
                    );
                    (
                        Self { state: DeliveryState::Failed, ..tried },
                        Health::Failing(Failing { reason, since: attempt.at }),
                    )
                }
            }
        };
        Settled { delivery, attempt, health }
    }
}

/// The body of a delivery: the event as the feeds write it (`actorId` as a string).
pub fn payload(event: &shared_kernel::Event) -> String {
    serde_json::json!({
        "id": event.id,
        "type": event.kind,
        "occurredAt": event.occurred_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "actorId": event.actor_id.map(|a| a.to_string()),
        "organizationId": event.organization_id,
        "subject": event.subject,
        "data": event.data,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EndpointUrl, Scope, Secret, Secrets};
    use shared_kernel::{Event, UserId};
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-04 12:00 UTC);

    fn endpoint(scope: Scope) -> Endpoint {
        Endpoint {
            id: EndpointId::new(),
            scope,
            url: EndpointUrl::parse("https://crm.example.com/", false).unwrap(),
            event_types: vec![],
            enabled: true,
            secrets: Secrets::new(Secret::from_bytes(&[1; 32]).unwrap()),
            failing: None,
            created_by: UserId::new(1),
            created_at: T0,
        }
    }

    fn recorded(org: Option<Uuid>) -> Recorded {
        let event = Event::new(
            "membership.created",
            T0,
            Some(UserId::new(7)),
            org,
            Subject::new("membership", 3),
            serde_json::json!({"role": "member"}),
        );
        Recorded { position: 12, event }
    }

    #[test]
    fn an_event_becomes_a_delivery_only_for_endpoints_that_want_it_and_carries_the_feeds_json() {
        let org = Uuid::now_v7();
        let d = Delivery::of(&endpoint(Scope::Organization(org)), &recorded(Some(org)), T0).unwrap();
        assert_eq!((d.event_position, d.state, d.attempts, d.next_attempt_at), (12, DeliveryState::Pending, 0, T0));
        let body: serde_json::Value = serde_json::from_str(&d.payload).unwrap();
        assert_eq!(body["type"], "membership.created");
        assert_eq!(body["actorId"], "7");
        assert_eq!(body["occurredAt"], "2026-12-04T12:00:00Z");
        assert_eq!(body["subject"], serde_json::json!({"type": "membership", "id": "3"}));
        assert_eq!(body["data"]["role"], "member");
        assert!(Delivery::of(&endpoint(Scope::Organization(org)), &recorded(Some(Uuid::now_v7())), T0).is_none());
        assert!(Delivery::of(&endpoint(Scope::Platform), &recorded(None), T0).is_some());
    }

    #[test]
    fn a_2xx_delivers_anything_else_retries_by_the_schedule_and_a_day_of_failures_marks_the_endpoint() {
        let org = Uuid::now_v7();
        let d = Delivery::of(&endpoint(Scope::Organization(org)), &recorded(Some(org)), T0).unwrap();
        let s = RetrySchedule::DEFAULT;
        let ok = d.settle(Attempt::answered(T0, 204, 3, b""), &s, 0.5);
        assert_eq!(
            (ok.delivery.state, ok.delivery.attempts, ok.health),
            (DeliveryState::Delivered, 1, Health::Healthy)
        );

        let failed = d.settle(Attempt::answered(T0, 500, 3, b"oops"), &s, 0.5);
        assert_eq!(failed.delivery.state, DeliveryState::Pending);
        assert_eq!(failed.delivery.next_attempt_at, T0 + Duration::seconds(5));
        assert_eq!(failed.delivery.first_attempt_at, Some(T0));
        assert_eq!(failed.attempt.response, "oops");
        assert_eq!(failed.health, Health::Unchanged);

        let mut now = T0;
        let mut current = d.clone();
        let last = loop {
            let settled = current.settle(Attempt::unanswered(now, 10_000, "timed out after 10 s"), &s, 0.5);
            if settled.delivery.state != DeliveryState::Pending {
                break settled;
            }
            now = settled.delivery.next_attempt_at;
            current = settled.delivery;
        };
        assert_eq!(last.delivery.state, DeliveryState::Failed);
        let Health::Failing(Failing { reason, since }) = last.health else { panic!("{:?}", last.health) };
        assert_eq!(since, now);
        assert!(reason.contains("membership.created") && reason.contains("timed out"), "{reason}");
    }

    #[test]
    fn a_replay_keeps_the_webhook_id_and_starts_afresh() {
        let org = Uuid::now_v7();
        let d = Delivery::of(&endpoint(Scope::Organization(org)), &recorded(Some(org)), T0).unwrap();
        let done = d.settle(Attempt::answered(T0, 200, 1, b""), &RetrySchedule::DEFAULT, 0.5).delivery;
        let again = done.replayed(T0 + Duration::hours(1));
        assert_eq!(
            (again.event_id, again.payload.as_str(), again.replay_of),
            (d.event_id, d.payload.as_str(), Some(d.id))
        );
        assert_ne!(again.id, d.id);
        assert_eq!((again.state, again.attempts, again.first_attempt_at), (DeliveryState::Pending, 0, None));
    }

    #[test]
    fn an_excerpt_is_at_most_a_kibibyte_of_text_without_nul() {
        let long = "é".repeat(2000);
        let e = Attempt::answered(T0, 500, 1, long.as_bytes());
        assert!(e.response.len() <= EXCERPT_BYTES && e.response.chars().all(|c| c == 'é' || c == '\u{fffd}'));
        assert_eq!(Attempt::answered(T0, 500, 1, b"a\0b").response, "a\u{fffd}b");
    }
}
