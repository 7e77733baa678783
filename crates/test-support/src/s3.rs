//! An S3 server that checks signatures, in-process on `127.0.0.1:0`.
//!
//! `s3s` (the S3 protocol, with AWS Signature Version 4 verification:
//! signed headers, expiry, signature) over `s3s-fs` (objects as files in a
//! temporary directory), served with hyper-util on the current tokio runtime.
//! Unlike moto it refuses a wrong or tampered signature, so it catches a
//! presigned URL that signs the wrong thing.
//!
//! [`S3Server::stop`] takes the server down for "object store unreachable"
//! tests: the listener closes and open connections are dropped, so even a
//! client with pooled connections gets a transport error.

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use std::path::PathBuf;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The bucket every server has.
const BUCKET: &str = "usher";
/// The only access key the server accepts.
const ACCESS_KEY_ID: &str = "usher-test-access-key";
/// Its secret.
const SECRET_ACCESS_KEY: &str = "usher-test-secret-key-0123456789abcdef";
/// The signing region the [`S3Server::config`] uses (Cloudflare R2's); s3s
/// verifies signatures for whatever region the credential scope names.
const REGION: &str = "auto";

/// A running S3 server with one bucket, `usher`, stored in a temporary
/// directory. Stops when dropped.
pub struct S3Server {
    endpoint: String,
    dir: tempfile::TempDir,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for S3Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Server").field("endpoint", &self.endpoint).field("dir", &self.dir.path()).finish()
    }
}

impl S3Server {
    /// Starts s3s + s3s-fs on 127.0.0.1:0 with SimpleAuth (a fixed access key
    /// / secret), one bucket `usher` (a directory), on the current tokio runtime.
    ///
    /// # Errors
    /// The temporary directory or the listener cannot be created.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub async fn start() -> anyhow::Result<S3Server> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join(BUCKET))?;
        let fs = s3s_fs::FileSystem::new(dir.path())
            .map_err(|e| anyhow::anyhow!("starting s3s-fs in {}: {e:?}", dir.path().display()))?;
        let service = {
            let mut builder = S3ServiceBuilder::new(fs);
            builder.set_auth(SimpleAuth::from_single(ACCESS_KEY_ID, SECRET_ACCESS_KEY));
            builder.build()
        };

        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let (shutdown, mut stopped) = watch::channel(false);

        tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            loop {
                // `biased`: once stopped, never accept again, even if a
                // connection is waiting. Dropping the listener resets those.
                let socket = tokio::select! {
                    biased;
                    _ = stopped.changed() => break,
                    accepted = listener.accept() => match accepted {
                        Ok((socket, _)) => socket,
                        Err(_) => continue,
                    },
                };
                let connection = http.serve_connection(TokioIo::new(socket), service.clone()).into_owned();
                let mut stopped = stopped.clone();
                tokio::spawn(async move {
                    // Checked first on every wake-up, so a request arriving
                    // on a kept-alive connection after `stop` is never served:
                    // the connection is dropped (closed) instead.
                    tokio::select! {
                        biased;
                        _ = stopped.changed() => {}
                        _ = connection => {}
                    }
                });
            }
        });

        Ok(S3Server { endpoint, dir, shutdown })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// The bucket's name, `usher`.
    pub fn bucket(&self) -> &str {
        BUCKET
    }

    /// The access key id the server accepts.
    pub fn access_key_id(&self) -> &str {
        ACCESS_KEY_ID
    }

    /// Its secret access key.
    pub fn secret_access_key(&self) -> &str {
        SECRET_ACCESS_KEY
    }

    /// Settings-ready config: this endpoint and bucket, region `auto` (R2's;
    /// s3s accepts any region), the keys, and
    /// `public_base_url = "{endpoint}/{bucket}"`.
    pub fn config(&self) -> adapter_s3::S3Config {
        adapter_s3::S3Config {
            endpoint: self.endpoint(),
            bucket: BUCKET.to_owned(),
            region: REGION.to_owned(),
            access_key_id: ACCESS_KEY_ID.to_owned(),
            secret_access_key: SECRET_ACCESS_KEY.to_owned(),
            public_base_url: format!("{}/{BUCKET}", self.endpoint),
        }
    }

    /// Stops accepting connections and drops the open ones (to test "object
    /// store down"); `start` a new one to come back. Takes effect before the
    /// server handles anything else, so a request sent after this fails.
    pub fn stop(&self) {
        self.shutdown.send_replace(true);
    }

    /// Path of an object on disk (for assertions).
    pub fn object_path(&self, key: &str) -> PathBuf {
        self.dir.path().join(BUCKET).join(key)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}
