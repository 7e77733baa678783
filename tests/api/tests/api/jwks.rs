//! Tokens verified with keys from a JWKS URL, file or OpenID discovery: the
//! WorkOS/Auth0/Keycloak/Ory set-up. Every algorithm providers sign with,
//! key rotation, algorithm pinning, a provider that is down or hangs, and
//! unknown kids that must not hammer it.

use jsonwebtoken::Algorithm;
use serde_json::json;
use std::time::Duration;
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

/// Settings for tokens of the test provider, with keys from `server`.
fn provider(s: &mut usher_api::Settings, server: &MockServer) {
    s.auth.hs256_secret = None;
    s.auth.jwks_url = Some(format!("{}/.well-known/jwks.json", server.uri()));
    s.auth.issuer = Some(tokens::ISSUER.into());
    s.auth.audience = Some(tokens::AUDIENCE.into());
}

async fn app_for(server: &MockServer) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, |s| {
        provider(s, server);
        s.auth.jwks_min_refresh_seconds = 0;
    })
    .await
}

// SQLite only: checks the JWKS client (key fetching, caching, algorithms), which never touches the database.
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

// SQLite only: checks the JWKS client (key fetching, caching, algorithms), which never touches the database.
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

// SQLite only: checks the JWKS client (key fetching, caching, algorithms), which never touches the database.
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

// SQLite only: checks the JWKS client (key fetching, caching, algorithms), which never touches the database.
#[tokio::test]
async fn an_unreachable_jwks_is_503_not_500() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(500)).mount(&server).await;
    let app = app_for(&server).await;
    let res = app.get_user(&tokens::signed("rsa-a", &tokens::claims("ada@example.com"))).await;
    assert!(res.headers().get("retry-after").is_some());
    assert_problem(res, 503, "service.unavailable").await;
}

// SQLite only: checks the JWKS client (key fetching, caching, algorithms), which never touches the database.
#[tokio::test]
async fn keys_can_come_from_a_jwks_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, tokens::jwks(&["ec-a"]).to_string()).unwrap();
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.auth.hs256_secret = None;
        s.auth.jwks_file = Some(file);
        s.auth.issuer = Some(tokens::ISSUER.into());
        s.auth.audience = Some(tokens::AUDIENCE.into());
    })
    .await;
    let mut claims = tokens::claims("ada@example.com");
    claims["name"] = json!("Ada");
    assert_eq!(app.get_user(&tokens::signed("ec-a", &claims)).await.status(), 200);
    assert_problem(app.get_user(&tokens::signed("rsa-a", &claims)).await, 401, "auth.invalid_token").await;
}

// SQLite only: checks the JWKS client (key fetching, caching, algorithms), which never touches the database.
#[tokio::test]
async fn every_algorithm_identity_providers_sign_with_is_accepted() {
    // An RSA JWK without `alg` verifies every RSA algorithm; the others declare theirs.
    let mut set = tokens::jwks(&["rsa-a", "ec-a", "ec384-a", "ed-a"]);
    set["keys"][0].as_object_mut().unwrap().remove("alg");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/jwks.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(set))
        .mount(&server)
        .await;
    let app = app_for(&server).await;
    let claims = tokens::claims("ada@example.com");
    for (kid, alg) in [
        ("rsa-a", Algorithm::RS256),
        ("rsa-a", Algorithm::RS384),
        ("rsa-a", Algorithm::RS512),
        ("rsa-a", Algorithm::PS256),
        ("rsa-a", Algorithm::PS384),
        ("rsa-a", Algorithm::PS512),
        ("ec-a", Algorithm::ES256),
        ("ec384-a", Algorithm::ES384),
        ("ed-a", Algorithm::EdDSA),
    ] {
        assert_eq!(app.get_user(&tokens::signed_with(kid, alg, &claims)).await.status(), 200, "{kid} {alg:?}");
    }
    // A JWK that declares its algorithm answers to that one only...
    let pinned = jwks_server(&["rsa-a"]).await;
    let pinned_app = app_for(&pinned).await;
    let ps256 = tokens::signed_with("rsa-a", Algorithm::PS256, &claims);
    assert_problem(pinned_app.get_user(&ps256).await, 401, "auth.invalid_token").await;
    // ...and a key to its own family: the P-256 key does not verify ES384.
    let mut wrong_family = jsonwebtoken::Header::new(Algorithm::ES384);
    wrong_family.kid = Some("ec-a".into());
    let key = jsonwebtoken::EncodingKey::from_ec_pem(tokens::EC384_A.as_bytes()).unwrap();
    let token = jsonwebtoken::encode(&wrong_family, &claims, &key).unwrap();
    assert_problem(app.get_user(&token).await, 401, "auth.invalid_token").await;
}

