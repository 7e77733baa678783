//! Invitations: create (token, URL, QR), the public preview, accept and its
//! ordered refusals, reject, revoke, resend, lists, the acceptance log, the
//! sidebar, time-bound memberships, and the races and log hygiene.

use crate::organizations::{create_org, invite, join, user_id};
use futures_util::future::join_all;
use sea_orm::{ConnectionTrait as _, Statement};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, OnceLock};
use test_support::app::{Backend, TestApp};
use test_support::on_both_backends as both;
use test_support::{assert_problem, json, on_both_databases, tokens};
use time::{Duration, OffsetDateTime};

async fn accept(app: &TestApp, token: &str, invitation_token: &Value) -> reqwest::Response {
    app.post("/invitation/accept", token, &json!({"token": invitation_token})).await
}

async fn preview(app: &TestApp, invitation_token: &Value) -> reqwest::Response {
    app.request(reqwest::Method::POST, "/invitation/preview", None, Some(&json!({"token": invitation_token}))).await
}

/// Moves an invitation's expiry into the past, straight in the database (the
/// API refuses validities under an hour).
async fn expire(app: &TestApp, id: &Value) {
    let conn = sea_orm::Database::connect(app.settings.database_url()).await.unwrap();
    let backend = conn.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Sqlite => "UPDATE invitations SET expires_at = ?1 WHERE id = ?2",
        _ => "UPDATE invitations SET expires_at = $1 WHERE id = $2",
    };
    let past = OffsetDateTime::now_utc() - Duration::hours(1);
    let id = uuid::Uuid::parse_str(id.as_str().unwrap()).unwrap();
    let done = conn.execute_raw(Statement::from_sql_and_values(backend, sql, [past.into(), id.into()])).await.unwrap();
    assert_eq!(done.rows_affected(), 1);
    conn.close().await.unwrap();
}

