//! sea-orm persistence models. They never leave this crate: `mapping` turns
//! them into domain records.

pub(crate) mod photo_verification_events;
pub(crate) mod photo_verifications;
pub(crate) mod upload_tickets;
pub(crate) mod users;
