//! Spawning the real service in-process on `127.0.0.1:0`, with its own data
//! directory and its own database (a fresh SQLite file, or a fresh PostgreSQL
//! database cloned from the migrated template), plus a small HTTP client.

use crate::postgres::{PgCluster, TestDatabase};
use crate::tokens;
use reqwest::{Method, Response};
use serde_json::Value;
use shared_kernel::Clock;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};
use usher_api::background::{JobRun, Jobs};
use usher_api::settings::Secret;
use usher_api::startup::Dependencies;
use usher_api::{Application, Settings};

/// The test app's gate between a decision's read and its write: a test
/// arms a point, the first request to reach it waits there until the test
/// releases it, and every other request passes. So a test proves a
/// conflict deterministically: hold reviewer A after their read, let
/// reviewer B decide, release A, and A must lose.
#[derive(Debug, Default)]
pub struct TestGate {
    state: Mutex<GateState>,
    changed: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct GateState {
    armed: Option<&'static str>,
    held: bool,
    released: bool,
}

impl TestGate {
    /// The first request to reach `point` from now on waits there.
    pub fn arm(&self, point: &'static str) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) =
            GateState { armed: Some(point), held: false, released: false };
    }

    /// Returns once a request waits at the armed point.
    pub async fn held(&self) {
        loop {
            let notified = self.changed.notified();
            if self.state.lock().unwrap_or_else(|e| e.into_inner()).held {
                return;
            }
            notified.await;
        }
    }

    /// Lets the waiting request go on.
    pub fn release(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).released = true;
        self.changed.notify_waiters();
    }
}

#[async_trait::async_trait]
impl shared_kernel::Pause for TestGate {
    async fn at(&self, point: &'static str) {
        {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.armed != Some(point) || state.held {
                return;
            }
            state.held = true;
        }
        self.changed.notify_waiters();
        loop {
            let notified = self.changed.notified();
            if self.state.lock().unwrap_or_else(|e| e.into_inner()).released {
                return;
            }
            notified.await;
        }
    }
}

/// The test app's clock: the wall clock plus an offset the test moves, so a
/// test steps over an hour or a month instead of sleeping through it.
#[derive(Debug, Default)]
pub struct TestClock {
    offset: Mutex<Duration>,
}

impl TestClock {
    /// Moves the clock forward by `by` (backwards when negative).
    pub fn advance(&self, by: Duration) {
        // A poisoned lock only means another test thread panicked mid-step.
        *self.offset.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        shared_kernel::truncate_to_micros(
            OffsetDateTime::now_utc() + *self.offset.lock().unwrap_or_else(|e| e.into_inner()),
        )
    }
}

/// Which database a test app runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file in the app's data directory.
    Sqlite,
    /// A fresh database in the test binary's shared PostgreSQL cluster.
    Postgres,
}

/// A running service and what it needs to stay alive.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The settings it was built with.
    pub settings: Settings,
    /// A client without default headers.
    pub client: reqwest::Client,
    /// The app's clock; `app.clock.advance(…)` steps time.
    pub clock: Arc<TestClock>,
    /// The gate reviewers' decisions pass between their read and their write.
    pub gate: Arc<TestGate>,
    jobs: Jobs,
    handle: actix_web::dev::ServerHandle,
    _data_dir: tempfile::TempDir,
    _database: Option<TestDatabase>,
}

/// A day in seconds: the interval of a test app's scheduled jobs.
const DAY: u64 = 24 * 3600;

/// Settings for a test app: port 0, one worker, the test HS256 secret, and
/// background jobs that run only through [`TestApp::run_jobs`].
pub fn test_settings(data_dir: &std::path::Path) -> Settings {
    let mut settings = Settings::default();
    settings.server.addr = ([127, 0, 0, 1], 0).into();
    settings.server.workers = 1;
    settings.server.shutdown_timeout_seconds = 1;
    settings.data_dir = data_dir.to_path_buf();
    settings.auth.hs256_secret = Some(Secret::new(tokens::HS256_SECRET));
    settings.database.max_connections = 5;
    settings.database.acquire_timeout_seconds = 2;
    // The background jobs run when a test says so (`run_jobs`), never on
    // their own: a scheduler tick would race the test for the same work.
    settings.storage.sweep_interval_seconds = DAY;
    settings.invitations.sweep_interval_seconds = DAY;
    settings.invitations.outbox_interval_seconds = DAY;
    settings.events.webhook_interval_seconds = DAY;
    settings
}

