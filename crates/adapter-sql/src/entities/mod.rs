//! sea-orm persistence models. They never leave this crate: `mapping` turns
//! them into domain records.

pub(crate) mod labels;
pub(crate) mod photo_verification_events;
pub(crate) mod photo_verifications;
pub(crate) mod profile_decisions;
pub(crate) mod profiles;
pub(crate) mod upload_tickets;
pub(crate) mod user_data_keys;
pub(crate) mod user_erasures;
pub(crate) mod users;
