//! User administration (`GET /admin/users`, `PATCH /admin/users/{userId}`) and
//! the Discord id claim at sign-in, black-box on SQLite and PostgreSQL.

use reqwest::Method;
use serde_json::{Value, json};
use test_support::on_both_backends as both;
use test_support::{Backend, TestApp, assert_problem, json, tokens};

const ROOT: &str = "root@example.com";

async fn spawn(backend: Backend, configure: impl FnOnce(&mut usher_api::Settings)) -> TestApp {
    TestApp::spawn_with(backend, |s| {
        s.auth.bootstrap_superusers = usher_api::settings::Parsed::new(vec![ROOT.into()]).unwrap();
        configure(s);
    })
    .await
}

async fn user_id(app: &TestApp, token: &str) -> String {
    json(app.get_user(token).await).await["id"].as_str().unwrap().to_owned()
}

async fn patch_user(app: &TestApp, token: &str, id: &str, body: &Value) -> reqwest::Response {
    app.request(Method::PATCH, &format!("/admin/users/{id}"), Some(token), Some(body)).await
}

async fn search(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.request(Method::GET, &format!("/admin/users{query}"), Some(token), None).await
}

async fn superusers_change_roles_discord_ids_and_usernames(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let (root, ada, bob) = (app.token(ROOT), app.token("ada@x.io"), app.token("bob@x.io"));
    let (ada_id, bob_id) = (user_id(&app, &ada).await, user_id(&app, &bob).await);

    let res = patch_user(&app, &root, &ada_id, &json!({"discordId": "80351110224678912", "username": "ada.l"})).await;
    assert_eq!(res.status(), 200);
    let body = json(res).await;
    assert_eq!(body["discordId"], "80351110224678912");
    assert_eq!(body["username"], "ada.l");
    assert_eq!(body["platformRole"], "user");
    assert_eq!(body["email"], "ada@x.io");

    // A Discord id belongs to one user; a username too.
    let res = patch_user(&app, &root, &bob_id, &json!({"discordId": "80351110224678912"})).await;
    assert_problem(res, 409, "user.discord_id_taken").await;
    assert_problem(patch_user(&app, &root, &bob_id, &json!({"username": "ada.l"})).await, 409, "user.username_taken")
        .await;

    // Absent fields stay; null unlinks.
    let res = patch_user(&app, &root, &ada_id, &json!({"platformRole": "superuser"})).await;
    let body = json(res).await;
    assert_eq!(body["platformRole"], "superuser");
    assert_eq!(body["discordId"], "80351110224678912");
    assert_eq!(search(&app, &ada, "").await.status(), 200, "the role comes from the database at once");
    let body = json(patch_user(&app, &root, &ada_id, &json!({"discordId": null})).await).await;
    assert_eq!(body["discordId"], Value::Null);
    assert_eq!(patch_user(&app, &root, &bob_id, &json!({"discordId": "80351110224678912"})).await.status(), 200);

    // Bad input is 422 with the field; unknown users 404; others 403.
    for (bad, field) in [
        (json!({"platformRole": "god"}), "/platformRole"),
        (json!({"discordId": "123"}), "/discordId"),
        (json!({"username": "Not Valid"}), "/username"),
        (json!({"nickname": "x"}), "/nickname"),
    ] {
        let body = assert_problem(patch_user(&app, &root, &bob_id, &bad).await, 422, "request.validation").await;
        assert!(body["errors"].get(field).is_some(), "{body}");
    }
    assert_problem(patch_user(&app, &root, "999999", &json!({"username": "x"})).await, 404, "user.not_found").await;
    assert_problem(patch_user(&app, &root, "abc", &json!({"username": "x"})).await, 404, "user.not_found").await;
    assert_problem(patch_user(&app, &bob, &ada_id, &json!({"username": "x"})).await, 403, "auth.superuser_required")
        .await;
}

async fn superusers_search_users(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let root = app.token(ROOT);
    for email in ["ada@x.io", "bob@x.io", "carol@y.io"] {
        user_id(&app, &app.token(email)).await;
    }
    let all = json(search(&app, &root, "").await).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 4, "root and three users");
    let page = json(search(&app, &root, "?limit=3").await).await;
    let cursor = page["nextCursor"].as_str().unwrap();
    let rest = json(search(&app, &root, &format!("?limit=3&cursor={cursor}")).await).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["nextCursor"], Value::Null);
    let xio = json(search(&app, &root, "?q=X.IO").await).await;
    assert_eq!(xio["items"].as_array().unwrap().len(), 2, "case-insensitive e-mail match");
    let carol = json(search(&app, &root, "?q=caro").await).await;
    assert_eq!(carol["items"][0]["username"], "carol");
    assert_eq!(json(search(&app, &root, "?q=%25").await).await["items"], json!([]));
    assert_problem(search(&app, &app.token("ada@x.io"), "").await, 403, "auth.superuser_required").await;
    assert_problem(search(&app, &root, "?limit=1000").await, 422, "request.validation").await;
    assert_problem(search(&app, &root, "?cursor=nope").await, 422, "request.validation").await;
    let long = "x".repeat(201);
    assert_problem(search(&app, &root, &format!("?q={long}")).await, 422, "request.validation").await;
}

