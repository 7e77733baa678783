//! Background work: one [`Jobs`] value holds every job, each with a
//! `run_once`-style step, and one scheduler runs them on their intervals.
//! Every step is idempotent SQL (compare-and-set claims) plus idempotent
//! deletes, so any number of replicas may run them at once; tests call
//! [`Jobs::run_once`] instead of waiting for a tick (a job's first tick
//! comes one interval after start).
//!
//! - the upload sweep: deletes the temporary objects of expired tickets;
//! - the membership sweep: ends time-bound memberships that ran out, and
//!   announces invitations whose expiry passed (`invitation.expired`);
//! - the outbox: sends invitation e-mails (and closes those that must not go);
//! - imports: applies imported memberships of newly verified accounts;
//! - Discord: reads the Discord avatars of new photo verifications (an upload never waits on Discord);
//! - rate limits: forgets the keys whose allowance is full again (with the upload sweep);
//! - events: deletes the events past `events.retention_days`, and the
//!   settled webhook deliveries made before then;
//! - webhooks: fans new events out into deliveries and posts the due ones.

use image_upload::{ImageUploadService, SweepError};
use organizations::{InvitationService, OrganizationService};
use photo_verification::PhotoVerificationService;
use shared_kernel::{Clock, EventLog, Retention};
use std::sync::Arc;
use std::time::Duration;

/// Rows handled per batch.
const BATCH: u32 = 100;

/// Every background job.
#[derive(Clone)]
pub struct Jobs {
    /// Rate-limit keys whose allowance is full again.
    pub rate_limits: crate::rate_limit::RateLimits,
    /// Abandoned uploads.
    pub uploads: ImageUploadService,
    /// Expired memberships.
    pub orgs: OrganizationService,
    /// The e-mail outbox and imports.
    pub invitations: InvitationService,
    /// Discord avatars of new photo verifications.
    pub photos: PhotoVerificationService,
    /// The event log, and how long it keeps events.
    pub events: (Arc<dyn EventLog>, Retention),
    /// Webhook fan-out and delivery.
    pub webhooks: webhooks::WebhookService,
    /// What the retention counts from.
    pub clock: Arc<dyn Clock>,
}

/// What one run of every job did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobRun {
    /// Abandoned uploads deleted.
    pub uploads_swept: usize,
    /// Time-bound memberships ended.
    pub memberships_ended: u64,
    /// Invitations whose expiry was announced.
    pub invitations_expired: u64,
    /// Invitation e-mails handed to the mail server.
    pub mails_sent: usize,
    /// Imported memberships applied.
    pub imports_applied: u64,
    /// Discord avatars read into pending photo verifications.
    pub discord_avatars_read: usize,
    /// Rate-limit keys forgotten (their allowance was full again).
    pub rate_limit_keys_swept: u64,
    /// Events deleted past their retention.
    pub events_pruned: u64,
    /// Webhook deliveries made from new events.
    pub webhook_deliveries_made: usize,
    /// Webhook deliveries an endpoint took (a 2xx).
    pub webhooks_delivered: usize,
}

/// How often each job runs.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    /// The upload sweep.
    pub uploads: Duration,
    /// The membership sweep.
    pub memberships: Duration,
    /// The outbox and imports.
    pub outbox: Duration,
    /// The event retention.
    pub events: Duration,
    /// Webhook fan-out and delivery.
    pub webhooks: Duration,
}

impl Jobs {
    /// Runs every job once, each until its work is done or it fails (a
    /// failure is logged and left to the next run).
    pub async fn run_once(&self) -> JobRun {
        JobRun {
            uploads_swept: self.sweep_uploads().await,
            memberships_ended: self.end_memberships().await,
            invitations_expired: self.announce_expiries().await,
            mails_sent: self.drain_outbox().await,
            imports_applied: self.apply_imports().await,
            discord_avatars_read: self.read_discord_avatars().await,
            rate_limit_keys_swept: self.sweep_rate_limits().await,
            events_pruned: self.prune_events().await,
            webhook_deliveries_made: self.dispatch_webhooks().await,
            webhooks_delivered: self.deliver_webhooks().await,
        }
    }

