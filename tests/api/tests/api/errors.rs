//! Bad input of every kind gets a clear problem+json, never a 500.

use reqwest::Method;
use test_support::{assert_problem, json, on_both_databases};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

on_both_databases! {
    async fn malformed_json_is_400(app: TestApp) {
        let token = app.token("ada@example.com");
        for body in [&b"{"[..], b"{\"displayName\": }", b"", b"   ", b"{\"displayName\":\"Ada\"} trailing", b"\xff\xfe"] {
            let res = app
                .client
                .post(format!("{}/user/update", app.address))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body.to_vec())
                .send()
                .await
                .unwrap();
            assert_problem(res, 400, "request.malformed").await;
        }
    }

    async fn a_body_that_is_not_json_is_415(app: TestApp) {
        let token = app.token("ada@example.com");
        for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("application/jsonx")] {
            let mut req = app.client.post(format!("{}/user/update", app.address)).bearer_auth(&token).body(r#"{"displayName":"Ada"}"#);
            if let Some(ct) = content_type {
                req = req.header("content-type", ct);
            }
            assert_problem(req.send().await.unwrap(), 415, "request.unsupported_media_type").await;
        }
        let ok = app
            .client
            .post(format!("{}/user/update", app.address))
            .bearer_auth(&token)
            .header("content-type", "application/json; charset=utf-8")
            .body(r#"{"displayName":"Ada"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
    }

    async fn a_body_over_64_kib_is_413(app: TestApp) {
        let token = app.token("ada@example.com");
        let big = format!("{{\"displayName\":\"{}\"}}", "a".repeat(70 * 1024));
        let res = app
            .client
            .post(format!("{}/user/update", app.address))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_problem(res, 413, "request.body_too_large").await;
        // Without a Content-Length (chunked), the limit still holds while reading.
        let status = chunked_post(&app.address, "/user/update", &token, big.as_bytes()).await;
        assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    }

    async fn unknown_routes_are_404_and_wrong_methods_405(app: TestApp) {
        assert_problem(app.request(Method::GET, "/nope", None, None).await, 404, "http.not_found").await;
        assert_problem(app.request(Method::POST, "/user/get/extra", None, None).await, 404, "http.not_found").await;
        let res = app.request(Method::GET, "/user/get", None, None).await;
        assert_eq!(res.headers().get("allow").unwrap(), "POST");
        assert_problem(res, 405, "http.method_not_allowed").await;
        let res = app.request(Method::DELETE, "/healthz", None, None).await;
        assert_problem(res, 405, "http.method_not_allowed").await;
    }

    async fn no_generated_garbage_produces_a_server_error(app: TestApp) {
        let token = app.token("ada@example.com");
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let bodies: Vec<String> = vec![
            "null".into(), "0".into(), "\"x\"".into(), "[]".into(), "{}".into(), deep,
            r#"{"displayName":null}"#.into(), r#"{"displayName":{"a":1}}"#.into(),
            r#"{"displayName":"\ud800"}"#.into(), r#"{"displayName":"Ada","displayName":"Bob"}"#.into(),
            r#"{"manualStatus":["busy"]}"#.into(), format!(r#"{{"displayName":"{}"}}"#, "\\u0000".repeat(50)),
        ];
        for path in ["/user/update", "/user/status", "/user/get"] {
            for body in &bodies {
                let res = app
                    .client
                    .post(format!("{}{path}", app.address))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                assert!(status.is_success() || status.is_client_error(), "{path} {body:.60}: {status}");
                if status.is_client_error() {
                    assert_eq!(res.headers().get("content-type").unwrap(), "application/problem+json");
                    let problem = json(res).await;
                    assert!(problem["code"].is_string(), "{problem}");
                }
            }
        }
    }
}

/// Sends a chunked POST over a raw socket and returns the status line.
async fn chunked_post(address: &str, path: &str, token: &str, body: &[u8]) -> String {
    let host = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(4096) {
        stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.unwrap();
        // The server may answer and close before the whole body is sent.
        if stream.write_all(chunk).await.is_err() || stream.write_all(b"\r\n").await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).lines().next().unwrap_or_default().to_owned()
}

