//! The HTTP edge against what the open internet sends: clients that stall
//! mid-body, and more uploads at once than the service takes. Each test
//! holds a bounded number of sockets and waits only on the service's own
//! deadlines (one second here), never on a sleep.

use std::time::Duration;
use test_support::{Backend, TestApp, assert_problem, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// The longest any answer may take here: the service's one-second deadline
/// plus generous slack for a loaded machine.
const BOUND: Duration = Duration::from_secs(20);

async fn spawn(configure: impl FnOnce(&mut usher_api::Settings)) -> TestApp {
    spawn_on(Backend::Sqlite, configure).await
}

async fn spawn_on(backend: Backend, configure: impl FnOnce(&mut usher_api::Settings)) -> TestApp {
    TestApp::spawn_with(backend, |s| {
        s.server.body_timeout_seconds = 1;
        configure(s);
    })
    .await
}

/// Opens a connection and sends `head` and `partial` of a body that
/// announced more: a client that stalls mid-body.
async fn stall(app: &TestApp, head: &str, partial: &[u8]) -> TcpStream {
    let addr = app.address.trim_start_matches("http://");
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(partial).await.unwrap();
    socket.flush().await.unwrap();
    socket
}

/// The status line the service answers a stalled socket with, within [`BOUND`].
async fn status_of(mut socket: TcpStream) -> String {
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(BOUND, async {
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("the service answered a stalled body within its deadline");
    String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned()
}

/// Seen on the release binary: 300 stalled bodies exhausted file
/// descriptors. Each now gets 408 after `server.body_timeout_seconds`, and
/// the service answers others meanwhile.
// SQLite only: checks the HTTP server's body deadline; stalled bodies never reach the database.
#[tokio::test]
async fn stalled_json_bodies_get_408_and_do_not_hold_the_service() {
    let app = spawn(|_| {}).await;
    let token = app.token("ada@example.com");
    let head = format!(
        "POST /user/update HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    let mut stalled = Vec::new();
    for _ in 0..20 {
        stalled.push(stall(&app, &head, b"{\"displayName\": \"Ad").await);
    }
    // The service still answers while twenty bodies stall.
    assert_eq!(app.get_user(&token).await.status(), 200);
    for socket in stalled {
        assert!(status_of(socket).await.starts_with("HTTP/1.1 408"));
    }
    // Nothing of the stalled updates was applied.
    let user = json(app.get_user(&token).await).await;
    assert_ne!(user["displayName"], "Ad");
}

/// One upload URL held 81 MB of partial files: a key takes one writer at a
/// time, the store a bounded number, and a stalled upload is dropped with
/// its partial file after its deadline.
// SQLite only: checks the embedded object store's upload slots and partial files, not the database.
#[tokio::test]
async fn uploads_are_one_per_key_bounded_in_number_and_dropped_when_they_stall() {
    let app = spawn(|s| s.storage.max_concurrent_uploads = 1).await;
    let token = app.token("ada@example.com");
    let ticket = |token: String| {
        let app = &app;
        async move {
            json(app.post("/user/avatar/upload-ticket", &token, &serde_json::json!({"contentType": "image/png"})).await)
                .await
        }
    };
    let first = ticket(token.clone()).await;
    let second = ticket(app.token("bob@example.com")).await;
    let path_of = |t: &serde_json::Value| {
        let url = t["uploadUrl"].as_str().unwrap();
        url[url.find("/uploads/").unwrap()..].to_owned()
    };
    let head = |path: &str| {
        format!("PUT {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/png\r\nContent-Length: 4096\r\n\r\n")
    };
    let stalled = stall(&app, &head(&path_of(&first)), &[0x89, b'P', b'N', b'G']).await;
    // Give the service the moment it needs to claim the key: poll for the partial file.
    let partials = app.data_dir().join("objects").join(".partial");
    let count = || std::fs::read_dir(&partials).map(|d| d.count()).unwrap_or(0);
    tokio::time::timeout(BOUND, async {
        while count() == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the stalled upload started");

    let put = |path: String| {
        let app = &app;
        async move {
            app.client
                .put(format!("{}{path}", app.address))
                .header("Content-Type", "image/png")
                .body(vec![0u8; 16])
                .send()
                .await
                .unwrap()
        }
    };
    assert_problem(put(path_of(&first)).await, 409, "upload.in_progress").await;
    let busy = put(path_of(&second)).await;
    assert!(busy.headers().contains_key("retry-after"));
    assert_problem(busy, 503, "upload.busy").await;

    assert!(status_of(stalled).await.starts_with("HTTP/1.1 408"));
    tokio::time::timeout(BOUND, async {
        while count() > 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the stalled upload's partial file is removed");
    // Its slot and its key are free again.
    assert_eq!(put(path_of(&second)).await.status(), 200);
}

/// A web app on another origin may call the API only when its origin is
/// listed exactly: preflight answered, the request id readable, credentials
/// never allowed; other origins get no CORS headers, so browsers refuse.
// SQLite only: checks CORS headers, answered before any database access.
#[tokio::test]
async fn only_listed_origins_may_call_from_a_browser() {
    let app = spawn(|s| {
        s.server.cors_allowed_origins =
            usher_api::settings::Parsed::new(vec!["https://app.example.com".into()]).unwrap()
    })
    .await;
    let token = app.token("ada@example.com");
    let preflight = |origin: &'static str| {
        let app = &app;
        async move {
            app.client
                .request(reqwest::Method::OPTIONS, format!("{}/user/get", app.address))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization, content-type")
                .send()
                .await
                .unwrap()
        }
    };
    let header = |res: &reqwest::Response, name: &str| {
        res.headers().get(name).map(|v| v.to_str().unwrap().to_ascii_lowercase()).unwrap_or_default()
    };

    let ok = preflight("https://app.example.com").await;
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(header(&ok, "access-control-allow-origin"), "https://app.example.com");
    assert!(header(&ok, "access-control-allow-methods").contains("post"));
    assert!(header(&ok, "access-control-allow-headers").contains("authorization"));
    assert_eq!(header(&ok, "access-control-allow-credentials"), "");

    let call = app
        .client
        .post(format!("{}/user/get", app.address))
        .header("Origin", "https://app.example.com")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), 200);
    assert_eq!(header(&call, "access-control-allow-origin"), "https://app.example.com");
    assert!(header(&call, "access-control-expose-headers").contains("x-request-id"));

    let evil = preflight("https://evil.example.com").await;
    assert_eq!(header(&evil, "access-control-allow-origin"), "");
    let evil_call = app
        .client
        .post(format!("{}/user/get", app.address))
        .header("Origin", "https://evil.example.com")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&evil_call, "access-control-allow-origin"), "");
}

/// Without `server.cors_allowed_origins`, no origin gets CORS headers.
// SQLite only: checks CORS headers, answered before any database access.
#[tokio::test]
async fn without_listed_origins_there_is_no_cross_origin_access() {
    let app = spawn(|_| {}).await;
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/user/get", app.address))
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

async fn preview_from(app: &TestApp, forwarded_for: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/invitation/preview", app.address))
        .header("X-Forwarded-For", forwarded_for)
        .json(&serde_json::json!({"token": "unknown"}))
        .send()
        .await
        .unwrap()
}

/// Behind a proxy every request comes from the proxy's address: with
/// `server.trusted_proxies` each client gets its own bucket, read from the
/// rightmost address the trusted proxy did not write; without it, the
/// header is ignored, so no client can pick its own bucket.
// SQLite only: checks the client's address behind a proxy; sharing the limits is the next test's.
#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit_and_cannot_choose_it() {
    let app = spawn(|s| {
        s.invitations.preview_per_minute = 2;
        s.server.trusted_proxies = usher_api::settings::Parsed::new(vec!["127.0.0.1/32".into()]).unwrap();
    })
    .await;
    for _ in 0..2 {
        assert_problem(preview_from(&app, "203.0.113.5").await, 404, "invitation.not_found").await;
    }
    assert_problem(preview_from(&app, "203.0.113.5").await, 429, "invitation.preview_rate_limited").await;
    // Another client behind the same proxy is not affected...
    assert_problem(preview_from(&app, "203.0.113.6").await, 404, "invitation.not_found").await;
    // ...and prefixing a made-up address does not escape the bucket.
    assert_problem(preview_from(&app, "198.51.100.1, 203.0.113.5").await, 429, "invitation.preview_rate_limited").await;

    let untrusting = spawn(|s| s.invitations.preview_per_minute = 2).await;
    for client in ["203.0.113.5", "203.0.113.6"] {
        assert_problem(preview_from(&untrusting, client).await, 404, "invitation.not_found").await;
    }
    assert_problem(preview_from(&untrusting, "203.0.113.7").await, 429, "invitation.preview_rate_limited").await;
}

/// Accepting is limited per caller too (`invitations.accept_per_minute`),
/// and the acceptance log records the client's address through the proxy.
async fn accepts_are_rate_limited_per_caller_and_logged_with_the_forwarded_address(backend: Backend) {
    let app = spawn_on(backend, |s| {
        s.invitations.accept_per_minute = 2;
        s.server.trusted_proxies = usher_api::settings::Parsed::new(vec!["127.0.0.1".into()]).unwrap();
    })
    .await;
    let ada = app.token("ada@example.com");
    let org = crate::organizations::create_org(&app, &ada, "Acme").await;
    let link = crate::organizations::invite(&app, &ada, &org, serde_json::json!({"maxUses": 5})).await;
    let bob = app.token("bob@example.com");
    let accept = |token: &str, body: serde_json::Value| {
        let (app, token) = (&app, token.to_owned());
        async move {
            app.client
                .post(format!("{}/invitation/accept", app.address))
                .bearer_auth(token)
                .header("X-Forwarded-For", "203.0.113.5")
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(accept(&bob, serde_json::json!({"token": link["token"]})).await.status(), 200);
    assert_problem(accept(&bob, serde_json::json!({"token": link["token"]})).await, 409, "invitation.already_member")
        .await;
    let limited = accept(&bob, serde_json::json!({"token": link["token"]})).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429, "invitation.accept_rate_limited").await;
    // Another caller has their own allowance.
    let cleo = app.token("cleo@example.com");
    assert_eq!(accept(&cleo, serde_json::json!({"token": link["token"]})).await.status(), 200);

    let log = json(
        app.post("/invitation/acceptances", &ada, &serde_json::json!({"invitationId": link["invitation"]["id"]})).await,
    )
    .await;
    let ips: Vec<&str> = log["acceptances"].as_array().unwrap().iter().filter_map(|a| a["ip"].as_str()).collect();
    assert!(!ips.is_empty() && ips.iter().all(|ip| *ip == "203.0.113.5"), "{log}");
}

mod accepts_are_rate_limited_per_caller_and_logged_with_the_forwarded_address {
    #[tokio::test]
    async fn sqlite() {
        super::accepts_are_rate_limited_per_caller_and_logged_with_the_forwarded_address(test_support::Backend::Sqlite)
            .await;
    }

    #[tokio::test]
    async fn postgres() {
        super::accepts_are_rate_limited_per_caller_and_logged_with_the_forwarded_address(
            test_support::Backend::Postgres,
        )
        .await;
    }
}

/// Two replicas on one PostgreSQL database count against one allowance:
/// each caller's accepts and each address's previews, whichever replica
/// takes them (the limits' state is in the database, not in a process).
#[tokio::test]
async fn replicas_on_one_database_share_the_rate_limits() {
    let limits = |s: &mut usher_api::Settings| {
        s.invitations.preview_per_minute = 2;
        s.invitations.accept_per_minute = 2;
    };
    let a = TestApp::spawn_with(Backend::Postgres, limits).await;
    let b = a.spawn_replica(limits).await;

    async fn preview(app: &TestApp) -> reqwest::Response {
        let body = serde_json::json!({"token": "unknown"});
        app.request(reqwest::Method::POST, "/invitation/preview", None, Some(&body)).await
    }
    assert_problem(preview(&a).await, 404, "invitation.not_found").await;
    assert_problem(preview(&b).await, 404, "invitation.not_found").await;
    let limited = preview(&a).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429, "invitation.preview_rate_limited").await;
    assert_problem(preview(&b).await, 429, "invitation.preview_rate_limited").await;

    let ada = a.token("ada@example.com");
    let org = crate::organizations::create_org(&a, &ada, "Acme").await;
    let link = crate::organizations::invite(&a, &ada, &org, serde_json::json!({"maxUses": 5})).await;
    let bob = a.token("bob@example.com");
    let accept = serde_json::json!({"token": link["token"]});
    assert_eq!(a.post("/invitation/accept", &bob, &accept).await.status(), 200);
    assert_problem(b.post("/invitation/accept", &bob, &accept).await, 409, "invitation.already_member").await;
    assert_problem(a.post("/invitation/accept", &bob, &accept).await, 429, "invitation.accept_rate_limited").await;
    assert_problem(b.post("/invitation/accept", &bob, &accept).await, 429, "invitation.accept_rate_limited").await;
    let cleo = b.token("cleo@example.com");
    assert_eq!(b.post("/invitation/accept", &cleo, &accept).await.status(), 200, "another caller's own allowance");

    // Two minutes on, every allowance is full again: the sweep forgets the
    // keys (the address's, Bob's and Cleo's), and the address may preview.
    a.clock.advance(time::Duration::minutes(2));
    assert_eq!(a.run_jobs().await.rate_limit_keys_swept, 3);
    assert_problem(preview(&a).await, 404, "invitation.not_found").await;
}
