//! The webhook use cases: registering, changing, rotating and removing a
//! scope's endpoints, listing and replaying their deliveries, and the two
//! jobs: fanning events out into deliveries, and posting the due ones.
//!
//! Who may manage a scope is decided before these are called (a superuser
//! for the platform, an organization's admins for it); each use case then
//! answers only for endpoints of that scope, so another scope's id reads as
//! not found.

use crate::ports::{Sender, Stewards, WebhookStore};
use crate::{
    DELIVERY_LEASE, Delivery, DeliveryId, DeliveryState, Endpoint, EndpointId, EndpointUrl, Health, RetrySchedule,
    Scope, Secret, Secrets, UrlError, signing,
};
use futures_util::{StreamExt as _, stream};
use shared_kernel::{Clock, EventLog, FeedQuery, UserId};
use std::sync::Arc;

/// The most endpoints one scope may have: each one multiplies every event's deliveries.
pub const MAX_ENDPOINTS: usize = 20;

/// Deliveries posted at once by one replica's job.
pub const PARALLEL: usize = 16;

/// Rounds of delivery one run of the job makes at most.
pub const MAX_ROUNDS: usize = 20;

/// The most event types one endpoint names.
pub const MAX_TYPES: usize = 50;

/// A webhook use case refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// No such endpoint in this scope.
    #[error("no such webhook endpoint")]
    NotFound,
    /// No such delivery of this endpoint.
    #[error("no such delivery")]
    DeliveryNotFound,
    /// The URL may not receive deliveries.
    #[error("url {0}")]
    Url(#[from] UrlError),
    /// An event type the service does not emit.
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    /// More than [`MAX_TYPES`] event types.
    #[error("at most {MAX_TYPES} event types")]
    TooManyTypes,
    /// The scope has [`MAX_ENDPOINTS`] endpoints already.
    #[error("at most {MAX_ENDPOINTS} webhook endpoints")]
    TooManyEndpoints,
    /// A delivery still pending cannot be replayed (it will be tried anyway).
    #[error("the delivery is still pending")]
    StillPending,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// What a new endpoint is.
#[derive(Clone, Debug)]
pub struct Registration {
    /// Where deliveries go.
    pub url: String,
    /// The types it receives; every type when empty.
    pub event_types: Vec<String>,
    /// Whether it receives events from now on.
    pub enabled: bool,
}

/// What an update changes; `None` keeps a field as it is.
#[derive(Clone, Debug, Default)]
pub struct Change {
    /// A new URL.
    pub url: Option<String>,
    /// New event types (empty: every type).
    pub event_types: Option<Vec<String>>,
    /// Enabled or not; enabling clears a failing mark.
    pub enabled: Option<bool>,
}

/// How deliveries are made.
#[derive(Clone, Copy, Debug)]
pub struct WebhookSettings {
    /// Whether the service runs on loopback, which alone allows loopback receivers.
    pub loopback: bool,
    /// When failed attempts are tried again.
    pub schedule: RetrySchedule,
}

/// The webhook use cases.
#[derive(Clone)]
pub struct WebhookService {
    store: Arc<dyn WebhookStore>,
    log: Arc<dyn EventLog>,
    sender: Arc<dyn Sender>,
    stewards: Arc<dyn Stewards>,
    clock: Arc<dyn Clock>,
    settings: WebhookSettings,
    known_types: &'static [&'static str],
}

/// The ports a [`WebhookService`] works with.
#[derive(Clone)]
pub struct WebhookPorts {
    /// Endpoints and deliveries.
    pub store: Arc<dyn WebhookStore>,
    /// The event log fanned out.
    pub log: Arc<dyn EventLog>,
    /// Posts attempts.
    pub sender: Arc<dyn Sender>,
    /// Who may manage which endpoints now.
    pub stewards: Arc<dyn Stewards>,
}

