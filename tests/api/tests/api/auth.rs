//! Token verification with the HS256 secret: every way a token can be wrong
//! is a 401 problem, and nothing in a token can grant a role.

use serde_json::json;
use test_support::{Backend, TestApp, assert_problem, json, on_both_databases, tokens};

on_both_databases! {
    async fn a_request_without_a_token_is_401_with_a_bearer_challenge(app: TestApp) {
        let res = app.request(reqwest::Method::POST, "/user/get", None, None).await;
        assert_eq!(res.headers().get("www-authenticate").unwrap(), "Bearer");
        assert_problem(res, 401, "auth.missing_token").await;
        let res = app
            .client
            .post(format!("{}/user/get", app.address))
            .header("authorization", "Basic YWRhOnB3")
            .send()
            .await
            .unwrap();
        assert_problem(res, 401, "auth.missing_token").await;
    }

    async fn bad_signatures_and_garbage_are_401(app: TestApp) {
        let claims = tokens::claims("ada@example.com");
        for token in [
            tokens::hs256("another-secret-that-is-long-enough-for-hs256!", &claims),
            "not-a-jwt".to_owned(),
            "a.b.c".to_owned(),
            format!("{}x", app.token("ada@example.com")),
            "x".repeat(10_000),
        ] {
            assert_problem(app.get_user(&token).await, 401, "auth.invalid_token").await;
        }
    }

    async fn expired_and_not_yet_valid_tokens_are_401_beyond_the_leeway(app: TestApp) {
        let now = tokens::now();
        let mut expired = tokens::claims("ada@example.com");
        expired["exp"] = json!(now - 120);
        let body = assert_problem(app.get_user(&tokens::hs256(tokens::HS256_SECRET, &expired)).await, 401, "auth.invalid_token").await;
        assert!(body["detail"].as_str().unwrap().contains("expired"), "{body}");

        let mut early = tokens::claims("ada@example.com");
        early["nbf"] = json!(now + 600);
        assert_problem(app.get_user(&tokens::hs256(tokens::HS256_SECRET, &early)).await, 401, "auth.invalid_token").await;

        // Within the 60 s clock skew both are fine.
        let mut skewed = tokens::claims("ada@example.com");
        skewed["exp"] = json!(now - 20);
        skewed["nbf"] = json!(now + 20);
        assert_eq!(app.get_user(&tokens::hs256(tokens::HS256_SECRET, &skewed)).await.status(), 200);

        let mut no_exp = tokens::claims("ada@example.com");
        no_exp.as_object_mut().unwrap().remove("exp");
        assert_problem(app.get_user(&tokens::hs256(tokens::HS256_SECRET, &no_exp)).await, 401, "auth.invalid_token").await;
    }

    async fn alg_none_and_asymmetric_tokens_are_refused_by_an_hs256_service(app: TestApp) {
        let claims = tokens::claims("ada@example.com");
        assert_problem(app.get_user(&tokens::alg_none(&claims)).await, 401, "auth.invalid_token").await;
        assert_problem(app.get_user(&tokens::signed("rsa-a", &claims)).await, 401, "auth.invalid_token").await;
        assert_problem(app.get_user(&tokens::signed("ec-a", &claims)).await, 401, "auth.invalid_token").await;
    }

    async fn a_token_without_sub_or_without_an_email_for_a_new_user_is_401(app: TestApp) {
        let mut no_sub = tokens::claims("ada@example.com");
        no_sub.as_object_mut().unwrap().remove("sub");
        assert_problem(app.get_user(&tokens::hs256(tokens::HS256_SECRET, &no_sub)).await, 401, "auth.invalid_token").await;

        let mut no_email = tokens::claims("ada@example.com");
        no_email.as_object_mut().unwrap().remove("email");
        assert_problem(app.get_user(&tokens::hs256(tokens::HS256_SECRET, &no_email)).await, 401, "auth.email_missing").await;

        // Once the user exists, a token without e-mail keeps the stored one.
        assert_eq!(app.get_user(&app.token("ada@example.com")).await.status(), 200);
        let user = json(app.get_user(&tokens::hs256(tokens::HS256_SECRET, &no_email)).await).await;
        assert_eq!(user["email"], "ada@example.com");
    }

    async fn role_claims_in_a_token_grant_nothing(app: TestApp) {
        let mut claims = tokens::claims("mallory@example.com");
        claims["role"] = json!("superuser");
        claims["platform_role"] = json!("superuser");
        let user = json(app.get_user(&tokens::hs256(tokens::HS256_SECRET, &claims)).await).await;
        assert!(user.get("platformRole").is_none());
    }
}