on_both_databases! {
    async fn an_invitation_is_created_previewed_and_accepted(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let created = invite(&app, &ada, &org, json!({"maxUses": 2})).await;
        let token = &created["token"];
        assert_eq!(token.as_str().unwrap().len(), 43, "32 bytes, base64url without padding");
        assert_eq!(created["url"], format!("{}/dashboard/invite#token={}", app.address, token.as_str().unwrap()));
        assert!(created["qrSvg"].as_str().unwrap().starts_with("<?xml") && created["qrSvg"].as_str().unwrap().contains("<svg"));
        let inv = &created["invitation"];
        assert_eq!((inv["role"].as_str(), inv["kind"].as_str(), inv["status"].as_str()), (Some("member"), Some("internal"), Some("pending")));
        assert_eq!((inv["maxUses"].as_u64(), inv["useCount"].as_u64()), (Some(2), Some(0)));
        assert!(inv.get("token").is_none() && inv.get("tokenHash").is_none());

        // The preview is public and consumes nothing.
        for _ in 0..2 {
            let p = json(preview(&app, token).await).await;
            assert_eq!(p["organization"]["name"], "Acme");
            assert_eq!((p["role"].as_str(), p["status"].as_str()), (Some("member"), Some("pending")));
            assert_eq!(p["invitedBy"], "ada");
            assert_eq!(p["reason"], Value::Null);
        }
        assert_problem(preview(&app, &json!("no-such-token")).await, 404, "invitation.not_found").await;

        let bob = app.token("bob@example.com");
        let res = accept(&app, &bob, token).await;
        assert_eq!(res.status(), 200);
        let user = json(res).await;
        assert_eq!(user["organizationMemberships"][0]["organization"]["id"], org.as_str());
        assert_eq!(user["organizationMemberships"][0]["role"], "member");
        assert_eq!(user["currentOrganizationId"], Value::Null, "accepting does not switch");
        let switched = json(app.post("/organization/switch", &bob, &json!({"organizationId": org})).await).await;
        assert_eq!(switched["currentOrganizationId"], org.as_str());

        let sidebar = json(app.request(reqwest::Method::GET, "/my-apps/sidebar", Some(&bob), None).await).await;
        assert_eq!(sidebar["apps"][0]["organization"]["name"], "Acme");
        assert_eq!((sidebar["apps"][0]["role"].as_str(), sidebar["apps"][0]["current"].as_bool()), (Some("member"), Some(true)));
        assert_eq!(sidebar["pendingInvitations"], json!([]));

        let cy = app.token("cy@example.com");
        assert_eq!(accept(&app, &cy, token).await.status(), 200);
        let p = json(preview(&app, token).await).await;
        assert_eq!((p["status"].as_str(), p["reason"].as_str()), (Some("accepted"), Some("used_up")));
        assert_problem(accept(&app, &app.token("dee@example.com"), token).await, 410, "invitation.used_up").await;
        assert_problem(accept(&app, &bob, &json!("nope")).await, 404, "invitation.not_found").await;
        assert_problem(app.post("/invitation/accept", &bob, &json!({})).await, 422, "request.validation").await;
        assert_problem(app.post("/invitation/accept", &bob, &json!({"token": token, "invitationId": inv["id"]})).await, 422, "request.validation").await;

        // The acceptance log: admins only, newest first, failures included.
        let log = json(app.post("/invitation/acceptances", &ada, &json!({"invitationId": inv["id"]})).await).await;
        let outcomes: Vec<(&str, Option<&str>)> = log["acceptances"].as_array().unwrap().iter()
            .map(|a| (a["outcome"].as_str().unwrap(), a["reason"].as_str())).collect();
        assert_eq!(outcomes, [("failed", Some("used_up")), ("accepted", None), ("accepted", None)]);
        assert_eq!(log["acceptances"][0]["ip"], "127.0.0.1");
        assert_problem(app.post("/invitation/acceptances", &bob, &json!({"invitationId": inv["id"]})).await, 403, "organization.forbidden").await;
        assert_problem(app.post("/invitation/acceptances", &app.token("eve@example.com"), &json!({"invitationId": inv["id"]})).await, 404, "invitation.not_found").await;
    }

    // The wrong account learns which address an e-mail-bound invitation is
    // for, masked, from the token's preview and from the e-mail link's id;
    // nothing else answers, and the address is never given whole.
    async fn an_email_bound_invitation_says_whom_it_is_for_masked(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let bound = invite(&app, &ada, &org, json!({"email": "Bob.Smith@Example.com"})).await;
        let open = invite(&app, &ada, &org, json!({})).await;
        let carol = app.token("carol@example.com");

        let p = json(preview(&app, &bound["token"]).await).await;
        assert_eq!(p["emailHint"], "b***@example.com");
        assert_eq!(json(preview(&app, &open["token"]).await).await["emailHint"], Value::Null);

        let recipient = |id: &Value| {
            let body = json!({"invitationId": id});
            let (app, carol) = (&app, &carol);
            async move { app.post("/invitation/recipient", carol, &body).await }
        };
        let hint = json(recipient(&bound["invitation"]["id"]).await).await;
        assert_eq!(hint, json!({"emailHint": "b***@example.com"}));
        assert_problem(recipient(&open["invitation"]["id"]).await, 404, "invitation.not_found").await;
        assert_problem(recipient(&json!(uuid::Uuid::now_v7())).await, 404, "invitation.not_found").await;
        assert_problem(recipient(&json!("not-an-id")).await, 422, "request.validation").await;
        let anonymous = app
            .request(reqwest::Method::POST, "/invitation/recipient", None, Some(&json!({"invitationId": bound["invitation"]["id"]})))
            .await;
        assert_eq!(anonymous.status(), 401);

        // Once it is no longer pending, the id says nothing.
        app.post("/invitation/revoke", &ada, &json!({"invitationId": bound["invitation"]["id"]})).await;
        assert_problem(recipient(&bound["invitation"]["id"]).await, 404, "invitation.not_found").await;
    }

    async fn accepting_refuses_in_the_specified_order(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let bob = app.token("bob@example.com");
        let bob_id = user_id(&app, &bob).await;
        let zed_id = user_id(&app, &app.token("zed@example.com")).await;

        // Revoked beats expired.
        let revoked = invite(&app, &ada, &org, json!({})).await;
        app.post("/invitation/revoke", &ada, &json!({"invitationId": revoked["invitation"]["id"]})).await;
        expire(&app, &revoked["invitation"]["id"]).await;
        assert_problem(accept(&app, &bob, &revoked["token"]).await, 410, "invitation.revoked").await;
        let p = json(preview(&app, &revoked["token"]).await).await;
        assert_eq!(p["reason"], "revoked");

        // Expired beats used up and the wrong person.
        let expired = invite(&app, &ada, &org, json!({"userId": zed_id})).await;
        expire(&app, &expired["invitation"]["id"]).await;
        assert_problem(accept(&app, &bob, &expired["token"]).await, 410, "invitation.expired").await;
        assert_eq!(json(preview(&app, &expired["token"]).await).await["status"], "expired");

        // Bound to another user; to another e-mail; to an unverified e-mail.
        let other = invite(&app, &ada, &org, json!({"userId": zed_id})).await;
        assert_problem(accept(&app, &bob, &other["token"]).await, 403, "invitation.wrong_person").await;
        let carols = invite(&app, &ada, &org, json!({"email": "  Carol@Example.com "})).await;
        assert_eq!(carols["invitation"]["email"], "carol@example.com");
        assert_problem(accept(&app, &bob, &carols["token"]).await, 403, "invitation.email_mismatch").await;
        let mut claims = tokens::claims("carol@example.com");
        claims["email_verified"] = json!(false);
        let unverified = tokens::hs256(tokens::HS256_SECRET, &claims);
        assert_problem(accept(&app, &unverified, &carols["token"]).await, 403, "invitation.email_unverified").await;
        let carol = app.token("carol@example.com");
        assert_eq!(accept(&app, &carol, &carols["token"]).await.status(), 200, "verified now");

        // External invitations are for outsiders; members with this access already have it.
        let external = invite(&app, &ada, &org, json!({"kind": "external", "maxUses": 5})).await;
        assert_problem(accept(&app, &carol, &external["token"]).await, 409, "invitation.external_member").await;
        let again = invite(&app, &ada, &org, json!({"role": "guest", "maxUses": 5})).await;
        assert_problem(accept(&app, &carol, &again["token"]).await, 409, "invitation.already_member").await;
        // A higher role upgrades the membership.
        let higher = invite(&app, &ada, &org, json!({"role": "moderator", "userId": bob_id})).await;
        assert_eq!(accept(&app, &bob, &higher["token"]).await.status(), 200);
        let upgrade = invite(&app, &ada, &org, json!({"role": "admin", "email": "carol@example.com"})).await;
        let res = app.post("/invitation/accept", &carol, &json!({"invitationId": upgrade["invitation"]["id"]})).await;
        assert_eq!(res.status(), 200);
        assert_eq!(json(res).await["organizationMemberships"][0]["role"], "admin");
        // By id only for invitations bound to the caller.
        let open = invite(&app, &ada, &org, json!({})).await;
        assert_problem(app.post("/invitation/accept", &bob, &json!({"invitationId": open["invitation"]["id"]})).await, 404, "invitation.not_found").await;
        // Refusals consumed nothing.
        let list = json(app.post("/invitation/list", &ada, &json!({"organizationId": org, "status": "pending"})).await).await;
        let external_row = list["invitations"].as_array().unwrap().iter().find(|i| i["id"] == external["invitation"]["id"]).unwrap().clone();
        assert_eq!(external_row["useCount"], 0);
    }

    async fn the_invitee_declines_with_the_token_the_landing_page_holds(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let bob = app.token("bob@example.com");
        let bound = invite(&app, &ada, &org, json!({"email": "bob@example.com"})).await;
        let open = invite(&app, &ada, &org, json!({"maxUses": 3})).await;
        let reject = |who: String, body: Value| {
            let app = &app;
            async move { app.post("/invitation/reject", &who, &body).await }
        };

        let eve = app.token("eve@example.com");
        assert_problem(reject(eve, json!({"token": bound["token"]})).await, 403, "invitation.wrong_person").await;
        assert_problem(reject(bob.clone(), json!({"token": open["token"]})).await, 409, "invitation.open_link").await;
        assert_problem(reject(bob.clone(), json!({"token": "no-such-token"})).await, 404, "invitation.not_found").await;
        let both = json!({"token": bound["token"], "invitationId": bound["invitation"]["id"]});
        assert_problem(reject(bob.clone(), both).await, 422, "request.validation").await;
        assert_problem(reject(bob.clone(), json!({})).await, 422, "request.validation").await;

        let rejected = json(reject(bob.clone(), json!({"token": bound["token"]})).await).await;
        assert_eq!(rejected["status"], "rejected");
        assert_eq!(rejected["id"], bound["invitation"]["id"]);
        assert_problem(reject(bob.clone(), json!({"token": bound["token"]})).await, 409, "invitation.not_pending").await;
        let preview = json(preview(&app, &bound["token"]).await).await;
        assert_eq!(preview["status"], "rejected");
        let log = json(app.post("/invitation/acceptances", &ada, &json!({"invitationId": bound["invitation"]["id"]})).await).await;
        assert_eq!(log["acceptances"][0]["outcome"], "declined");
    }

    async fn invitees_see_reject_and_organizations_revoke_and_resend(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let bob = app.token("bob@example.com");
        let bob_id = user_id(&app, &bob).await;
        let by_id = invite(&app, &ada, &org, json!({"userId": bob_id})).await;
        let by_mail = invite(&app, &ada, &org, json!({"email": "bob@example.com", "role": "guest"})).await;
        let mine = json(app.post("/invitation/mine", &bob, &json!({})).await).await;
        assert_eq!(mine["invitations"].as_array().unwrap().len(), 2);
        // The body is optional, and the document's `null` means the same as none.
        let null_body = json(app.post("/invitation/mine", &bob, &Value::Null).await).await;
        assert_eq!(null_body, mine);
        assert_eq!(mine["invitations"][0]["organization"]["name"], "Acme");
        let sidebar = json(app.request(reqwest::Method::GET, "/my-apps/sidebar", Some(&bob), None).await).await;
        assert_eq!(sidebar["pendingInvitations"].as_array().unwrap().len(), 2);
        assert_eq!(sidebar["apps"], json!([]));

        // Reject: only the invitee, only bound invitations, only once.
        let eve = app.token("eve@example.com");
        assert_problem(app.post("/invitation/reject", &eve, &json!({"invitationId": by_id["invitation"]["id"]})).await, 404, "invitation.not_found").await;
        let rejected = json(app.post("/invitation/reject", &bob, &json!({"invitationId": by_id["invitation"]["id"]})).await).await;
        assert_eq!(rejected["status"], "rejected");
        assert_problem(app.post("/invitation/reject", &bob, &json!({"invitationId": by_id["invitation"]["id"]})).await, 409, "invitation.not_pending").await;
        assert_problem(accept(&app, &bob, &by_id["token"]).await, 410, "invitation.rejected").await;
        let mine = json(app.post("/invitation/mine", &bob, &json!({})).await).await;
        assert_eq!(mine["invitations"].as_array().unwrap().len(), 1, "a rejected invitation leaves the invitee's list");
        let listed = json(app.post("/invitation/list", &ada, &json!({"organizationId": org, "status": "rejected"})).await).await;
        assert_eq!(listed["invitations"][0]["id"], by_id["invitation"]["id"], "and stays visible to the organization");
        let open = invite(&app, &ada, &org, json!({"maxUses": 3})).await;
        assert_problem(app.post("/invitation/reject", &bob, &json!({"token": open["token"]})).await, 409, "invitation.open_link").await;
        // By id, an open link is nobody's: it answers like an unknown id.
        assert_problem(app.post("/invitation/reject", &bob, &json!({"invitationId": open["invitation"]["id"]})).await, 404, "invitation.not_found").await;
        let log = json(app.post("/invitation/acceptances", &ada, &json!({"invitationId": by_id["invitation"]["id"]})).await).await;
        let outcomes: Vec<&str> =
            log["acceptances"].as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap()).collect();
        assert_eq!(outcomes, ["failed", "declined"], "the refused accept after the rejection is logged too");

        // Revoke and resend: moderators only for guest/member invitations.
        let moderator = join(&app, &ada, &org, "mod@example.com", "moderator").await;
        assert_problem(app.post("/invitation/create", &moderator, &json!({"organizationId": org, "role": "moderator"})).await, 403, "organization.role_not_allowed").await;
        let admin_invite = invite(&app, &ada, &org, json!({"role": "admin"})).await;
        assert_problem(app.post("/invitation/revoke", &moderator, &json!({"invitationId": admin_invite["invitation"]["id"]})).await, 403, "organization.role_not_allowed").await;
        assert_problem(app.post("/invitation/resend", &moderator, &json!({"invitationId": admin_invite["invitation"]["id"]})).await, 403, "organization.role_not_allowed").await;

        expire(&app, &by_mail["invitation"]["id"]).await;
        let resent = json(app.post("/invitation/resend", &moderator, &json!({"invitationId": by_mail["invitation"]["id"]})).await).await;
        assert_eq!(resent["invitation"]["id"], by_mail["invitation"]["id"]);
        assert_eq!(resent["invitation"]["status"], "pending", "the expiry is renewed");
        assert_ne!(resent["token"], by_mail["token"]);
        assert_problem(preview(&app, &by_mail["token"]).await, 404, "invitation.not_found").await;
        assert_eq!(json(preview(&app, &resent["token"]).await).await["status"], "pending");

        let revoked = json(app.post("/invitation/revoke", &moderator, &json!({"invitationId": open["invitation"]["id"]})).await).await;
        assert_eq!(revoked["status"], "revoked");
        assert_problem(app.post("/invitation/revoke", &moderator, &json!({"invitationId": open["invitation"]["id"]})).await, 409, "invitation.not_pending").await;
        assert_problem(app.post("/invitation/resend", &ada, &json!({"invitationId": open["invitation"]["id"]})).await, 409, "invitation.not_pending").await;
        assert_problem(app.post("/invitation/revoke", &eve, &json!({"invitationId": open["invitation"]["id"]})).await, 404, "invitation.not_found").await;
        let member = join(&app, &ada, &org, "mem@example.com", "member").await;
        assert_problem(app.post("/invitation/list", &member, &json!({"organizationId": org})).await, 403, "organization.forbidden").await;
        assert_problem(app.post("/invitation/list", &ada, &json!({"organizationId": org, "status": "lost"})).await, 422, "request.validation").await;
    }

    async fn invitation_input_is_checked(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let post = |body: Value| {
            let (app, ada) = (&app, ada.clone());
            async move { app.post("/invitation/create", &ada, &body).await }
        };
        assert_problem(post(json!({"organizationId": org, "maxUses": 0})).await, 422, "request.validation").await;
        assert_problem(post(json!({"organizationId": org, "maxUses": 1001})).await, 422, "request.validation").await;
        assert_problem(post(json!({"organizationId": org, "expiresInSeconds": 60})).await, 422, "request.validation").await;
        assert_problem(post(json!({"organizationId": org, "expiresInSeconds": 2_592_001})).await, 422, "request.validation").await;
        assert_problem(post(json!({"organizationId": org, "membershipDurationSeconds": 0})).await, 422, "request.validation").await;
        assert_problem(post(json!({"organizationId": org, "email": "not-an-email"})).await, 422, "request.validation").await;
        assert_problem(post(json!({"organizationId": org, "userId": "-1"})).await, 422, "request.validation").await;
        // A well-formed id that names nobody is a missing record, not bad input.
        assert_problem(post(json!({"organizationId": org, "userId": "999999"})).await, 404, "user.not_found").await;
        assert_problem(post(json!({"organizationId": org, "role": "owner"})).await, 422, "request.validation").await;
        assert_problem(post(json!({"organizationId": org, "kind": "vip"})).await, 422, "request.validation").await;
        assert_problem(post(json!({"organizationId": org, "token": "mine"})).await, 422, "request.validation").await;
        assert_problem(post(json!({"organizationId": org, "zoneId": uuid::Uuid::now_v7()})).await, 404, "organization.zone_not_found").await;
        let outsider = app.token("eve@example.com");
        assert_problem(app.post("/invitation/create", &outsider, &json!({"organizationId": org})).await, 403, "organization.not_member").await;
        let member = join(&app, &ada, &org, "mem@example.com", "member").await;
        assert_problem(app.post("/invitation/create", &member, &json!({"organizationId": org})).await, 403, "organization.forbidden").await;

        // A zone invitation grants that zone.
        let zone = json(app.post("/organization/zones/create", &ada, &json!({"organizationId": org, "name": "North"})).await).await;
        let created = invite(&app, &ada, &org, json!({"zoneId": zone["id"], "role": "guest"})).await;
        let p = json(preview(&app, &created["token"]).await).await;
        assert_eq!(p["zone"]["name"], "North");
        let gus = app.token("gus@example.com");
        assert_eq!(accept(&app, &gus, &created["token"]).await.status(), 200);
        let listed = json(app.post("/organization/members/list", &ada, &json!({"organizationId": org, "zoneId": zone["id"]})).await).await;
        let gus_row = listed["members"].as_array().unwrap().iter().find(|m| m["email"] == "gus@example.com").unwrap().clone();
        assert_eq!(gus_row["zones"], json!([zone["id"]]));
    }

    async fn a_time_bound_membership_grants_nothing_once_it_expired(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let created = invite(&app, &ada, &org, json!({"role": "guest", "membershipDurationSeconds": 1})).await;
        assert_eq!(created["invitation"]["membershipDurationSeconds"], 1);
        let gus = app.token("gus@example.com");
        assert_eq!(accept(&app, &gus, &created["token"]).await.status(), 200);
        assert_eq!(app.post("/organization/get", &gus, &json!({"organizationId": org})).await.status(), 200);
        // Step past the one-second membership; the sweeper has not run.
        app.clock.advance(Duration::seconds(2));
        assert_problem(app.post("/organization/get", &gus, &json!({"organizationId": org})).await, 403, "organization.not_member").await;
        let user = json(app.get_user(&gus).await).await;
        assert_eq!(user["organizationMemberships"][0]["status"], "inactive");
        let sidebar = json(app.request(reqwest::Method::GET, "/my-apps/sidebar", Some(&gus), None).await).await;
        assert_eq!(sidebar["apps"], json!([]));
        assert_problem(app.post("/organization/switch", &gus, &json!({"organizationId": org})).await, 403, "organization.not_member").await;
    }
}