impl WebhookService {
    /// The use cases over `ports`; `known_types` are the event types an endpoint may ask for.
    pub fn new(
        ports: WebhookPorts,
        clock: Arc<dyn Clock>,
        settings: WebhookSettings,
        known_types: &'static [&'static str],
    ) -> Self {
        let WebhookPorts { store, log, sender, stewards } = ports;
        Self { store, log, sender, stewards, clock, settings, known_types }
    }

    /// Whether `endpoint` still acts for someone who may manage it; when
    /// not, it is disabled with the reason (once, whichever replica sees it).
    async fn stewarded(&self, endpoint: &Endpoint) -> anyhow::Result<bool> {
        if self.stewards.may_manage(endpoint.created_by, endpoint.scope).await? {
            return Ok(true);
        }
        let orphaned = endpoint.orphaned(self.clock.now());
        tracing::warn!(endpoint = %endpoint.id, steward = %endpoint.created_by,
            "a webhook endpoint's steward no longer manages it; disabled");
        self.store.disable_orphan(&orphaned, endpoint.created_by).await?;
        Ok(false)
    }

    fn types(&self, types: Vec<String>) -> Result<Vec<String>, WebhookError> {
        if types.len() > MAX_TYPES {
            return Err(WebhookError::TooManyTypes);
        }
        if let Some(unknown) = types.iter().find(|t| !self.known_types.contains(&t.as_str())) {
            return Err(WebhookError::UnknownType(unknown.clone()));
        }
        let mut types = types;
        types.sort();
        types.dedup();
        Ok(types)
    }

    /// Registers an endpoint of `scope` for `by`; the endpoint and its
    /// secret, which is shown this once.
    pub async fn register(
        &self,
        scope: Scope,
        by: UserId,
        registration: Registration,
    ) -> Result<(Endpoint, Secret), WebhookError> {
        let url = EndpointUrl::parse(&registration.url, self.settings.loopback)?;
        let event_types = self.types(registration.event_types)?;
        if self.store.list(scope).await?.len() >= MAX_ENDPOINTS {
            return Err(WebhookError::TooManyEndpoints);
        }
        let secret = new_secret()?;
        let endpoint = Endpoint {
            id: EndpointId::new(),
            scope,
            url,
            event_types,
            enabled: registration.enabled,
            secrets: Secrets::new(secret.clone()),
            failing: None,
            created_by: by,
            created_at: self.clock.now(),
        };
        self.store.create(&endpoint).await?;
        Ok((endpoint, secret))
    }

    /// `scope`'s endpoints.
    pub async fn list(&self, scope: Scope) -> Result<Vec<Endpoint>, WebhookError> {
        Ok(self.store.list(scope).await?)
    }

    async fn endpoint(&self, scope: Scope, id: EndpointId) -> Result<Endpoint, WebhookError> {
        self.store.find(id).await?.filter(|e| e.scope == scope).ok_or(WebhookError::NotFound)
    }

    /// Changes an endpoint of `scope` for `by`; enabling it makes it act for `by`.
    pub async fn update(
        &self,
        scope: Scope,
        id: EndpointId,
        by: UserId,
        change: Change,
    ) -> Result<Endpoint, WebhookError> {
        let mut endpoint = self.endpoint(scope, id).await?;
        if let Some(url) = change.url {
            endpoint.url = EndpointUrl::parse(&url, self.settings.loopback)?;
        }
        if let Some(types) = change.event_types {
            endpoint.event_types = self.types(types)?;
        }
        if let Some(enabled) = change.enabled {
            if enabled {
                // An admin enabling it has seen why it failed, and it acts for them from now on.
                endpoint.failing = None;
                endpoint.created_by = by;
            }
            endpoint.enabled = enabled;
        }
        self.store.update(&endpoint).await?;
        Ok(endpoint)
    }

    /// Deletes an endpoint of `scope`: it receives nothing from now on.
    pub async fn delete(&self, scope: Scope, id: EndpointId) -> Result<(), WebhookError> {
        let endpoint = self.endpoint(scope, id).await?;
        if self.store.delete(endpoint.id).await? { Ok(()) } else { Err(WebhookError::NotFound) }
    }

    /// Gives an endpoint of `scope` a new secret, shown this once; the old
    /// one signs beside it for [`Secrets::OVERLAP`].
    pub async fn rotate(&self, scope: Scope, id: EndpointId) -> Result<(Endpoint, Secret), WebhookError> {
        let mut endpoint = self.endpoint(scope, id).await?;
        let secret = new_secret()?;
        endpoint.secrets = endpoint.secrets.rotate(secret.clone(), self.clock.now());
        self.store.update(&endpoint).await?;
        Ok((endpoint, secret))
    }

    /// The latest `limit` deliveries of an endpoint of `scope`, each with its attempts.
    pub async fn deliveries(
        &self,
        scope: Scope,
        id: EndpointId,
        limit: u32,
    ) -> Result<Vec<(Delivery, Vec<crate::Attempt>)>, WebhookError> {
        let endpoint = self.endpoint(scope, id).await?;
        Ok(self.store.deliveries(endpoint.id, limit).await?)
    }

    /// Delivers an event again to an endpoint of `scope`, with the same `webhook-id`.
    pub async fn replay(&self, scope: Scope, id: EndpointId, delivery: DeliveryId) -> Result<Delivery, WebhookError> {
        let endpoint = self.endpoint(scope, id).await?;
        let original = self.store.find_delivery(endpoint.id, delivery).await?.ok_or(WebhookError::DeliveryNotFound)?;
        if original.state == DeliveryState::Pending {
            return Err(WebhookError::StillPending);
        }
        let again = original.replayed(self.clock.now());
        self.store.replay(&again).await?;
        Ok(again)
    }

    /// Fans the events not yet fanned out into deliveries, `batch` events
    /// at a time, until none are left; how many deliveries were made.
    /// Replicas running it at once serialise on the cursor.
    pub async fn dispatch(&self, batch: u32) -> anyhow::Result<usize> {
        let mut made = 0;
        loop {
            let from = self.store.dispatched().await?;
            let query = FeedQuery {
                after: from,
                limit: batch,
                types: vec![],
                organization_id: None,
                since: None,
                until: None,
                actor_id: None,
            };
            let mut events = self.log.read(&query).await?;
            events.truncate(batch as usize);
            let Some(to) = events.last().map(|r| r.position) else { return Ok(made) };
            let mut endpoints = Vec::new();
            for endpoint in self.store.enabled().await? {
                if self.stewarded(&endpoint).await? {
                    endpoints.push(endpoint);
                }
            }
            let now = self.clock.now();
            let deliveries: Vec<Delivery> =
                events.iter().flat_map(|r| endpoints.iter().filter_map(move |e| Delivery::of(e, r, now))).collect();
            if self.store.fan_out(from, to, &deliveries).await? {
                made += deliveries.len();
            }
        }
    }

    /// Posts the due deliveries, one attempt each, [`PARALLEL`] at a time
    /// (so one slow endpoint does not hold up the others), in rounds of up
    /// to `limit`: a subject's next event is due once its earlier one is
    /// delivered, so a burst about one subject goes out in one run, in
    /// order. Stops when a round claims nothing, or after [`MAX_ROUNDS`];
    /// how many were delivered.
    pub async fn deliver(&self, limit: u32) -> anyhow::Result<usize> {
        let mut delivered = 0;
        for _ in 0..MAX_ROUNDS {
            let now = self.clock.now();
            let due = self.store.due(now, limit).await?;
            let outcomes: Vec<anyhow::Result<Option<bool>>> =
                stream::iter(due).map(|d| self.attempt(d, now)).buffer_unordered(PARALLEL).collect().await;
            let mut attempted = false;
            for outcome in outcomes {
                if let Some(ok) = outcome? {
                    attempted = true;
                    delivered += usize::from(ok);
                }
            }
            if !attempted {
                break;
            }
        }
        Ok(delivered)
    }

    /// One attempt of `due`, read as due at `now`, when this caller claims
    /// it: whether it was delivered, or `None` when it was not attempted.
    async fn attempt(&self, due: Delivery, now: time::OffsetDateTime) -> anyhow::Result<Option<bool>> {
        if !self.store.claim(&due, now + DELIVERY_LEASE).await? {
            return Ok(None);
        }
        // Read after the claim: a secret rotated or an endpoint disabled meanwhile counts.
        let Some(endpoint) = self.store.find(due.endpoint_id).await? else { return Ok(None) };
        if !endpoint.enabled || !self.stewarded(&endpoint).await? {
            return Ok(None);
        }
        let at = self.clock.now();
        let signed_at = at.unix_timestamp();
        let headers = signing::headers(
            &due.event_id.to_string(),
            signed_at,
            due.payload.as_bytes(),
            &endpoint.secrets.signing_at(at),
        );
        let attempt = self.sender.post(&endpoint.url, &headers, due.payload.as_bytes(), at).await;
        let settled = due.settle(attempt, &self.settings.schedule, jitter());
        if let Health::Failing(failing) = &settled.health {
            tracing::warn!(endpoint = %endpoint.id, reason = %failing.reason, "a webhook endpoint is failing");
        }
        self.store.settle(&settled).await?;
        Ok(Some(settled.delivery.state == DeliveryState::Delivered))
    }

    /// Deletes settled deliveries made before `cutoff`, a batch at a time; how many.
    pub async fn prune(&self, cutoff: time::OffsetDateTime, batch: u32) -> anyhow::Result<u64> {
        let mut total = 0;
        loop {
            match self.store.prune(cutoff, batch).await? {
                0 => return Ok(total),
                n => total += n,
            }
        }
    }
}

/// A fresh secret from the operating system's random source.
fn new_secret() -> anyhow::Result<Secret> {
    let mut bytes = [0u8; Secret::BYTES];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("the OS random source failed: {e}"))?;
    Ok(Secret::from_bytes(&bytes)?)
}

/// A number in `0.0..1.0` from the operating system's random source (the retry's jitter).
fn jitter() -> f64 {
    getrandom::u32().map_or(0.5, |n| f64::from(n) / (f64::from(u32::MAX) + 1.0))
}
