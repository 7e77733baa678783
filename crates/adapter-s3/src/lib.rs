//! `ObjectStore` implementations.
//!
//! - [`s3`]: S3 and Cloudflare R2 through `rusty-s3` (signing, no I/O) and
//!   `reqwest` (the requests): presigned PUTs with the content type signed in,
//!   HEAD, ranged GET, server-side COPY and DELETE.
//! - [`local`]: the embedded default, objects under `data_dir/objects`; its
//!   presigned URLs point at the app's own `PUT /uploads/{key}` route and
//!   carry an HMAC signature over method, key, content type and expiry.
#![forbid(unsafe_code)]

pub mod local;
pub mod s3;

pub use local::LocalObjectStore;
pub use s3::{S3Config, S3ObjectStore};