// SQLite only: the preview limiter counts in memory, not in the database.
#[tokio::test]
async fn previews_are_rate_limited_per_client_address() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.invitations.preview_per_minute = 2).await;
    for _ in 0..2 {
        assert_problem(preview(&app, &json!("unknown")).await, 404, "invitation.not_found").await;
    }
    let res = preview(&app, &json!("unknown")).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429, "invitation.preview_rate_limited").await;
}

/// 50 people racing for a 10-use link: exactly 10 get in, 40 are logged `used_up`.
// PostgreSQL only: races concurrent writers, which SQLite already serialises (`BEGIN IMMEDIATE`).
#[tokio::test]
async fn fifty_concurrent_accepts_of_a_ten_use_link_admit_exactly_ten_on_postgres() {
    let app = TestApp::spawn_with(Backend::Postgres, |s| {
        s.database.max_connections = 20;
        s.database.acquire_timeout_seconds = 30;
        s.server.workers = 2;
    })
    .await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    let created = invite(&app, &ada, &org, json!({"maxUses": 10})).await;
    let tokens: Vec<String> = (0..50).map(|i| app.token(&format!("racer{i}@example.com"))).collect();
    // Provision the users first so the race is about the link alone.
    join_all(tokens.iter().map(|t| app.get_user(t))).await;
    let results = join_all(tokens.iter().map(|t| accept(&app, t, &created["token"]))).await;
    let mut statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 410).count(), 40, "{statuses:?}");

    let members =
        json(app.post("/organization/members/list", &ada, &json!({"organizationId": org, "role": "member"})).await)
            .await;
    assert_eq!(members["members"].as_array().unwrap().len(), 10);
    let log =
        json(app.post("/invitation/acceptances", &ada, &json!({"invitationId": created["invitation"]["id"]})).await)
            .await;
    let rows = log["acceptances"].as_array().unwrap();
    assert_eq!(rows.iter().filter(|a| a["outcome"] == "accepted").count(), 10);
    assert_eq!(rows.iter().filter(|a| a["reason"] == "used_up").count(), 40);
    let listed =
        json(app.post("/invitation/list", &ada, &json!({"organizationId": org, "status": "accepted"})).await).await;
    assert_eq!(listed["invitations"][0]["useCount"], 10);
}

