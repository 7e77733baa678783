//! Background work: the sweeper that deletes the temporary objects of
//! expired upload tickets. Each run is idempotent SQL plus idempotent
//! deletes, so any number of replicas may run it at once.

use image_upload::{ImageUploads, SweepError};
use std::time::Duration;

/// Tickets handled per batch.
const BATCH: u32 = 100;

/// Runs the sweeper every `interval` on the current runtime until the task is aborted.
pub fn spawn(uploads: ImageUploads, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            sweep_all(&uploads).await;
        }
    })
}

/// Sweeps batch after batch until nothing expired is left (or a run fails).
pub async fn sweep_all(uploads: &ImageUploads) -> usize {
    let mut total = 0;
    loop {
        match uploads.sweep(BATCH).await {
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
        }
    }
    if total > 0 {
        tracing::info!(swept = total, "deleted abandoned uploads");
    }
    total
}
