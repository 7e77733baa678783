//! The dashboard's static files: served from the binary under `/dashboard/`
//! with the right content types and a strict Content-Security-Policy.

use reqwest::Method;
use test_support::{Backend, TestApp, assert_problem};

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("no {name} header"))
}

// SQLite only: checks the dashboard's static files, served from the binary without the database.
#[tokio::test]
async fn the_index_is_served_with_a_strict_content_security_policy() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for path in ["/dashboard/", "/dashboard/invite"] {
        let res = app.request(Method::GET, path, None, None).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(header(&res, "content-type"), "text/html; charset=utf-8");
        let csp = header(&res, "content-security-policy").to_owned();
        for directive in [
            "default-src 'self'",
            &format!("img-src 'self' {} https://cdn.discordapp.com", app.address),
            &format!("connect-src 'self' {}", app.address),
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(directive), "{path}: {directive:?} missing from {csp:?}");
        }
        assert_eq!(header(&res, "x-content-type-options"), "nosniff");
        assert!(header(&res, "x-request-id").len() > 10, "the request id header is set");
        let body = res.text().await.unwrap();
        assert!(body.contains(r#"<script type="module" src="./app.js">"#), "{path} is the dashboard's index.html");
    }
    app.stop().await;
}

// SQLite only: checks the dashboard's static files, served from the binary without the database.
#[tokio::test]
async fn dashboard_without_a_slash_redirects_to_it() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let res = app.request(Method::GET, "/dashboard", None, None).await;
    assert_eq!(res.status(), 308);
    assert_eq!(header(&res, "location"), "/dashboard/");
    app.stop().await;
}

// SQLite only: checks the dashboard's static files, served from the binary without the database.
#[tokio::test]
async fn assets_have_their_content_types_and_unknown_files_are_404() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for (path, content_type) in [
        ("/dashboard/app.js", "text/javascript; charset=utf-8"),
        ("/dashboard/screens/photos.js", "text/javascript; charset=utf-8"),
        ("/dashboard/style.css", "text/css; charset=utf-8"),
        ("/dashboard/favicon.svg", "image/svg+xml"),
        ("/dashboard/index.html", "text/html; charset=utf-8"),
    ] {
        let res = app.request(Method::GET, path, None, None).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(header(&res, "content-type"), content_type, "{path}");
        assert!(header(&res, "content-security-policy").starts_with("default-src 'self'"));
        assert!(!res.bytes().await.unwrap().is_empty(), "{path} has a body");
    }
    for path in
        ["/dashboard/nope.js", "/dashboard/../Cargo.toml", "/dashboard/screens/", "/dashboard/%2e%2e/Cargo.toml"]
    {
        let res = app.request(Method::GET, path, None, None).await;
        assert_problem(res, 404, "http.not_found").await;
    }
    // The dashboard is not in the OpenAPI document, so a wrong method is an unknown route.
    let res = app.request(Method::POST, "/dashboard/", None, None).await;
    assert_problem(res, 404, "http.not_found").await;
    app.stop().await;
}