/// Takers of a busy multi-use link queue on its row instead of failing each
/// other: 60 distinct users accepting at once are all admitted.
// PostgreSQL only: races concurrent writers, which SQLite already serialises (`BEGIN IMMEDIATE`).
#[tokio::test]
async fn sixty_concurrent_accepts_of_a_busy_link_all_succeed_on_postgres() {
    let app = TestApp::spawn_with(Backend::Postgres, |s| {
        s.database.max_connections = 20;
        s.database.acquire_timeout_seconds = 30;
        s.server.workers = 2;
    })
    .await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    let created = invite(&app, &ada, &org, json!({"maxUses": 1000})).await;
    let tokens: Vec<String> = (0..60).map(|i| app.token(&format!("taker{i}@example.com"))).collect();
    join_all(tokens.iter().map(|t| app.get_user(t))).await;
    let results = join_all(tokens.iter().map(|t| accept(&app, t, &created["token"]))).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let listed =
        json(app.post("/invitation/list", &ada, &json!({"organizationId": org, "status": "pending"})).await).await;
    assert_eq!(listed["invitations"][0]["useCount"], 60);
}

/// Everything the service logs, for the token-hygiene test.
fn captured() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_writer(move || Sink(sink.clone()))
            .finish();
        // Only this test installs a global subscriber in this binary.
        tracing::subscriber::set_global_default(subscriber).expect("installing the capturing subscriber");
        buffer
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn invitation_tokens_never_reach_the_logs(backend: Backend) {
    let logs = captured();
    let app = TestApp::spawn(backend).await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    let created = invite(&app, &ada, &org, json!({"email": "bob@example.com", "maxUses": 1})).await;
    let resent =
        json(app.post("/invitation/resend", &ada, &json!({"invitationId": created["invitation"]["id"]})).await).await;
    let bob = app.token("bob@example.com");
    assert_eq!(preview(&app, &resent["token"]).await.status(), 200);
    assert_problem(accept(&app, &bob, &created["token"]).await, 404, "invitation.not_found").await;
    assert_eq!(accept(&app, &bob, &resent["token"]).await.status(), 200);
    assert_problem(accept(&app, &app.token("eve@example.com"), &resent["token"]).await, 410, "invitation.used_up")
        .await;
    let declined = invite(&app, &ada, &org, json!({"email": "carol@example.com"})).await;
    let res =
        app.post("/invitation/reject", &app.token("carol@example.com"), &json!({"token": declined["token"]})).await;
    assert_eq!(res.status(), 200);
    app.stop().await;
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(text.contains("/invitation/accept"), "the request log was captured");
    for token in [&created["token"], &resent["token"], &declined["token"]] {
        assert!(!text.contains(token.as_str().unwrap()), "a token reached the logs");
    }
}