impl TestApp {
    /// Spawns the app with the test settings on `backend`.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Spawns the app after letting `configure` change the settings.
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> Self {
        let data_dir = tempfile::tempdir().expect("creating a data directory");
        let mut settings = test_settings(data_dir.path());
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let db = TestDatabase::create(PgCluster::shared()).await.expect("creating a PostgreSQL test database");
                settings.database.url = Some(Secret::new(db.url()));
                Some(db)
            }
        };
        configure(&mut settings);
        Self::start(settings, data_dir, database).await
    }

    /// Spawns another replica on this app's PostgreSQL database (with its
    /// own data directory and clock), after letting `configure` change the
    /// test settings as it did for this one.
    pub async fn spawn_replica(&self, configure: impl FnOnce(&mut Settings)) -> Self {
        let url = self.settings.database.url.clone().expect("a replica needs the first app on PostgreSQL");
        Self::spawn_with(Backend::Sqlite, |s| {
            configure(s);
            s.database.url = Some(url);
        })
        .await
    }

    /// Spawns the app with exactly these settings (the data directory is kept alive by the app).
    pub async fn start(settings: Settings, data_dir: tempfile::TempDir, database: Option<TestDatabase>) -> Self {
        let clock = Arc::new(TestClock::default());
        let gate = Arc::new(TestGate::default());
        let app = Application::build_with(settings.clone(), Dependencies { clock: clock.clone(), pause: gate.clone() })
            .await
            .expect("building the application");
        let address = format!("http://{}", app.addr());
        let handle = app.handle();
        let jobs = app.jobs();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("building an HTTP client");
        Self { address, settings, client, clock, gate, jobs, handle, _data_dir: data_dir, _database: database }
    }

    /// Runs every background job once (sweeps, the e-mail outbox, imports), as the scheduler would.
    pub async fn run_jobs(&self) -> JobRun {
        self.jobs.run_once().await
    }

    /// The app's data directory (embedded database, objects, secrets).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    /// An HS256 token for `email`, accepted by this app.
    pub fn token(&self, email: &str) -> String {
        tokens::hs256(tokens::HS256_SECRET, &tokens::claims(email))
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Response {
        let mut req = self.client.request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.expect("sending a request to the test app")
    }

    /// `POST path` with a JSON body and a bearer token.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some(token), Some(body)).await
    }

    /// `POST /user/get` with `token`.
    pub async fn get_user(&self, token: &str) -> Response {
        self.request(Method::POST, "/user/get", Some(token), None).await
    }

    /// Stops the server, waiting for in-flight requests.
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command at once; the workers finish on their own threads.
        drop(self.handle.stop(false));
    }
}

/// Reads a JSON body, panicking with the status and text if it is not JSON.
pub async fn json(res: Response) -> Value {
    let status = res.status();
    let text = res.text().await.expect("reading a response body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: body is not JSON ({e}): {text}"))
}

/// Asserts a problem+json response with `status` and `code`; returns its body.
pub async fn assert_problem(res: Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "unexpected status");
    let content_type = res.headers().get("content-type").map(|v| v.to_str().unwrap_or_default().to_owned());
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let request_id = res.headers().get("x-request-id").map(|v| v.to_str().unwrap_or_default().to_owned());
    let body = json(res).await;
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], format!("urn:usher:problem:{code}"), "{body}");
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    assert_eq!(body["requestId"].as_str(), request_id.as_deref(), "requestId must match the header: {body}");
    body
}

/// Runs each named `async fn case(backend: Backend)` on SQLite and on
/// PostgreSQL, as two tests named `<case>::sqlite` and `<case>::postgres`
/// (for cases that spawn their own app, with their own settings).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::app::Backend::Sqlite).await;
                }

                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::app::Backend::Postgres).await;
                }
            }
        )*
    };
}

/// Runs one async test case on SQLite and on PostgreSQL, as two tests named
/// `<case>::sqlite` and `<case>::postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn case($app: $crate::app::TestApp) $body

                #[tokio::test]
                async fn sqlite() {
                    case($crate::app::TestApp::spawn($crate::app::Backend::Sqlite).await).await;
                }

                #[tokio::test]
                async fn postgres() {
                    case($crate::app::TestApp::spawn($crate::app::Backend::Postgres).await).await;
                }
            }
        )*
    };
}