/// A cursor that decodes but names a row id that is no id, or an id of
/// another kind of list, is 422 on every paged list, never a database error.
async fn forged_cursors_are_422_on_every_paged_list(backend: test_support::Backend) {
    let app = test_support::TestApp::spawn_with(backend, |s| {
        s.auth.bootstrap_superusers = usher_api::settings::Parsed::new(vec!["root@example.com".into()]).unwrap();
    })
    .await;
    let root = app.token("root@example.com");
    let root_id = json(app.get_user(&root).await).await["id"].as_str().unwrap().to_owned();
    let org = json(app.post("/organization/create", &root, &serde_json::json!({"name": "Acme"})).await).await
        ["currentOrganizationId"]
        .clone();
    use base64::Engine as _;
    let now = time::OffsetDateTime::now_utc();
    let no_id =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}|not-an-id", now.unix_timestamp_nanos()));
    let user_cursor = shared_kernel::Cursor { created_at: now, id: 42_i64 }.encode();
    let uuid_cursor = shared_kernel::Cursor { created_at: now, id: uuid::Uuid::now_v7() }.encode();
    let by_uuid = ["/picture/all", "/admin/profiles", &format!("/picture/{root_id}")];
    let cases = by_uuid.iter().flat_map(|path| [(*path, &no_id), (*path, &user_cursor)]);
    for (path, forged) in cases.chain([("/admin/users", &no_id), ("/admin/users", &uuid_cursor)]) {
        let res = app.request(Method::GET, &format!("{path}?cursor={forged}"), Some(&root), None).await;
        let body = assert_problem(res, 422, "request.validation").await;
        assert!(body["errors"].get("/cursor").is_some(), "{path}: {body}");
    }
    for forged in [&no_id, &user_cursor] {
        let res = app
            .post("/organization/members/list", &root, &serde_json::json!({"organizationId": org, "cursor": forged}))
            .await;
        let body = assert_problem(res, 422, "request.validation").await;
        assert!(body["errors"].get("/cursor").is_some(), "{body}");
    }
}

mod forged_cursors_are_422_on_every_paged_list {
    #[tokio::test]
    async fn sqlite() {
        super::forged_cursors_are_422_on_every_paged_list(test_support::Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::forged_cursors_are_422_on_every_paged_list(test_support::Backend::Postgres).await;
    }
}

/// PostgreSQL refuses NUL in text and timestamps outside its range; both
/// must be a 422 at the field's pointer on either database, never a 500.
async fn nul_bytes_and_out_of_range_cursors_are_422(backend: test_support::Backend) {
    let app = test_support::TestApp::spawn_with(backend, |s| {
        s.auth.bootstrap_superusers = usher_api::settings::Parsed::new(vec!["root@example.com".into()]).unwrap();
    })
    .await;
    let root = app.token("root@example.com");
    let ada = app.token("ada@example.com");

    // Query parameters: the parameter's name is the pointer.
    for (path, field) in [
        ("/admin/users?q=a%00b", "/q"),
        ("/picture/all?username=a%00", "/username"),
        ("/admin/profiles?status=%00", "/status"),
    ] {
        let body =
            assert_problem(app.request(Method::GET, path, Some(&root), None).await, 422, "request.validation").await;
        assert!(body["errors"].get(field).is_some(), "{path}: {body}");
    }
    // Bodies, however deep the string sits; nothing is written.
    let cases = [
        ("/user/update", serde_json::json!({"displayName": "Ada\u{0}"}), "/displayName"),
        ("/user/status", serde_json::json!({"manualStatus": "busy", "statusText": "x\u{0}"}), "/statusText"),
        ("/organization/create", serde_json::json!({"name": "Ac\u{0}me"}), "/name"),
        ("/resource/profiles", serde_json::json!({"firstName": "A", "metadata": {"k": ["\u{0}"]}}), "/metadata/k/0"),
    ];
    for (path, body, field) in cases {
        let res = app.post(path, &ada, &body).await;
        let problem = assert_problem(res, 422, "request.validation").await;
        assert!(problem["errors"].get(field).is_some(), "{path}: {problem}");
    }
    assert_eq!(json(app.get_user(&ada).await).await["displayName"], "ada", "the refused update wrote nothing");

    // Cursors that decode but carry an instant no database row has.
    for nanos in [-1_i128, -62_135_596_800_000_000_000, 253_402_300_799_999_999_999] {
        let forged = base64_url(&format!("{nanos}|1"));
        for path in ["/admin/users", "/picture/all", "/admin/profiles"] {
            let res = app.request(Method::GET, &format!("{path}?cursor={forged}"), Some(&root), None).await;
            let status = res.status();
            assert!(status == 200 || status == 422, "{path} {nanos}: {status}");
            if status == 422 {
                let body = assert_problem(res, 422, "request.validation").await;
                assert!(body["errors"].get("/cursor").is_some(), "{path}: {body}");
            }
        }
    }
    let before_1970 = base64_url("-1000000000|1");
    let res = app.request(Method::GET, &format!("/admin/users?cursor={before_1970}"), Some(&root), None).await;
    assert_problem(res, 422, "request.validation").await;
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn nul_bytes_and_out_of_range_cursors_are_422_on_sqlite() {
    nul_bytes_and_out_of_range_cursors_are_422(test_support::Backend::Sqlite).await;
}

#[tokio::test]
async fn nul_bytes_and_out_of_range_cursors_are_422_on_postgres() {
    nul_bytes_and_out_of_range_cursors_are_422(test_support::Backend::Postgres).await;
}