/// E-mail-bound invitations are queued in the invitation's transaction and
/// delivered by the outbox to a real SMTP server on loopback, without the token.
async fn invitation_emails_go_through_the_outbox_to_smtp(backend: Backend) {
    let sink = adapter_smtp::sink::SmtpSink::start().await.unwrap();
    let url = sink.url();
    let app = TestApp::spawn_with(backend, |s| {
        s.smtp.url = Some(usher_api::settings::Secret::new(&url));
        s.smtp.from = "Usher <no-reply@usher.test>".into();
    })
    .await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    let created = invite(&app, &ada, &org, json!({"email": "bob@example.com", "role": "guest"})).await;
    invite(&app, &ada, &org, json!({"maxUses": 3})).await;
    assert_eq!(app.run_jobs().await.mails_sent, 1, "open links send no e-mail");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].to, ["bob@example.com"]);
    // Undo quoted-printable: soft line breaks and `=3D`.
    let text = messages[0].data.replace("=\n", "").replace("=3D", "=");
    let link = format!("{}/dashboard/invite?invitation={}", app.address, created["invitation"]["id"].as_str().unwrap());
    assert!(text.contains(&link), "{text}");
    assert!(!text.contains(created["token"].as_str().unwrap()), "the token is never stored or mailed");
    assert_eq!(app.run_jobs().await.mails_sent, 0, "a sent mail is never sent twice");
    // The mailed link leads to an invitation the invitee accepts by id.
    let bob = app.token("bob@example.com");
    let res = app.post("/invitation/accept", &bob, &json!({"invitationId": created["invitation"]["id"]})).await;
    assert_eq!(res.status(), 200);
}

