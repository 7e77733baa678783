//! Per-key rate limits of the paths anyone can hammer (the public
//! invitation preview per address, accepting per caller). Their state is in
//! the database (`adapter_sql::SqlRateLimits`, GCRA in one upsert), so every
//! replica counts against one allowance per key, and the state survives a
//! replica's restart.

use crate::error::ApiError;
use adapter_sql::{Rate, SqlRateLimits};
use shared_kernel::Clock;
use std::fmt::Display;
use std::sync::Arc;

/// The database's rate limits and the clock they count by.
#[derive(Clone)]
pub struct RateLimits {
    store: SqlRateLimits,
    clock: Arc<dyn Clock>,
}

impl RateLimits {
    /// The limits of `store`, counted by `clock`.
    pub fn new(store: SqlRateLimits, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// The limit `name`: `per_minute` requests per key in a burst, refilled
    /// evenly over a minute.
    pub fn per_minute(&self, name: &'static str, per_minute: u32) -> Limiter {
        Limiter { limits: self.clone(), name, rate: Rate::per_minute(per_minute) }
    }

    /// Forgets the keys whose allowance is full again; returns how many.
    pub async fn sweep(&self) -> anyhow::Result<u64> {
        self.store.sweep(self.clock.now()).await
    }
}

/// One named limit.
#[derive(Clone)]
pub struct Limiter {
    limits: RateLimits,
    name: &'static str,
    rate: Rate,
}

impl Limiter {
    /// Takes one request for `key`: `Ok(Err(seconds))` until the next one
    /// is allowed (at least 1); `Err` when the database failed (503 when it
    /// is unreachable).
    pub async fn check(&self, key: &impl Display) -> Result<Result<(), u64>, ApiError> {
        let now = self.limits.clock.now();
        let taken = self.limits.store.take(self.name, &key.to_string(), self.rate, now).await;
        match taken.map_err(ApiError::unexpected)? {
            Ok(()) => Ok(Ok(())),
            Err(wait) => Ok(Err((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))),
        }
    }
}
