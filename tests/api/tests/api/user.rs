//! The User contract: the DTO, just-in-time provisioning, update-profile and status.

use serde_json::{Value, json};
use test_support::{assert_problem, json, on_both_databases, tokens};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn assert_utc_rfc3339(value: &Value) -> OffsetDateTime {
    let text = value.as_str().unwrap_or_else(|| panic!("{value} is not a string"));
    assert!(text.ends_with('Z'), "{text} is not UTC");
    OffsetDateTime::parse(text, &Rfc3339).unwrap_or_else(|e| panic!("{text}: {e}"))
}

on_both_databases! {
    async fn the_dto_has_seed_003s_shape(app: TestApp) {
        let res = app.get_user(&app.token("ada@example.com")).await;
        assert_eq!(res.status(), 200);
        let user = json(res).await;
        let id = user["id"].as_str().expect("the id is a string");
        assert!(id.parse::<i64>().is_ok_and(|n| n > 0), "{id} is not a stringified int64");
        assert_eq!(user["email"], "ada@example.com");
        assert_eq!(user["displayName"], "ada");
        assert_eq!(user["avatarUrl"], Value::Null);
        assert_eq!(user["currentOrganizationId"], Value::Null);
        assert_eq!(user["organizationMemberships"], json!([]));
        assert_eq!(user["integrations"], json!({"googleCalendar": {"connected": false, "enabled": false}}));
        assert_eq!(user["manualStatus"], Value::Null);
        assert_eq!(user["avatarUploadTriesRemaining"], 5);
        assert_utc_rfc3339(&user["createdAt"]);
        assert_utc_rfc3339(&user["updatedAt"]);
        let keys: Vec<&str> = user.as_object().unwrap().keys().map(String::as_str).collect();
        for dropped in ["pendingAuthenticationToken", "socialUrl", "username", "platformRole", "subject"] {
            assert!(!keys.contains(&dropped), "{dropped} must not be in the DTO: {keys:?}");
        }
        // firstName/lastName are omitted, not null, when unknown.
        assert!(!keys.contains(&"firstName") && !keys.contains(&"lastName"));
    }

    async fn a_new_subject_is_provisioned_once_and_a_second_user_gets_a_new_id(app: TestApp) {
        let mut claims = tokens::claims("grace@example.com");
        claims["name"] = json!("Grace Hopper");
        claims["given_name"] = json!("Grace");
        claims["family_name"] = json!("Hopper");
        let token = tokens::hs256(tokens::HS256_SECRET, &claims);
        let first = json(app.get_user(&token).await).await;
        let again = json(app.get_user(&token).await).await;
        assert_eq!(first["id"], again["id"]);
        assert_eq!(first["displayName"], "Grace Hopper");
        assert_eq!(first["firstName"], "Grace");
        assert_eq!(first["lastName"], "Hopper");

        let other = json(app.get_user(&app.token("ada@example.com")).await).await;
        assert_ne!(other["id"], first["id"]);
        // The same local part at another domain still gets its own user.
        let twin = json(app.get_user(&app.token("ada@elsewhere.org")).await).await;
        assert_ne!(twin["id"], other["id"]);
        assert_eq!(twin["displayName"], "ada");
    }

    async fn later_tokens_refresh_the_email_but_never_the_display_name(app: TestApp) {
        let token = app.token("ada@example.com");
        app.post("/user/update", &token, &json!({"displayName": "Countess"})).await;
        let mut claims = tokens::claims("ada@example.com");
        claims["email"] = json!("ada.lovelace@example.com");
        claims["name"] = json!("Ada From The IdP");
        let user = json(app.get_user(&tokens::hs256(tokens::HS256_SECRET, &claims)).await).await;
        assert_eq!(user["email"], "ada.lovelace@example.com");
        assert_eq!(user["displayName"], "Countess");
    }

    async fn concurrent_first_requests_for_one_subject_make_one_user(app: TestApp) {
        let token = app.token("race@example.com");
        let requests = (0..8).map(|_| app.get_user(&token));
        let responses = futures_util::future::join_all(requests).await;
        let mut ids = Vec::new();
        for res in responses {
            assert_eq!(res.status(), 200);
            ids.push(json(res).await["id"].clone());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "one subject must be one user: {ids:?}");
    }

    async fn update_profile_trims_and_returns_the_updated_user(app: TestApp) {
        let token = app.token("ada@example.com");
        let before = json(app.get_user(&token).await).await;
        let res = app.post("/user/update", &token, &json!({"displayName": "  Ada Lovelace  "})).await;
        assert_eq!(res.status(), 200);
        let after = json(res).await;
        assert_eq!(after["displayName"], "Ada Lovelace");
        assert_eq!(after["id"], before["id"]);
        assert!(assert_utc_rfc3339(&after["updatedAt"]) >= assert_utc_rfc3339(&before["updatedAt"]));
        assert_eq!(json(app.get_user(&token).await).await["displayName"], "Ada Lovelace");
    }

    async fn display_name_lengths_count_unicode_scalar_values(app: TestApp) {
        let token = app.token("ada@example.com");
        for ok in ["Al".to_owned(), "é".repeat(100), "🦀".repeat(100), "李雷".to_owned()] {
            let res = app.post("/user/update", &token, &json!({"displayName": ok})).await;
            assert_eq!(res.status(), 200, "{ok:?} should be accepted");
        }
        for bad in ["A".to_owned(), "   A   ".to_owned(), String::new(), "é".repeat(101), "🦀".repeat(101)] {
            let res = app.post("/user/update", &token, &json!({"displayName": bad})).await;
            let body = assert_problem(res, 422, "request.validation").await;
            assert!(body["errors"]["/displayName"].is_array(), "{body}");
        }
        assert_eq!(json(app.get_user(&token).await).await["displayName"], "李雷", "a refused update changes nothing");
    }

    async fn display_names_with_control_characters_are_refused(app: TestApp) {
        let token = app.token("ada@example.com");
        for bad in ["Ada\u{0}Lovelace", "Ada\nLovelace", "Ada\u{7}", "Ada\u{202E}evil"] {
            let res = app.post("/user/update", &token, &json!({"displayName": bad})).await;
            assert_problem(res, 422, "request.validation").await;
        }
    }

    async fn update_profile_refuses_unknown_fields_and_wrong_types(app: TestApp) {
        let token = app.token("ada@example.com");
        let res = app.post("/user/update", &token, &json!({"displayName": "Ada", "role": "superuser"})).await;
        let body = assert_problem(res, 422, "request.validation").await;
        assert!(body["errors"]["/role"][0].as_str().unwrap().contains("unknown field"), "{body}");

        let res = app.post("/user/update", &token, &json!({"displayName": 42})).await;
        let body = assert_problem(res, 422, "request.validation").await;
        assert!(body["errors"]["/displayName"].is_array(), "{body}");

        let res = app.post("/user/update", &token, &json!({})).await;
        assert_problem(res, 422, "request.validation").await;
        let res = app.post("/user/update", &token, &json!(["Ada"])).await;
        assert_problem(res, 422, "request.validation").await;
    }

    async fn manual_status_is_set_cleared_and_validated(app: TestApp) {
        let token = app.token("ada@example.com");
        for status in ["offline", "online", "away", "busy"] {
            let res = app.post("/user/status", &token, &json!({"manualStatus": status})).await;
            assert_eq!(res.status(), 200);
            assert_eq!(json(res).await["manualStatus"], status);
        }
        assert_eq!(json(app.get_user(&token).await).await["manualStatus"], "busy");
        let res = app.post("/user/status", &token, &json!({"manualStatus": null})).await;
        assert_eq!(json(res).await["manualStatus"], Value::Null);

        let res = app.post("/user/status", &token, &json!({"manualStatus": "sleeping"})).await;
        let body = assert_problem(res, 422, "request.validation").await;
        assert!(body["errors"]["/manualStatus"].is_array(), "{body}");
        let res = app.post("/user/status", &token, &json!({})).await;
        let body = assert_problem(res, 422, "request.validation").await;
        assert!(body["errors"]["/manualStatus"].is_array(), "{body}");
        let res = app.post("/user/status", &token, &json!({"manualStatus": 1})).await;
        assert_problem(res, 422, "request.validation").await;
    }

    async fn users_only_ever_change_themselves(app: TestApp) {
        let ada = app.token("ada@example.com");
        let bob = app.token("bob@example.com");
        app.post("/user/update", &ada, &json!({"displayName": "Ada"})).await;
        app.post("/user/update", &bob, &json!({"displayName": "Bob"})).await;
        assert_eq!(json(app.get_user(&ada).await).await["displayName"], "Ada");
        assert_eq!(json(app.get_user(&bob).await).await["displayName"], "Bob");
    }
}