/// FiO "Case 1": an import file run twice changes nothing the second time;
/// the unknown e-mail becomes a member at its first sign-in.
async fn imported_memberships_apply_at_first_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Fio School").await;
    let bob = app.token("bob@example.com");
    let bob_id = user_id(&app, &bob).await;
    let file = format!(
        "{{\"organization\": \"Fio School\", \"email\": \"bob@example.com\", \"role\": \"moderator\", \"joinedAt\": \"2024-01-02T03:04:05Z\"}}\n\
         {{\"organization\": \"{org}\", \"email\": \"new@example.com\", \"role\": \"member\", \"joinedAt\": \"2023-05-06T07:08:09Z\"}}\n"
    );
    let lines = usher_api::cli::parse_import(&file).unwrap();
    let (_, invitations) = import_service(&app).await;
    use organizations::ImportOutcome::{Invited, Joined, Unchanged};
    use organizations::Pending;
    let outcomes =
        |reports: Vec<organizations::ImportReport>| reports.into_iter().map(|r| r.outcome).collect::<Vec<_>>();
    let bob_id = shared_kernel::UserId::new(bob_id.parse().unwrap());
    assert_eq!(
        outcomes(invitations.import(&lines, &organizations::OsTokenGenerator).await.unwrap()),
        [Joined(bob_id), Invited(Pending::NoAccount)]
    );
    assert_eq!(
        outcomes(invitations.import(&lines, &organizations::OsTokenGenerator).await.unwrap()),
        [Unchanged, Unchanged]
    );

    let user = json(app.get_user(&bob).await).await;
    assert_eq!(user["organizationMemberships"][0]["role"], "moderator");
    let newcomer = app.token("new@example.com");
    let user = json(app.get_user(&newcomer).await).await;
    assert_eq!(user["organizationMemberships"], json!([]), "applied by the background job, not yet run");
    assert_eq!(app.run_jobs().await.imports_applied, 1);
    let user = json(app.get_user(&newcomer).await).await;
    let m = &user["organizationMemberships"][0];
    assert_eq!((m["role"].as_str(), m["status"].as_str()), (Some("member"), Some("active")));
    let new_id = user_id(&app, &newcomer).await;
    let history =
        json(app.post("/organization/members/history", &ada, &json!({"organizationId": org, "userId": new_id})).await)
            .await;
    assert_eq!(history["history"][0]["cause"], "import");
    assert_eq!(history["history"][0]["validFrom"], "2023-05-06T07:08:09Z");
    assert!(history["history"][0]["invitationId"].is_string(), "the causing invitation is recorded");
    assert_eq!(app.run_jobs().await.imports_applied, 0, "an import applies once");
}