async fn app_with_issuer_and_audience() -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, |s| {
        s.auth.issuer = Some("https://idp.example.com/".into());
        s.auth.audience = Some("usher".into());
    })
    .await
}

// SQLite only: checks token verification (issuer and audience), which happens before any database access.
#[tokio::test]
async fn issuer_and_audience_are_enforced_when_configured() {
    let app = app_with_issuer_and_audience().await;
    let mut good = tokens::claims("ada@example.com");
    good["iss"] = json!("https://idp.example.com/");
    good["aud"] = json!("usher");
    assert_eq!(app.get_user(&tokens::hs256(tokens::HS256_SECRET, &good)).await.status(), 200);

    let mut list_aud = good.clone();
    list_aud["aud"] = json!(["other", "usher"]);
    assert_eq!(app.get_user(&tokens::hs256(tokens::HS256_SECRET, &list_aud)).await.status(), 200);

    for (field, value) in [("aud", json!("other-api")), ("iss", json!("https://evil.example.com/"))] {
        let mut bad = good.clone();
        bad[field] = value;
        let body =
            assert_problem(app.get_user(&tokens::hs256(tokens::HS256_SECRET, &bad)).await, 401, "auth.invalid_token")
                .await;
        assert!(body["detail"].as_str().unwrap().contains(if field == "aud" { "audience" } else { "issuer" }));
    }
    for missing in ["aud", "iss"] {
        let mut bad = good.clone();
        bad.as_object_mut().unwrap().remove(missing);
        assert_problem(app.get_user(&tokens::hs256(tokens::HS256_SECRET, &bad)).await, 401, "auth.invalid_token").await;
    }
}

// SQLite only: checks token verification (issuer and audience), which happens before any database access.
#[tokio::test]
async fn without_configured_audience_a_token_carrying_one_is_still_accepted() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut claims = tokens::claims("ada@example.com");
    claims["aud"] = json!("whatever");
    claims["iss"] = json!("https://any.example.com/");
    assert_eq!(app.get_user(&tokens::hs256(tokens::HS256_SECRET, &claims)).await.status(), 200);
}

// SQLite only: checks the HS256 secret file generated in the data directory, not the database.
#[tokio::test]
async fn the_generated_secret_is_created_on_first_start_and_signs_local_tokens() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = test_support::app::test_settings(data_dir.path());
    settings.auth.hs256_secret = None;
    let token = usher_api::auth::mint_local_token(
        &settings,
        &shared_kernel_email("ada@example.com"),
        Some("Ada Lovelace"),
        std::time::Duration::from_secs(60),
    )
    .unwrap();
    assert!(data_dir.path().join(usher_api::auth::HS256_SECRET_FILE).exists());
    let app = TestApp::start(settings, data_dir, None).await;
    let user = json(app.get_user(&token).await).await;
    assert_eq!(user["displayName"], "Ada Lovelace");
    assert_eq!(user["email"], "ada@example.com");
    // A token signed with the test secret is not accepted by this app's generated one.
    assert_problem(
        app.get_user(&tokens::hs256(tokens::HS256_SECRET, &tokens::claims("ada@example.com"))).await,
        401,
        "auth.invalid_token",
    )
    .await;
}

fn shared_kernel_email(s: &str) -> shared_kernel::EmailAddress {
    shared_kernel::EmailAddress::parse(s).unwrap()
}