/// `/user/session` says the caller's platform role as stored now: a
/// bootstrap superuser is one, everyone else is not, and a demotion shows
/// at once (the role never comes from the token, which stays the same).
async fn the_session_says_the_platform_role_as_stored_now(backend: test_support::app::Backend) {
    let app = test_support::app::TestApp::spawn_with(backend, |s| {
        s.auth.bootstrap_superusers =
            usher_api::settings::Parsed::new(vec!["root@example.com".into(), "second@example.com".into()]).unwrap();
    })
    .await;
    let (ada, root, second) =
        (app.token("ada@example.com"), app.token("root@example.com"), app.token("second@example.com"));
    let session = |token: String| {
        let app = &app;
        async move { json(app.post("/user/session", &token, &json!({})).await).await }
    };
    let mine = session(ada.clone()).await;
    let user = json(app.get_user(&ada).await).await;
    assert_eq!(mine, json!({"userId": user["id"], "platformRole": "user"}));
    let rooted = session(root.clone()).await;
    assert_eq!(rooted["platformRole"], "superuser");
    assert_eq!(session(second.clone()).await["platformRole"], "superuser");

    let id = rooted["userId"].as_str().unwrap();
    let demoted = app
        .request(
            reqwest::Method::PATCH,
            &format!("/admin/users/{id}"),
            Some(&second),
            Some(&json!({"platformRole": "user"})),
        )
        .await;
    assert_eq!(demoted.status(), 200);
    assert_eq!(session(root).await["platformRole"], "user", "the same token, the role as stored now");
    assert_problem(app.post("/user/session", "not-a-token", &json!({})).await, 401, "auth.invalid_token").await;
}

#[tokio::test]
async fn the_session_says_the_platform_role_as_stored_now_on_sqlite() {
    the_session_says_the_platform_role_as_stored_now(test_support::app::Backend::Sqlite).await;
}

#[tokio::test]
async fn the_session_says_the_platform_role_as_stored_now_on_postgres() {
    the_session_says_the_platform_role_as_stored_now(test_support::app::Backend::Postgres).await;
}