both!(
    invitation_tokens_never_reach_the_logs,
    invitation_emails_go_through_the_outbox_to_smtp,
    imported_memberships_apply_at_first_sign_in,
);

/// The organization and invitation use cases over the test app's database,
/// as `usher import memberships` builds them.
pub(crate) async fn import_service(
    app: &TestApp,
) -> (organizations::OrganizationService, organizations::InvitationService) {
    let db = adapter_sql::Database::connect(&app.settings.database_url(), &adapter_sql::PoolSettings::default())
        .await
        .unwrap();
    usher_api::startup::organization_services(&app.settings, &db, app.clock.clone(), &app.address).unwrap()
}

/// Three replicas run their background jobs at once on one PostgreSQL
/// database: every queued e-mail reaches the SMTP server once, every
/// lapsed time-bound membership ends once, and every lapsed invitation's
/// expiry is announced once (the jobs claim their work with compare-and-set
/// statements, so any number of replicas may run them).
// PostgreSQL only: replicas need one shared database server.
#[tokio::test]
async fn background_jobs_on_three_replicas_at_once_do_each_piece_of_work_once() {
    let sink = adapter_smtp::sink::SmtpSink::start().await.unwrap();
    let smtp = sink.url();
    let mail = move |s: &mut usher_api::Settings| {
        s.smtp.url = Some(usher_api::settings::Secret::new(&smtp));
        s.smtp.from = "Usher <no-reply@usher.test>".into();
    };
    let one = TestApp::spawn_with(Backend::Postgres, mail.clone()).await;
    let replicas = vec![one.spawn_replica(mail.clone()).await, one.spawn_replica(mail).await, one];
    let app = &replicas[0];
    let ada = app.token("ada@example.com");
    let org = create_org(app, &ada, "Acme").await;
    for i in 0..6 {
        invite(app, &ada, &org, json!({"email": format!("guest{i}@example.com"), "role": "guest"})).await;
    }
    for _ in 0..5 {
        invite(app, &ada, &org, json!({"expiresInSeconds": 3600})).await;
    }
    let link = invite(app, &ada, &org, json!({"maxUses": 4, "membershipDurationSeconds": 3600})).await;
    for i in 0..4 {
        assert_eq!(accept(app, &app.token(&format!("temp{i}@example.com")), &link["token"]).await.status(), 200);
    }

    for replica in &replicas {
        replica.clock.advance(Duration::hours(2));
    }
    let runs = join_all(replicas.iter().map(TestApp::run_jobs)).await;
    assert_eq!(runs.iter().map(|r| r.mails_sent).sum::<usize>(), 6, "{runs:?}");
    assert_eq!(runs.iter().map(|r| r.memberships_ended).sum::<u64>(), 4, "{runs:?}");
    assert_eq!(runs.iter().map(|r| r.invitations_expired).sum::<u64>(), 5, "{runs:?}");
    let mut recipients: Vec<String> = sink.messages().iter().flat_map(|m| m.to.clone()).collect();
    recipients.sort();
    let expected: Vec<String> = (0..6).map(|i| format!("guest{i}@example.com")).collect();
    assert_eq!(recipients, expected, "each e-mail once");

    let again = join_all(replicas.iter().map(TestApp::run_jobs)).await;
    assert!(
        again.iter().all(|r| r.mails_sent == 0 && r.memberships_ended == 0 && r.invitations_expired == 0),
        "{again:?}"
    );
    let members = json(app.post("/organization/members/list", &ada, &json!({"organizationId": org})).await).await;
    let active: Vec<&Value> =
        members["members"].as_array().unwrap().iter().filter(|m| m["status"] == "active").collect();
    assert_eq!(active.len(), 1, "only Ada is left: {members}");
    let expired = members["members"].as_array().unwrap().iter().filter(|m| m["endReason"] == "expired").count();
    assert_eq!(expired, 4, "{members}");
}
