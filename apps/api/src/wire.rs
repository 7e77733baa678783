//! Wire types shared by several routes (and by the error mapping, whose
//! conflicts answer with the current record): the JSON shapes of records
//! that more than one endpoint returns. Route-local request and response
//! types stay with their route.

pub mod organizations;
pub mod photos;
pub mod profiles;

use serde::Deserialize;
use utoipa::ToSchema;

/// `retry` or `final`.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RetryWire {
    /// The user may try again.
    Retry,
    /// They may not.
    Final,
}
