//! Black-box HTTP tests of the Usher service, each on SQLite and PostgreSQL
//! unless a `// SQLite only:` or `// PostgreSQL only:` comment above it says
//! why not: the real app on port 0 with its own database, driven over HTTP.

mod admin_users;
mod auth;
mod authz;
mod avatar;
mod dashboard;
mod edge;
mod errors;
mod events;
mod invitations;
mod jwks;
mod membership_races;
mod membership_rules;
mod operations;
mod organizations;
mod photos;
mod privacy;
mod profiles;
mod user;
mod webhooks;