// SQLite only: checks the JWKS client (key fetching, caching, algorithms), which never touches the database.
#[tokio::test]
async fn tokens_for_another_issuer_or_audience_are_refused() {
    let server = jwks_server(&["rsa-a"]).await;
    let app = app_for(&server).await;
    for (claim, value) in [("iss", "https://other-idp.example"), ("aud", "another-app")] {
        let mut claims = tokens::claims("ada@example.com");
        claims[claim] = json!(value);
        assert_problem(app.get_user(&tokens::signed("rsa-a", &claims)).await, 401, "auth.invalid_token").await;
    }
}

/// Seen on the release binary: with a stale cache and a hung provider every
/// request queued behind one lock, 5 s each. Now the cached keys serve while
/// one background refresh hangs; the bound below only catches queueing.
// SQLite only: checks the JWKS client (key fetching, caching, algorithms), which never touches the database.
#[tokio::test]
async fn a_hung_provider_does_not_hold_requests_served_from_cached_keys() {
    let server = jwks_server(&["rsa-a"]).await;
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        provider(s, &server);
        s.auth.jwks_cache_seconds = 0; // always stale: every request wants a refresh
    })
    .await;
    let token = tokens::signed("rsa-a", &tokens::claims("ada@example.com"));
    assert_eq!(app.get_user(&token).await.status(), 200);

    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(tokens::jwks(&["rsa-a"])).set_delay(Duration::from_secs(600)),
        )
        .mount(&server)
        .await;
    let requests = (0..20).map(|_| app.get_user(&token));
    let answered = tokio::time::timeout(Duration::from_secs(15), futures_util::future::join_all(requests))
        .await
        .expect("requests are not queued behind the hung provider");
    assert!(answered.iter().all(|r| r.status() == 200));
    let fetches = server.received_requests().await.unwrap_or_default().len();
    assert!(fetches <= 2, "one refresh at a time, not one per request: {fetches}");
}

/// A provider that never answers the first load: the request waits one fetch
/// budget at most and gets 503, never a hang.
// SQLite only: checks the JWKS client (key fetching, caching, algorithms), which never touches the database.
#[tokio::test]
async fn a_provider_that_never_answered_gives_503_within_the_fetch_budget() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(tokens::jwks(&["rsa-a"])).set_delay(Duration::from_secs(600)),
        )
        .mount(&server)
        .await;
    let app = app_for(&server).await;
    let token = tokens::signed("rsa-a", &tokens::claims("ada@example.com"));
    let res = tokio::time::timeout(Duration::from_secs(15), app.get_user(&token)).await.expect("an answer, not a hang");
    assert_problem(res, 503, "service.unavailable").await;
}

/// Random kids cannot make the service hammer the provider: an unknown kid
/// is remembered for `auth.jwks_min_refresh_seconds`, and the set is re-read
/// at most that often.
// SQLite only: checks the JWKS client (key fetching, caching, algorithms), which never touches the database.
#[tokio::test]
async fn unknown_kids_are_cached_negatively_and_do_not_refetch_the_set() {
    let server = jwks_server(&["rsa-a"]).await;
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        provider(s, &server);
        s.auth.jwks_min_refresh_seconds = 3600;
    })
    .await;
    let claims = tokens::claims("ada@example.com");
    for i in 0..10 {
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = Some(format!("random-{}", i % 3));
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(tokens::RSA_A.as_bytes()).unwrap();
        let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
        assert_problem(app.get_user(&token).await, 401, "auth.invalid_token").await;
    }
    assert_eq!(server.received_requests().await.unwrap_or_default().len(), 1, "only the start-up load");
}

/// `auth.oidc_discovery`: the keys come from the issuer's discovery document.
// SQLite only: checks the JWKS client (key fetching, caching, algorithms), which never touches the database.
#[tokio::test]
async fn keys_can_be_discovered_from_the_issuer() {
    let server = jwks_server(&["ec-a"]).await;
    let issuer = server.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        })))
        .mount(&server)
        .await;
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.auth.hs256_secret = None;
        s.auth.oidc_discovery = true;
        s.auth.issuer = Some(issuer.clone());
        s.auth.audience = Some(tokens::AUDIENCE.into());
    })
    .await;
    let mut claims = tokens::claims("ada@example.com");
    claims["iss"] = json!(issuer);
    assert_eq!(app.get_user(&tokens::signed("ec-a", &claims)).await.status(), 200);
}
