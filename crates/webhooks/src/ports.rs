//! What the webhook use cases need from outside: a store for endpoints and
//! deliveries, and a sender that posts one attempt.

use crate::{Attempt, Delivery, DeliveryId, Endpoint, EndpointId, EndpointUrl, Scope, Settled, WebhookHeaders};
use async_trait::async_trait;
use shared_kernel::UserId;
use time::OffsetDateTime;

/// Endpoints, the fan-out cursor, deliveries and their attempts.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a new endpoint.
    async fn create(&self, endpoint: &Endpoint) -> anyhow::Result<()>;

    /// The endpoint `id`, whatever its scope.
    async fn find(&self, id: EndpointId) -> anyhow::Result<Option<Endpoint>>;

    /// `scope`'s endpoints, oldest first.
    async fn list(&self, scope: Scope) -> anyhow::Result<Vec<Endpoint>>;

    /// Every enabled endpoint, of every scope: those the fan-out offers events to.
    async fn enabled(&self) -> anyhow::Result<Vec<Endpoint>>;

    /// Writes `endpoint` as it now stands (URL, types, enabled, secrets, failing).
    async fn update(&self, endpoint: &Endpoint) -> anyhow::Result<()>;

    /// Writes `orphaned` (disabled, with why) when it is still enabled and
    /// still acts for `steward`: an admin who took it over meanwhile keeps it.
    async fn disable_orphan(&self, orphaned: &Endpoint, steward: UserId) -> anyhow::Result<()>;

    /// Deletes the endpoint `id` with its deliveries and attempts; whether it existed.
    async fn delete(&self, id: EndpointId) -> anyhow::Result<bool>;

    /// The position in the event log up to which events were fanned out.
    async fn dispatched(&self) -> anyhow::Result<i64>;

    /// Moves the fan-out cursor from `from` to `to` and inserts
    /// `deliveries`, in one transaction, when the cursor still reads
    /// `from` (a compare-and-set: when another replica moved it first,
    /// nothing is written and the answer is `false`). A delivery of an event
    /// an endpoint already has is skipped.
    async fn fan_out(&self, from: i64, to: i64, deliveries: &[Delivery]) -> anyhow::Result<bool>;

    /// Up to `limit` deliveries due at `now` to enabled endpoints, each the
    /// earliest pending one of its endpoint and subject (in order per
    /// subject: a later event of a subject waits for the earlier ones),
    /// oldest first.
    async fn due(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<Delivery>>;

    /// Claims `delivery` until `lease_until` when it is still pending and due
    /// as read (a compare-and-set of `next_attempt_at`): whether this caller has it.
    async fn claim(&self, delivery: &Delivery, lease_until: OffsetDateTime) -> anyhow::Result<bool>;

    /// Records an attempt and what follows it (the delivery's state, the
    /// endpoint's health) in one transaction.
    async fn settle(&self, settled: &Settled) -> anyhow::Result<()>;

    /// The delivery `id` of endpoint `endpoint`.
    async fn find_delivery(&self, endpoint: EndpointId, id: DeliveryId) -> anyhow::Result<Option<Delivery>>;

    /// Stores a replay (a new delivery of an event already delivered or given up).
    async fn replay(&self, delivery: &Delivery) -> anyhow::Result<()>;

    /// `endpoint`'s latest `limit` deliveries, newest first, each with its attempts, oldest first.
    async fn deliveries(&self, endpoint: EndpointId, limit: u32) -> anyhow::Result<Vec<(Delivery, Vec<Attempt>)>>;

    /// Deletes up to `batch` deliveries (with their attempts) made before
    /// `cutoff` that are no longer pending; how many.
    async fn prune(&self, cutoff: OffsetDateTime, batch: u32) -> anyhow::Result<u64>;
}

/// Who may manage which endpoints, as it stands now: superusers the
/// platform's, an organization's admins (with a membership in force) theirs.
#[async_trait]
pub trait Stewards: Send + Sync {
    /// Whether `user` may manage the endpoints of `scope` now.
    async fn may_manage(&self, user: UserId, scope: Scope) -> anyhow::Result<bool>;
}

/// Posts one attempt.
#[async_trait]
pub trait Sender: Send + Sync {
    /// Posts `body` to `url` with the signature headers, and reports what
    /// came back by [`Attempt::answered`] or [`Attempt::unanswered`] (a
    /// timeout, a refused connection, an address the URL may not reach),
    /// dated `at`.
    async fn post(&self, url: &EndpointUrl, headers: &WebhookHeaders, body: &[u8], at: OffsetDateTime) -> Attempt;
}
