//! What Usher's tests stand on: real servers on loopback, never mocks of them.
//!
//! - [`postgres`]: a throwaway PostgreSQL cluster from the machine's binaries,
//!   and a fresh database per test cloned from a migrated template.
//! - [`app`]: the real service spawned in-process on port 0 with its own data
//!   directory and database, an HTTP client, problem+json assertions, and
//!   `on_both_databases!` to run a case on SQLite and PostgreSQL.
//! - [`tokens`]: HS256, RS256 and ES256 test tokens, JWKS documents and the
//!   malicious token shapes.
//! - [`images`]: image bytes for uploads.
//! - [`s3`]: an S3 server that checks SigV4 signatures (s3s + s3s-fs), in
//!   process on 127.0.0.1:0.
#![forbid(unsafe_code)]

pub mod app;
pub mod images;
pub mod postgres;
pub mod s3;
pub mod tokens;

pub use app::{Backend, TestApp, assert_problem, json};