async fn a_configured_claim_links_the_discord_id_at_sign_in(backend: Backend) {
    let app = spawn(backend, |s| s.auth.discord_id_claim = Some("discord_id".into())).await;
    let root = app.token(ROOT);
    let mut claims = tokens::claims("ada@x.io");
    claims["discord_id"] = json!("80351110224678912");
    let ada = tokens::hs256(tokens::HS256_SECRET, &claims);
    user_id(&app, &ada).await;
    let found = json(search(&app, &root, "?q=ada").await).await;
    assert_eq!(found["items"][0]["discordId"], "80351110224678912");

    // Another user claiming the same id signs in but does not take it.
    let mut claims = tokens::claims("eve@x.io");
    claims["discord_id"] = json!("80351110224678912");
    let eve = tokens::hs256(tokens::HS256_SECRET, &claims);
    assert_eq!(app.get_user(&eve).await.status(), 200);
    let found = json(search(&app, &root, "?q=eve").await).await;
    assert_eq!(found["items"][0]["discordId"], Value::Null);
    // A malformed claim is ignored.
    let mut claims = tokens::claims("mal@x.io");
    claims["discord_id"] = json!({"nested": true});
    assert_eq!(app.get_user(&tokens::hs256(tokens::HS256_SECRET, &claims)).await.status(), 200);

    // Without the setting, the claim is not read.
    let app = spawn(backend, |_| {}).await;
    user_id(&app, &ada).await;
    let found = json(search(&app, &app.token(ROOT), "?q=ada").await).await;
    assert_eq!(found["items"][0]["discordId"], Value::Null);
}

async fn is_superuser(app: &TestApp, token: &str) -> bool {
    search(app, token, "?limit=1").await.status() == 200
}

async fn the_last_superuser_cannot_be_demoted(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let (root, ada, bob) = (app.token(ROOT), app.token("ada@x.io"), app.token("bob@x.io"));
    let (root_id, ada_id, bob_id) = (user_id(&app, &root).await, user_id(&app, &ada).await, user_id(&app, &bob).await);

    let body = assert_problem(
        patch_user(&app, &root, &root_id, &json!({"platformRole": "user", "username": "root2"})).await,
        409,
        "admin.last_superuser",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("last superuser"), "{body}");
    assert!(is_superuser(&app, &root).await, "the refused demotion wrote nothing");
    let root_user = json(search(&app, &root, "?q=root").await).await;
    assert_ne!(root_user["items"][0]["username"], "root2", "nothing of the refused change was written");

    // A regular user set to `user` again is no demotion.
    assert_eq!(patch_user(&app, &root, &bob_id, &json!({"platformRole": "user"})).await.status(), 200);

    // With a second superuser, one may step down; then the other is the last.
    assert_eq!(patch_user(&app, &root, &ada_id, &json!({"platformRole": "superuser"})).await.status(), 200);
    assert_eq!(patch_user(&app, &root, &root_id, &json!({"platformRole": "user"})).await.status(), 200);
    assert!(!is_superuser(&app, &root).await);
    assert_problem(
        patch_user(&app, &ada, &ada_id, &json!({"platformRole": "user"})).await,
        409,
        "admin.last_superuser",
    )
    .await;
    assert!(is_superuser(&app, &ada).await);
}

/// Two superusers demote each other at the same instant, ten times: each
/// time exactly one demotion lands and one superuser is left.
async fn two_superusers_demoting_each_other_at_once_leave_one(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let (root, ada) = (app.token(ROOT), app.token("ada@x.io"));
    let (root_id, ada_id) = (user_id(&app, &root).await, user_id(&app, &ada).await);
    for round in 0..10 {
        // Whoever is left promotes the other back.
        let (lead, other_id) = if is_superuser(&app, &root).await { (&root, &ada_id) } else { (&ada, &root_id) };
        assert_eq!(patch_user(&app, lead, other_id, &json!({"platformRole": "superuser"})).await.status(), 200);

        let demote = json!({"platformRole": "user"});
        let (a, b) = tokio::join!(patch_user(&app, &root, &ada_id, &demote), patch_user(&app, &ada, &root_id, &demote));
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort_unstable();
        // The loser either passed the role check first (409) or came after the winner (403).
        assert!(statuses == [200, 403] || statuses == [200, 409], "round {round}: {statuses:?}");
        let left = [is_superuser(&app, &root).await, is_superuser(&app, &ada).await];
        assert_eq!(left.iter().filter(|s| **s).count(), 1, "round {round}: superusers {left:?}");
    }
}

/// `/user/update` and `/user/status` sign in over the read that answers
/// them, after the body is parsed: a refused body provisions nobody, and the
/// first good one provisions the caller and applies the change.
async fn a_refused_first_change_provisions_nobody(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let (root, newbie) = (app.token(ROOT), app.token("newbie@x.io"));
    let res = app.post("/user/update", &newbie, &json!({"displayName": "New\u{0}bie"})).await;
    assert_problem(res, 422, "request.validation").await;
    assert_problem(
        app.post("/user/status", &newbie, &json!({"manualStatus": "asleep"})).await,
        422,
        "request.validation",
    )
    .await;
    assert_eq!(json(search(&app, &root, "?q=newbie").await).await["items"], json!([]));

    let res = app.post("/user/status", &newbie, &json!({"manualStatus": "busy"})).await;
    assert_eq!(res.status(), 200);
    let body = json(res).await;
    assert_eq!(body["manualStatus"], "busy");
    assert_eq!(body["email"], "newbie@x.io");
    let res = app.post("/user/update", &newbie, &json!({"displayName": "Newbie"})).await;
    let body = json(res).await;
    assert_eq!((body["displayName"].as_str(), body["manualStatus"].as_str()), (Some("Newbie"), Some("busy")));
    assert_eq!(json(app.get_user(&newbie).await).await, body, "the answer is what a read shows");
    assert_eq!(json(search(&app, &root, "?q=newbie").await).await["items"].as_array().unwrap().len(), 1);
}

both!(
    the_last_superuser_cannot_be_demoted,
    two_superusers_demoting_each_other_at_once_leave_one,
    superusers_change_roles_discord_ids_and_usernames,
    superusers_search_users,
    a_configured_claim_links_the_discord_id_at_sign_in,
    a_refused_first_change_provisions_nobody,
);