    /// Fans the events not yet fanned out into webhook deliveries.
    pub async fn dispatch_webhooks(&self) -> usize {
        match self.webhooks.dispatch(BATCH).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = ?e, "fanning events out to webhooks failed; will retry");
                0
            }
        }
    }

    /// Posts the due webhook deliveries (one attempt each).
    pub async fn deliver_webhooks(&self) -> usize {
        match self.webhooks.deliver(BATCH).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = ?e, "delivering webhooks failed; will retry");
                0
            }
        }
    }

    /// Deletes the events past their retention, a batch at a time.
    pub async fn prune_events(&self) -> u64 {
        let (log, retention) = &self.events;
        let cutoff = retention.cutoff(self.clock.now());
        let mut total = 0;
        loop {
            match log.prune(cutoff, BATCH).await {
                Ok(0) => break,
                Ok(n) => total += n,
                Err(e) => {
                    tracing::warn!(error = ?e, "pruning the event log failed; will retry");
                    break;
                }
            }
        }
        if total > 0 {
            tracing::info!(pruned = total, days = retention.get(), "deleted events past their retention");
        }
        match self.webhooks.prune(cutoff, BATCH).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "deleted webhook deliveries past the event retention"),
            Err(e) => tracing::warn!(error = ?e, "pruning webhook deliveries failed; will retry"),
        }
        total
    }

    /// Reads the Discord avatars new photo verifications still lack.
    pub async fn read_discord_avatars(&self) -> usize {
        match self.photos.read_discord_avatars(BATCH).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = ?e, "reading Discord avatars failed; will retry");
                0
            }
        }
    }

    /// Sweeps batch after batch until nothing expired is left (or a run fails).
    pub async fn sweep_uploads(&self) -> usize {
        let mut total = 0;
        loop {
            match self.uploads.sweep(BATCH).await {
                Ok(0) => break,
                Ok(n) => total += n,
                Err(SweepError::Store(e)) => {
                    tracing::warn!(error = ?e, "upload sweeper: the object store failed; will retry");
                    break;
                }
                Err(SweepError::Unexpected(e)) => {
                    tracing::warn!(error = ?e, "upload sweeper: the database failed; will retry");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "upload sweeper failed; will retry");
                    break;
                }
            }
        }
        if total > 0 {
            tracing::info!(swept = total, "deleted abandoned uploads");
        }
        total
    }

    /// Forgets the rate-limit keys whose allowance is full again, so the
    /// table holds only the keys active within the last minute or so.
    pub async fn sweep_rate_limits(&self) -> u64 {
        match self.rate_limits.sweep().await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = ?e, "rate-limit sweeper failed; will retry");
                0
            }
        }
    }

    /// Ends the time-bound memberships that ran out.
    pub async fn end_memberships(&self) -> u64 {
        let mut total = 0;
        loop {
            match self.orgs.sweep(BATCH).await {
                Ok(0) => break,
                Ok(n) => total += n,
                Err(e) => {
                    tracing::warn!(error = ?e, "membership sweeper failed; will retry");
                    break;
                }
            }
        }
        if total > 0 {
            tracing::info!(ended = total, "ended expired memberships");
        }
        total
    }

    /// Announces the invitations whose expiry passed, a batch at a time.
    pub async fn announce_expiries(&self) -> u64 {
        let mut total = 0;
        loop {
            match self.invitations.announce_expiries(BATCH).await {
                Ok(n) => {
                    total += n;
                    // A short batch: nothing left, or only what another replica is announcing.
                    if n < u64::from(BATCH) {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = ?e, "announcing expired invitations failed; will retry");
                    break;
                }
            }
        }
        if total > 0 {
            tracing::info!(expired = total, "announced expired invitations");
        }
        total
    }

    /// Sends the due invitation e-mails.
    pub async fn drain_outbox(&self) -> usize {
        match self.invitations.drain_outbox(BATCH).await {
            Ok(0) => 0,
            Ok(n) => {
                tracing::info!(sent = n, "sent invitation e-mails");
                n
            }
            Err(e) => {
                tracing::warn!(error = ?e, "draining the invitation outbox failed; will retry");
                0
            }
        }
    }

    /// Applies imported memberships whose invitee has a verified account now.
    pub async fn apply_imports(&self) -> u64 {
        match self.invitations.apply_imports(BATCH).await {
            Ok(0) => 0,
            Ok(n) => {
                tracing::info!(applied = n, "applied imported memberships");
                n
            }
            Err(e) => {
                tracing::warn!(error = ?e, "applying imported memberships failed; will retry");
                0
            }
        }
    }

    /// Runs each job on its interval until the task is aborted.
    pub fn spawn(self, schedule: Schedule) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            // Each job first runs one interval after start, not at once: a
            // test app drives its jobs with `run_once` alone (its intervals
            // are a day), and the scheduler never takes their work first.
            let tick = |every: Duration| {
                let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                t
            };
            let (mut uploads, mut memberships, mut outbox, mut events, mut webhooks) = (
                tick(schedule.uploads),
                tick(schedule.memberships),
                tick(schedule.outbox),
                tick(schedule.events),
                tick(schedule.webhooks),
            );
            loop {
                tokio::select! {
                    _ = uploads.tick() => {
                        self.sweep_uploads().await;
                        self.sweep_rate_limits().await;
                    }
                    _ = memberships.tick() => {
                        self.end_memberships().await;
                        self.announce_expiries().await;
                    }
                    _ = events.tick() => { self.prune_events().await; }
                    _ = webhooks.tick() => {
                        self.dispatch_webhooks().await;
                        self.deliver_webhooks().await;
                    }
                    _ = outbox.tick() => {
                        self.drain_outbox().await;
                        self.apply_imports().await;
                        self.read_discord_avatars().await;
                    }
                }
            }
        })
    }
}
