//! Operations: request ids, health, readiness (including a database outage),
//! metrics and the OpenAPI document.

use reqwest::Method;
use serde_json::Value;
use test_support::postgres::{PgCluster, TestDatabase};
use test_support::{Backend, TestApp, assert_problem, json, on_both_databases};
use usher_api::settings::Secret;

on_both_databases! {
    async fn a_valid_request_id_is_echoed_and_a_missing_or_bad_one_replaced(app: TestApp) {
        let send = |id: Option<&'static str>| {
            let mut req = app.client.get(format!("{}/healthz", app.address));
            if let Some(id) = id {
                req = req.header("x-request-id", id);
            }
            req.send()
        };
        let res = send(Some("client-chosen-id-42")).await.unwrap();
        assert_eq!(res.headers().get("x-request-id").unwrap(), "client-chosen-id-42");
        let generated = send(None).await.unwrap().headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
        let too_long: &'static str = Box::leak("x".repeat(65).into_boxed_str());
        let replaced = send(Some(too_long)).await.unwrap().headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
        assert_ne!(replaced, too_long);
        // Errors carry the same id in the body.
        let res = app.client.post(format!("{}/user/get", app.address)).header("x-request-id", "err-id-7").send().await.unwrap();
        let body = assert_problem(res, 401, "auth.missing_token").await;
        assert_eq!(body["requestId"], "err-id-7");
    }

    async fn health_and_readiness_answer(app: TestApp) {
        let res = app.request(Method::GET, "/healthz", None, None).await;
        assert_eq!(res.status(), 200);
        assert_eq!(json(res).await["status"], "ok");
        let res = app.request(Method::GET, "/readyz", None, None).await;
        assert_eq!(res.status(), 200);
        assert_eq!(json(res).await["status"], "ready");
    }

    async fn metrics_count_requests_by_route_and_status_and_show_the_pool(app: TestApp) {
        app.get_user(&app.token("ada@example.com")).await;
        app.request(Method::GET, "/no/such/route", None, None).await;
        let res = app.request(Method::GET, "/metrics", None, None).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("content-type").unwrap().to_str().unwrap().starts_with("text/plain"));
        let text = res.text().await.unwrap();
        assert!(text.contains(r#"usher_http_requests_total{endpoint="/user/get",method="POST",status="200"} 1"#), "{text}");
        assert!(text.contains(r#"endpoint="other""#), "unmatched paths are masked: {text}");
        assert!(text.contains("usher_http_requests_duration_seconds_bucket"), "{text}");
        assert!(text.contains("usher_db_pool_connections{state=\"idle\"}"), "{text}");
        assert!(text.contains("usher_db_pool_max_connections 5"), "{text}");
        assert!(text.contains("usher_invitation_outbox_depth 0"), "{text}");
    }

    async fn the_openapi_document_is_generated_and_the_docs_page_works_offline(app: TestApp) {
        let doc: Value = json(app.request(Method::GET, "/openapi.json", None, None).await).await;
        assert_eq!(doc["openapi"], "3.1.0");
        for (path, method, operation) in [
            ("/user/get", "post", "get-current-user"),
            ("/user/update", "post", "update-profile"),
            ("/user/status", "post", "set-manual-status"),
            ("/healthz", "get", "healthz"),
            ("/readyz", "get", "readyz"),
        ] {
            assert_eq!(doc["paths"][path][method]["operationId"], operation, "{path}");
        }
        assert!(doc["components"]["schemas"]["User"].is_object());
        assert!(doc["components"]["schemas"]["Problem"].is_object());
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");

        let res = app.request(Method::GET, "/docs", None, None).await;
        assert_eq!(res.status(), 308);
        let res = app.request(Method::GET, "/docs/", None, None).await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        assert!(html.contains("swagger"), "{html:.200}");
        assert!(!html.contains("cdn."), "the docs page must not load from a CDN");
    }
}

/// Every `$ref` in the document names a component it defines: a schema used
/// only by a query or path parameter is not collected by the derive, so a
/// forgotten registration would leave the parameter without its rule.
// SQLite only: checks the OpenAPI document, which does not depend on the database.
#[tokio::test]
async fn every_reference_in_the_document_resolves() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc: Value = json(app.request(Method::GET, "/openapi.json", None, None).await).await;
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    out.push(target);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 100, "only {} references", found.len());
    for target in found {
        let name = target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{target} is not a schema"));
        assert!(doc["components"]["schemas"][name].is_object(), "{target} is not defined");
    }
}

