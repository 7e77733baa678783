//! RS256/ES256 tokens verified with keys from a JWKS URL or file: the
//! WorkOS/Auth0/Keycloak/Ory set-up. Key rotation, algorithm pinning and an
//! unreachable provider.

use serde_json::json;
use test_support::{Backend, TestApp, assert_problem, json, tokens};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn jwks_server(kids: &[&str]) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/jwks.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tokens::jwks(kids)))
        .mount(&server)
        .await;
    server
}

async fn app_for(server: &MockServer) -> TestApp {
    let url = format!("{}/.well-known/jwks.json", server.uri());
    TestApp::spawn_with(Backend::Sqlite, |s| {
        s.auth.hs256_secret = None;
        s.auth.jwks_url = Some(url);
        s.auth.jwks_min_refresh_seconds = 0;
    })
    .await
}

#[tokio::test]
async fn rs256_and_es256_tokens_from_the_jwks_are_accepted() {
    let server = jwks_server(&["rsa-a", "ec-a"]).await;
    let app = app_for(&server).await;
    let rsa = app.get_user(&tokens::signed("rsa-a", &tokens::claims("ada@example.com"))).await;
    assert_eq!(rsa.status(), 200);
    let ec = app.get_user(&tokens::signed("ec-a", &tokens::claims("bob@example.com"))).await;
    assert_eq!(ec.status(), 200);
    assert_ne!(json(rsa).await["id"], json(ec).await["id"]);
}

#[tokio::test]
async fn hmac_none_and_confused_algorithms_are_refused_under_a_jwks() {
    let server = jwks_server(&["rsa-a"]).await;
    let app = app_for(&server).await;
    let claims = tokens::claims("ada@example.com");
    for token in [
        tokens::hs256(tokens::HS256_SECRET, &claims),
        tokens::hs256_with_rsa_public_key("rsa-a", &claims),
        tokens::alg_none(&claims),
        tokens::signed("rsa-b", &claims),
    ] {
        assert_problem(app.get_user(&token).await, 401, "auth.invalid_token").await;
    }
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_on_its_first_unknown_kid() {
    let server = jwks_server(&["rsa-a"]).await;
    let app = app_for(&server).await;
    let claims = tokens::claims("ada@example.com");
    assert_eq!(app.get_user(&tokens::signed("rsa-a", &claims)).await.status(), 200);
    assert_problem(app.get_user(&tokens::signed("rsa-b", &claims)).await, 401, "auth.invalid_token").await;

    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/jwks.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tokens::jwks(&["rsa-b"])))
        .mount(&server)
        .await;
    assert_eq!(app.get_user(&tokens::signed("rsa-b", &claims)).await.status(), 200);
}

#[tokio::test]
async fn an_unreachable_jwks_is_503_not_500() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(500)).mount(&server).await;
    let app = app_for(&server).await;
    let res = app.get_user(&tokens::signed("rsa-a", &tokens::claims("ada@example.com"))).await;
    assert!(res.headers().get("retry-after").is_some());
    assert_problem(res, 503, "service.unavailable").await;
}

#[tokio::test]
async fn keys_can_come_from_a_jwks_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, tokens::jwks(&["ec-a"]).to_string()).unwrap();
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.auth.hs256_secret = None;
        s.auth.jwks_file = Some(file);
    })
    .await;
    let mut claims = tokens::claims("ada@example.com");
    claims["name"] = json!("Ada");
    assert_eq!(app.get_user(&tokens::signed("ec-a", &claims)).await.status(), 200);
    assert_problem(app.get_user(&tokens::signed("rsa-a", &claims)).await, 401, "auth.invalid_token").await;
}
