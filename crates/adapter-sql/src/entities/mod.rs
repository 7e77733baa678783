//! sea-orm persistence models. They never leave this crate: `mapping` turns
//! them into domain records.

pub(crate) mod upload_tickets;
pub(crate) mod users;