/// Found by schemathesis: operations answered 400, 401, 415 or 422 from the
/// shared extractors without documenting them. Every operation now lists the
/// errors its kind of input can produce, each as problem+json.
// SQLite only: checks the OpenAPI document and errors answered before the database is reached.
#[tokio::test]
async fn every_operation_documents_the_shared_errors_its_input_can_produce() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.auth.bootstrap_superusers = usher_api::settings::Parsed::new(vec!["root@example.com".into()]).unwrap()
    })
    .await;
    let doc: Value = json(app.request(Method::GET, "/openapi.json", None, None).await).await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let param_in = |place: &str| params.iter().any(|p| p["in"] == place);
            let mut expected: Vec<&str> = Vec::new();
            if op["requestBody"]["content"].get("application/json").is_some() {
                expected.extend(["400", "408", "413", "415", "422"]);
            }
            if param_in("query") {
                expected.push("400");
            }
            if param_in("path") {
                expected.push("404");
            }
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                expected.extend(["401", "503"]);
            }
            for status in expected {
                let response = &op["responses"][status];
                assert!(
                    response["content"]["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem",
                    "{method} {path} does not document {status} as a problem: {response}"
                );
                assert!(
                    response["description"].as_str().is_some_and(|d| d.contains('`')),
                    "{method} {path}: the {status} names no code"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} shared responses checked");

    // The statuses behind those entries, on one operation of each kind.
    let res = app.request(Method::GET, "/admin/users?limit=-1", Some(&app.token("root@example.com")), None).await;
    assert_problem(res, 400, "request.malformed_query").await;
    let res = app.request(Method::POST, "/organization/get", None, Some(&serde_json::json!({}))).await;
    assert_problem(res, 401, "auth.missing_token").await;
}

// PostgreSQL only: stops and restarts its own PostgreSQL cluster; an embedded SQLite file cannot go down.
#[tokio::test]
async fn readiness_is_503_while_postgres_is_down_and_recovers_without_a_restart() {
    let cluster = PgCluster::start().expect("starting a private cluster");
    let db = TestDatabase::create(&cluster).await.unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = test_support::app::test_settings(data_dir.path());
    settings.database.url = Some(Secret::new(db.url()));
    settings.database.acquire_timeout_seconds = 1;
    let app = TestApp::start(settings, data_dir, None).await;
    let token = app.token("ada@example.com");
    assert_eq!(app.get_user(&token).await.status(), 200);
    assert_eq!(app.request(Method::GET, "/readyz", None, None).await.status(), 200);

    cluster.stop().unwrap();
    let res = app.request(Method::GET, "/readyz", None, None).await;
    assert!(res.headers().get("retry-after").is_some());
    let body = assert_problem(res, 503, "service.unavailable").await;
    assert!(!body["detail"].as_str().unwrap().contains("127.0.0.1"), "no internals in a 5xx: {body}");
    let res = app.get_user(&token).await;
    assert!(res.headers().get("retry-after").is_some());
    assert_problem(res, 503, "service.unavailable").await;
    assert_eq!(app.request(Method::GET, "/healthz", None, None).await.status(), 200, "alive even when not ready");

    // `restart` returns once PostgreSQL accepts connections; the pool drops
    // its dead connections on the next acquire, so the very next check is ready.
    cluster.restart().unwrap();
    assert_eq!(
        app.request(Method::GET, "/readyz", None, None).await.status(),
        200,
        "ready as soon as PostgreSQL is back"
    );
    let user = json(app.get_user(&token).await).await;
    assert_eq!(user["email"], "ada@example.com", "the data written before the outage is still there");
    drop(app);
    drop(db);
}

/// Every response says "do not sniff"; whatever is answered to a bearer token
/// is never cached (decrypted KYC data is among it); the API docs cannot be
/// framed and do not send the document to an online validator.
// SQLite only: checks HTTP response headers, which do not depend on the database.
#[tokio::test]
async fn responses_carry_the_security_headers() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let token = app.token("ada@example.com");
    let header = |res: &reqwest::Response, name: &str| {
        res.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    };

    let health = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(header(&health, "x-content-type-options"), "nosniff");
    let missing = app.request(Method::GET, "/no-such-page", None, None).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(header(&missing, "x-content-type-options"), "nosniff");

    for (method, path) in
        [(Method::POST, "/user/get"), (Method::GET, "/resource/profiles/me"), (Method::GET, "/user/export")]
    {
        let res = app.request(method, path, Some(&token), None).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(header(&res, "cache-control"), "no-store", "{path}");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff", "{path}");
    }

    let docs = app.request(Method::GET, "/docs/", None, None).await;
    assert_eq!(docs.status(), 200);
    let csp = header(&docs, "content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(header(&docs, "x-frame-options"), "DENY");
    let init = app.request(Method::GET, "/docs/swagger-initializer.js", None, None).await.text().await.unwrap();
    assert!(init.contains("/openapi.json"), "{init}");
    assert!(init.contains(r#""validatorUrl": "none""#), "{init}");
}

/// The data directory holds secrets, keys, the SQLite database and photos
/// waiting for review: whatever the umask, only the service's user reads it.
// SQLite only: checks the data directory's file modes, the SQLite database file among them.
#[tokio::test]
async fn the_data_directory_and_what_it_holds_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.data_dir = s.data_dir.join("fresh")).await;
    let data = app.data_dir().join("fresh");
    let token = app.token("ada@example.com");
    // A stored object: the avatar's upload goes through the embedded store.
    let png = crate::avatar::png(64, 64);
    let ticket =
        json(app.post("/user/avatar/upload-ticket", &token, &serde_json::json!({"contentType": "image/png"})).await)
            .await;
    let put = app
        .client
        .put(ticket["uploadUrl"].as_str().unwrap())
        .header("Content-Type", "image/png")
        .body(png)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.status());
    let done = app.post("/user/avatar/finalize", &token, &serde_json::json!({"tmpKey": ticket["tmpKey"]})).await;
    assert_eq!(done.status(), 200);

    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let mut checked = 0;
    let mut stack = vec![data.clone()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            assert_eq!(mode(&path), 0o700, "{}", path.display());
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
        checked += 1;
    }
    assert!(data.join("usher.db").exists() && data.join("objects").is_dir(), "the layout changed");
    assert!(checked >= 6, "only {checked} entries checked");
}

