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

// SQLite only: the sign-in configuration reads settings and the provider, never the database.
#[tokio::test]
async fn without_a_provider_the_page_is_told_to_use_the_development_sign_in() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let res = app.request(Method::GET, "/dashboard/config.json", None, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-type"), "application/json");
    assert_eq!(res.json::<serde_json::Value>().await.unwrap(), serde_json::json!({"signIn": "development"}));
    app.stop().await;
}

/// The provider's discovery document at `server`, naming `issuer`.
async fn discovery(server: &wiremock::MockServer, issuer: &str) {
    use wiremock::matchers::{method, path};
    server.reset().await;
    wiremock::Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"),
            "end_session_endpoint": format!("{issuer}/session/end"),
            "jwks_uri": format!("{issuer}/jwks"),
        })))
        .mount(server)
        .await;
}

// SQLite only: the sign-in configuration reads settings and the provider, never the database.
#[tokio::test]
async fn with_a_provider_the_page_gets_its_endpoints_client_and_redirect_uri() {
    let idp = wiremock::MockServer::start().await;
    let issuer = idp.uri();
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.auth.oidc_discovery = true;
        s.auth.issuer = Some(issuer.clone());
        s.auth.audience = Some("usher".into());
        s.auth.oidc = Some(usher_api::settings::OidcSignIn {
            issuer: issuer.clone(),
            client_id: "usher-dashboard".into(),
            scopes: vec!["openid".into(), "email".into()],
            audience: Some("usher".into()),
        });
    })
    .await;

    // The provider names another issuer: the page learns nothing from it.
    discovery(&idp, "https://evil.example.com").await;
    let res = app.request(Method::GET, "/dashboard/config.json", None, None).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 503, "service.unavailable").await;

    discovery(&idp, &issuer).await;
    let res = app.request(Method::GET, "/dashboard/config.json", None, None).await;
    assert_eq!(res.status(), 200);
    let config: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        config,
        serde_json::json!({
            "signIn": "oidc",
            "issuer": issuer,
            "authorizationEndpoint": format!("{issuer}/auth"),
            "tokenEndpoint": format!("{issuer}/token"),
            "endSessionEndpoint": format!("{issuer}/session/end"),
            "clientId": "usher-dashboard",
            "scopes": ["openid", "email"],
            "audience": "usher",
            "redirectUri": format!("{}/dashboard/", app.address),
        })
    );
    // Read once: the provider going away afterwards changes nothing.
    idp.reset().await;
    let again = app.request(Method::GET, "/dashboard/config.json", None, None).await;
    assert_eq!(again.status(), 200);

    let index = app.request(Method::GET, "/dashboard/", None, None).await;
    let csp = header(&index, "content-security-policy").to_owned();
    assert!(
        csp.contains(&format!("connect-src 'self' {} {issuer}", app.address)),
        "the page may reach the token endpoint: {csp}"
    );
    app.stop().await;
}
