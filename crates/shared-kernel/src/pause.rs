//! A test hook between a use case's read and its write, so a test can hold
//! one decision there while another completes, and prove the loser gets the
//! promised conflict deterministically instead of by timing.

use async_trait::async_trait;

/// Waits at a named point of a use case. Production uses [`NoPause`].
#[async_trait]
pub trait Pause: Send + Sync {
    /// Called at `point` (`photo.decide`, `profile.decide`); returns when the use case may go on.
    async fn at(&self, point: &'static str);
}

/// Never waits.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoPause;

#[async_trait]
impl Pause for NoPause {
    async fn at(&self, _point: &'static str) {}
}