/// Found on the release binary: made-up methods and paths from anonymous
/// clients each created new series (`/metrics` grew from 257 KB to 32 MB).
/// Labels now come from closed sets; the process, the build and the watched
/// use cases have their own series.
// SQLite only: checks the labels of the in-memory metrics, not the database.
#[tokio::test]
async fn metrics_labels_are_bounded_whatever_clients_send() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let series = |text: &str| text.lines().filter(|l| l.starts_with("usher_http_requests_total{")).count();
    let metrics = || async { app.request(Method::GET, "/metrics", None, None).await.text().await.unwrap() };
    for i in 0..3 {
        let method = Method::from_bytes(format!("M{i}ADE").as_bytes()).unwrap();
        app.request(method, &format!("/made/up/{i}"), None, None).await;
    }
    let before = series(&metrics().await);
    for i in 3..60 {
        let method = Method::from_bytes(format!("M{i}ADE").as_bytes()).unwrap();
        app.request(method.clone(), &format!("/made/up/{i}"), None, None).await;
        app.request(method, "/user/get", None, None).await;
    }
    let text = metrics().await;
    assert!(!text.contains("M7ADE") && !text.contains("/made/up"), "{text}");
    assert!(text.contains(r#"endpoint="other",method="other""#), "{text}");
    // Two more series, not a hundred: /user/get answering 405 to `other`
    // methods, and the first scrape itself.
    assert_eq!(series(&text), before + 2, "{text}");

    assert!(text.contains(&format!(r#"usher_build_info{{version="{}"}} 1"#, env!("CARGO_PKG_VERSION"))), "{text}");
    assert!(text.contains("process_resident_memory_bytes") && text.contains("process_open_fds"), "{text}");

    // Watched use cases count their outcomes: ok, or the problem code.
    let ada = app.token("ada@example.com");
    let res = app.post("/invitation/accept", &ada, &serde_json::json!({"token": "no-such-token"})).await;
    assert_eq!(res.status(), 404);
    let text = metrics().await;
    assert!(
        text.contains(
            r#"usher_use_case_outcomes_total{outcome="invitation.not_found",use_case="invitation_accept"} 1"#
        ),
        "{text}"
    );
}

/// With `metrics.bearer_token` set, `/metrics` answers only requests bearing it.
// SQLite only: checks /metrics authentication, answered without the database.
#[tokio::test]
async fn metrics_can_require_a_bearer_token() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.metrics.bearer_token = Some(Secret::new("scrape-me-please-0123456789"));
    })
    .await;
    let res = app.request(Method::GET, "/metrics", None, None).await;
    assert_problem(res, 401, "auth.invalid_token").await;
    let res = app.request(Method::GET, "/metrics", Some("scrape-me-please-012345678"), None).await;
    assert_problem(res, 401, "auth.invalid_token").await;
    let res = app.request(Method::GET, "/metrics", Some("scrape-me-please-0123456789"), None).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("usher_http_requests_total"));
}
