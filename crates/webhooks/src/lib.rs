//! Webhooks: HTTP endpoints that receive Usher's events (docs/events.md),
//! signed as the [Standard Webhooks](https://www.standardwebhooks.com/)
//! specification says. This crate holds the rules, and nothing that sends
//! or stores: which endpoint gets which event ([`Endpoint::wants`]), what an
//! endpoint's URL may be ([`EndpointUrl`]), the `whsec_` secret and the
//! overlap when it rotates ([`Secrets`]), the three signature headers
//! ([`signing`]), and when a failed delivery is tried again or given up
//! ([`retry`]), and what each attempt does to a delivery ([`delivery`]).
//! [`WebhookService`] holds the use cases and the two jobs (fan-out and
//! delivery) over the [`ports`].
//!
//! ```
//! use webhooks::{Secret, signing};
//!
//! let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
//! let headers = signing::headers("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232314}"#, &[&secret]);
//! assert_eq!(headers.signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
//! ```

pub mod delivery;
pub mod endpoint;
pub mod ports;
pub mod retry;
pub mod secret;
pub mod service;
pub mod signing;

pub use delivery::{Attempt, DELIVERY_LEASE, Delivery, DeliveryId, DeliveryState, Failing, Health, Settled, payload};
pub use ports::{Sender, Stewards, WebhookStore};
pub use service::{Change, MAX_ENDPOINTS, Registration, WebhookError, WebhookPorts, WebhookService, WebhookSettings};
pub use signing::WebhookHeaders;

pub use endpoint::{Endpoint, EndpointId, EndpointUrl, Scope, UrlError};
pub use retry::{Retry, RetrySchedule};
pub use secret::{Secret, SecretError, Secrets};
