//! Organizations: create, switch, get, update, zones, members, role changes,
//! removal, history, leave and the last-admin rule.

use serde_json::{Value, json};
use test_support::app::TestApp;
use test_support::{assert_problem, json, on_both_databases};

/// Creates an organization as `token`'s user; returns its id.
pub(crate) async fn create_org(app: &TestApp, token: &str, name: &str) -> String {
    let res = app.post("/organization/create", token, &json!({"name": name})).await;
    assert_eq!(res.status(), 200, "creating {name}");
    json(res).await["currentOrganizationId"].as_str().expect("the new organization is current").to_owned()
}

/// The signed-in user's id.
pub(crate) async fn user_id(app: &TestApp, token: &str) -> String {
    json(app.get_user(token).await).await["id"].as_str().unwrap().to_owned()
}

/// Invites with `body` (merged into `{organizationId}`) as `token`; returns the create response.
pub(crate) async fn invite(app: &TestApp, token: &str, org: &str, body: Value) -> Value {
    let mut req = json!({"organizationId": org});
    req.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
    let res = app.post("/invitation/create", token, &req).await;
    assert_eq!(res.status(), 200, "inviting");
    json(res).await
}

/// Makes `email` a member of `org` with `role` through a fresh invitation; returns their token.
pub(crate) async fn join(app: &TestApp, admin: &str, org: &str, email: &str, role: &str) -> String {
    let created = invite(app, admin, org, json!({"role": role})).await;
    let token = app.token(email);
    let res = app.post("/invitation/accept", &token, &json!({"token": created["token"]})).await;
    assert_eq!(res.status(), 200, "{email} joining");
    token
}

on_both_databases! {
    async fn creating_an_organization_makes_the_caller_its_admin_and_switches_to_it(app: TestApp) {
        let ada = app.token("ada@example.com");
        let res = app.post("/organization/create", &ada, &json!({"name": "  Ecole Sainte-Anne  "})).await;
        assert_eq!(res.status(), 200);
        let user = json(res).await;
        let org = user["currentOrganizationId"].as_str().unwrap();
        assert_eq!(
            user["organizationMemberships"],
            json!([{"organization": {"id": org, "name": "Ecole Sainte-Anne", "logoUrl": null}, "role": "admin", "status": "active"}])
        );
        let got = json(app.post("/organization/get", &ada, &json!({"organizationId": org})).await).await;
        assert_eq!(got["name"], "Ecole Sainte-Anne");
        assert!(got["slug"].as_str().unwrap().starts_with("ecole-sainte-anne-"));
        assert_eq!(got["zones"], json!([]));
        assert_eq!(got["createdBy"], user["id"]);

        assert_problem(app.post("/organization/create", &ada, &json!({"name": "x"})).await, 422, "request.validation").await;
        assert_problem(app.post("/organization/create", &ada, &json!({"name": "Ok", "slug": "s"})).await, 422, "request.validation").await;
        assert_problem(app.request(reqwest::Method::POST, "/organization/create", None, Some(&json!({"name": "Acme"}))).await, 401, "auth.missing_token").await;
    }

    async fn switching_needs_an_active_membership(app: TestApp) {
        let ada = app.token("ada@example.com");
        let first = create_org(&app, &ada, "First").await;
        let second = create_org(&app, &ada, "Second").await;
        let user = json(app.post("/organization/switch", &ada, &json!({"organizationId": first})).await).await;
        assert_eq!(user["currentOrganizationId"], first.as_str());
        assert_eq!(user["organizationMemberships"].as_array().unwrap().len(), 2);
        let bob = app.token("bob@example.com");
        assert_problem(app.post("/organization/switch", &bob, &json!({"organizationId": second})).await, 403, "organization.not_member").await;
        assert_problem(app.post("/organization/switch", &bob, &json!({"organizationId": "not-a-uuid"})).await, 422, "request.validation").await;
    }

    async fn only_members_read_and_only_admins_change_an_organization(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let outsider = app.token("eve@example.com");
        assert_problem(app.post("/organization/get", &outsider, &json!({"organizationId": org})).await, 403, "organization.not_member").await;
        let guest = join(&app, &ada, &org, "gus@example.com", "guest").await;
        let got = app.post("/organization/get", &guest, &json!({"organizationId": org})).await;
        assert_eq!(got.status(), 200);
        assert_problem(app.post("/organization/update", &guest, &json!({"organizationId": org, "name": "Mine"})).await, 403, "organization.forbidden").await;
        let updated = json(app.post("/organization/update", &ada, &json!({"organizationId": org, "name": "Acme Inc"})).await).await;
        assert_eq!(updated["name"], "Acme Inc");
        let user = json(app.get_user(&guest).await).await;
        assert_eq!(user["organizationMemberships"][0]["organization"]["name"], "Acme Inc");

        // Zones: admins create, guests list, names are unique per organization.
        let zone = json(app.post("/organization/zones/create", &ada, &json!({"organizationId": org, "name": "North"})).await).await;
        assert_eq!(zone["name"], "North");
        assert_problem(app.post("/organization/zones/create", &ada, &json!({"organizationId": org, "name": "North"})).await, 409, "organization.zone_name_taken").await;
        assert_problem(app.post("/organization/zones/create", &guest, &json!({"organizationId": org, "name": "South"})).await, 403, "organization.forbidden").await;
        let zones = json(app.post("/organization/zones/list", &guest, &json!({"organizationId": org})).await).await;
        assert_eq!(zones["zones"][0]["id"], zone["id"]);
        let got = json(app.post("/organization/get", &guest, &json!({"organizationId": org})).await).await;
        assert_eq!(got["zones"][0]["name"], "North");
    }

    async fn the_members_list_searches_a_prefix_of_name_or_email(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        join(&app, &ada, &org, "grace@navy.example", "member").await;
        join(&app, &ada, &org, "gregory@film.example", "moderator").await;
        join(&app, &ada, &org, "100%_sure@example.com", "guest").await;
        let search = async |body: Value| {
            let mut req = json!({"organizationId": org});
            req.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
            app.post("/organization/members/list", &ada, &req).await
        };
        let emails = |page: Value| {
            let mut found: Vec<String> = page["members"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap().to_owned()).collect();
            found.sort();
            found
        };
        assert_eq!(emails(json(search(json!({"search": "gr"})).await).await), ["grace@navy.example", "gregory@film.example"]);
        assert_eq!(emails(json(search(json!({"search": " GRACE@ "})).await).await), ["grace@navy.example"]);
        assert_eq!(emails(json(search(json!({"search": "gr", "role": "moderator"})).await).await), ["gregory@film.example"]);
        assert_eq!(emails(json(search(json!({"search": "100%_"})).await).await), ["100%_sure@example.com"]);
        assert!(emails(json(search(json!({"search": "1__"})).await).await).is_empty(), "`_` is a character, not a wildcard");
        assert!(emails(json(search(json!({"search": "zz"})).await).await).is_empty());
        for bad in [json!(""), json!("   "), json!("a\u{0}b"), json!("x".repeat(101)), json!(7)] {
            let res = search(json!({"search": bad})).await;
            assert_eq!(res.status(), 422, "{bad}");
            assert!(json(res).await["errors"]["/search"].is_array(), "the problem names /search: {bad}");
        }
    }

    async fn members_are_listed_promoted_removed_and_remembered(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let mod_token = join(&app, &ada, &org, "mod@example.com", "moderator").await;
        let mem = join(&app, &ada, &org, "mem@example.com", "member").await;
        let mem_id = user_id(&app, &mem).await;
        let mod_id = user_id(&app, &mod_token).await;
        let ada_id = user_id(&app, &ada).await;

        let list = json(app.post("/organization/members/list", &mod_token, &json!({"organizationId": org})).await).await;
        assert_eq!(list["members"].as_array().unwrap().len(), 3);
        let mods = json(app.post("/organization/members/list", &ada, &json!({"organizationId": org, "role": "moderator"})).await).await;
        assert_eq!(mods["members"][0]["email"], "mod@example.com");
        assert_eq!(mods["members"].as_array().unwrap().len(), 1);
        assert_problem(app.post("/organization/members/list", &mem, &json!({"organizationId": org})).await, 403, "organization.forbidden").await;
        assert_problem(app.post("/organization/members/list", &ada, &json!({"organizationId": org, "role": "owner"})).await, 422, "request.validation").await;

        // Role changes: admins only; the last admin cannot be demoted.
        assert_problem(app.post("/organization/members/update-role", &mod_token, &json!({"organizationId": org, "userId": mem_id, "role": "guest"})).await, 403, "organization.forbidden").await;
        assert_problem(app.post("/organization/members/update-role", &ada, &json!({"organizationId": org, "userId": ada_id, "role": "member"})).await, 409, "organization.last_admin").await;
        assert_problem(app.post("/organization/members/update-role", &ada, &json!({"organizationId": org, "userId": "abc", "role": "member"})).await, 422, "request.validation").await;
        assert_problem(app.post("/organization/members/update-role", &ada, &json!({"organizationId": org, "userId": "999999", "role": "member"})).await, 404, "organization.member_not_found").await;
        let changed = json(app.post("/organization/members/update-role", &ada, &json!({"organizationId": org, "userId": mem_id, "role": "guest"})).await).await;
        assert_eq!(changed["role"], "guest");

        // Moderators remove guests and members only.
        assert_problem(app.post("/organization/members/remove", &mod_token, &json!({"organizationId": org, "userId": ada_id})).await, 403, "organization.role_not_allowed").await;
        let removed = json(app.post("/organization/members/remove", &mod_token, &json!({"organizationId": org, "userId": mem_id})).await).await;
        assert_eq!((removed["status"].as_str(), removed["endReason"].as_str()), (Some("inactive"), Some("removed")));
        assert_problem(app.post("/organization/get", &mem, &json!({"organizationId": org})).await, 403, "organization.not_member").await;
        let user = json(app.get_user(&mem).await).await;
        assert_eq!(user["currentOrganizationId"], Value::Null);
        assert_eq!(user["organizationMemberships"][0]["status"], "inactive");
        assert_problem(app.post("/organization/members/remove", &ada, &json!({"organizationId": org, "userId": mem_id})).await, 404, "organization.member_not_found").await;

        // History: every version with its cause, admins only.
        let history = json(app.post("/organization/members/history", &ada, &json!({"organizationId": org, "userId": mem_id})).await).await;
        let causes: Vec<&str> = history["history"].as_array().unwrap().iter().map(|h| h["cause"].as_str().unwrap()).collect();
        assert_eq!(causes, ["invitation", "role_change", "removed"]);
        assert_eq!(history["history"][1]["changedBy"], ada_id.as_str());
        assert_eq!(history["history"][2]["changedBy"], mod_id.as_str());
        assert_problem(app.post("/organization/members/history", &mod_token, &json!({"organizationId": org, "userId": mem_id})).await, 403, "organization.forbidden").await;
        let inactive = json(app.post("/organization/members/list", &ada, &json!({"organizationId": org, "status": "inactive"})).await).await;
        assert_eq!(inactive["members"].as_array().unwrap().len(), 1);
    }

    async fn members_come_a_page_at_a_time_newest_first(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let link = invite(&app, &ada, &org, json!({"maxUses": 30})).await;
        for i in 0..24 {
            let res = app.post("/invitation/accept", &app.token(&format!("m{i}@example.com")), &json!({"token": link["token"]})).await;
            assert_eq!(res.status(), 200);
        }
        let list = |body: Value| {
            let (app, ada, org) = (&app, &ada, &org);
            async move {
                let mut req = json!({"organizationId": org});
                req.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
                app.post("/organization/members/list", ada, &req).await
            }
        };
        let first = json(list(json!({})).await).await;
        assert_eq!(first["members"].as_array().unwrap().len(), 20, "20 by default");
        let cursor = first["nextCursor"].as_str().expect("a second page").to_owned();
        let second = json(list(json!({"cursor": cursor})).await).await;
        assert_eq!(second["members"].as_array().unwrap().len(), 5, "24 joined, and ada");
        assert_eq!(second["nextCursor"], Value::Null);
        let emails: Vec<&str> = first["members"].as_array().unwrap().iter().chain(second["members"].as_array().unwrap())
            .map(|m| m["email"].as_str().unwrap()).collect();
        assert_eq!(emails.last(), Some(&"ada@example.com"), "newest first: the founder joined first");
        let mut unique = emails.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 25, "no member twice, none missed");
        let whole = json(list(json!({"limit": 100})).await).await;
        assert_eq!(whole["members"].as_array().unwrap().len(), 25);
        assert_eq!(whole["nextCursor"], Value::Null);

        let body = assert_problem(list(json!({"limit": 0})).await, 422, "request.validation").await;
        assert!(body["errors"].get("/limit").is_some(), "{body}");
        assert_problem(list(json!({"limit": 101})).await, 422, "request.validation").await;
        let body = assert_problem(list(json!({"cursor": "not-a-cursor"})).await, 422, "request.validation").await;
        assert!(body["errors"].get("/cursor").is_some(), "{body}");
    }

    async fn the_last_admin_cannot_leave_and_leaving_revokes_ones_invitations(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        assert_problem(app.post("/organization/leave", &ada, &json!({"organizationId": org})).await, 409, "organization.last_admin").await;
        let mod_token = join(&app, &ada, &org, "mod@example.com", "moderator").await;
        let pending = invite(&app, &mod_token, &org, json!({"maxUses": 5})).await;
        let user = json(app.post("/organization/leave", &mod_token, &json!({"organizationId": org})).await).await;
        assert_eq!(user["currentOrganizationId"], Value::Null);
        assert_eq!(user["organizationMemberships"][0]["status"], "inactive");
        let listed = json(app.post("/invitation/list", &ada, &json!({"organizationId": org, "status": "revoked"})).await).await;
        assert_eq!(listed["invitations"][0]["id"], pending["invitation"]["id"]);
        assert_problem(app.post("/organization/leave", &mod_token, &json!({"organizationId": org})).await, 403, "organization.not_member").await;
        // A second admin makes leaving possible.
        let second = join(&app, &ada, &org, "root@example.com", "admin").await;
        let user = json(app.post("/organization/leave", &ada, &json!({"organizationId": org})).await).await;
        assert_eq!(user["organizationMemberships"][0]["status"], "inactive");
        let second_id = user_id(&app, &second).await;
        assert_problem(app.post("/organization/members/update-role", &second, &json!({"organizationId": org, "userId": second_id, "role": "member"})).await, 409, "organization.last_admin").await;
    }
}

/// Two concurrent role changes of one member both land, each with its history row.
// PostgreSQL only: races concurrent writers, which SQLite already serialises (`BEGIN IMMEDIATE`).
#[tokio::test]
async fn concurrent_role_changes_keep_both_history_rows_on_postgres() {
    let app = TestApp::spawn(test_support::app::Backend::Postgres).await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    let mem = join(&app, &ada, &org, "mem@example.com", "member").await;
    let mem_id = user_id(&app, &mem).await;
    let body = |role: &str| json!({"organizationId": org, "userId": mem_id, "role": role});
    let (a, b) = futures_util::future::join(
        app.post("/organization/members/update-role", &ada, &body("moderator")),
        app.post("/organization/members/update-role", &ada, &body("guest")),
    )
    .await;
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let history =
        json(app.post("/organization/members/history", &ada, &json!({"organizationId": org, "userId": mem_id})).await)
            .await;
    let rows = history["history"].as_array().unwrap();
    let causes: Vec<&str> = rows.iter().map(|h| h["cause"].as_str().unwrap()).collect();
    assert_eq!(causes, ["invitation", "role_change", "role_change"]);
    let mut roles: Vec<&str> = rows[1..].iter().map(|h| h["role"].as_str().unwrap()).collect();
    roles.sort_unstable();
    assert_eq!(roles, ["guest", "moderator"]);
    assert!(rows[1]["validTo"].is_string() && rows[2]["validTo"].is_null(), "versions chain: {rows:?}");
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0xDA, 0x63, 0x64, 0x60, 0xF8, 0x5F, 0x0F, 0x00, 0x02, 0x87, 0x01, 0x80, 0xEB, 0x47, 0xBA,
    0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

on_both_databases! {
    async fn the_logo_is_uploaded_with_the_avatar_pattern_by_admins_only(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let member = join(&app, &ada, &org, "mem@example.com", "member").await;
        let body = json!({"organizationId": org, "contentType": "image/png"});
        assert_problem(app.post("/organization/logo/upload-ticket", &member, &body).await, 403, "organization.forbidden").await;
        assert_problem(app.post("/organization/logo/upload-ticket", &ada, &json!({"organizationId": org, "contentType": "image/gif"})).await, 415, "upload.unsupported_type").await;
        let ticket = json(app.post("/organization/logo/upload-ticket", &ada, &body).await).await;
        let tmp_key = ticket["tmpKey"].as_str().unwrap();
        assert!(tmp_key.starts_with(&format!("tmp/logos/{org}/")), "{tmp_key}");
        let put = app.client.put(ticket["uploadUrl"].as_str().unwrap()).header("content-type", "image/png").body(PNG.to_vec()).send().await.unwrap();
        assert!(put.status().is_success());
        assert_problem(app.post("/organization/logo/finalize", &member, &json!({"organizationId": org, "tmpKey": tmp_key})).await, 403, "organization.forbidden").await;
        let done = json(app.post("/organization/logo/finalize", &ada, &json!({"organizationId": org, "tmpKey": tmp_key})).await).await;
        let logo_url = done["logoUrl"].as_str().unwrap().to_owned();
        assert!(logo_url.contains(&format!("logos/{org}/")) && !logo_url.contains("tmp/"), "{logo_url}");
        let served = app.client.get(&logo_url).send().await.unwrap();
        assert_eq!(served.bytes().await.unwrap().to_vec(), PNG);
        assert_problem(app.post("/organization/logo/finalize", &ada, &json!({"organizationId": org, "tmpKey": tmp_key})).await, 409, "upload.ticket_invalid").await;
        let user = json(app.get_user(&member).await).await;
        assert_eq!(user["organizationMemberships"][0]["organization"]["logoUrl"], logo_url.as_str());
        // The avatar's tries are not the logo's.
        assert_eq!(json(app.get_user(&ada).await).await["avatarUploadTriesRemaining"], 5);

        let removed = app.post("/organization/logo/remove", &ada, &json!({"organizationId": org})).await;
        assert_eq!(removed.status(), 204);
        let got = json(app.post("/organization/get", &ada, &json!({"organizationId": org})).await).await;
        assert_eq!(got["logoUrl"], Value::Null);
        assert_eq!(app.client.get(&logo_url).send().await.unwrap().status(), 404, "the old object is deleted");
    }
}

/// The background sweeper ends a lapsed time-bound membership with a history row, once.
async fn the_sweeper_ends_lapsed_memberships_with_a_history_row(backend: test_support::Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    let created = invite(&app, &ada, &org, json!({"role": "guest", "membershipDurationSeconds": 60})).await;
    let gus = app.token("gus@example.com");
    assert_eq!(app.post("/invitation/accept", &gus, &json!({"token": created["token"]})).await.status(), 200);
    let gus_id = user_id(&app, &gus).await;
    let body = json!({"organizationId": org, "userId": gus_id});
    assert_eq!(app.run_jobs().await.memberships_ended, 0, "not yet due");
    app.clock.advance(time::Duration::minutes(2));
    assert_eq!(app.run_jobs().await.memberships_ended, 1);
    assert_eq!(app.run_jobs().await.memberships_ended, 0, "ended once");
    let history = json(app.post("/organization/members/history", &ada, &body).await).await;
    let rows = history["history"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[1]["cause"].as_str(), rows[1]["status"].as_str()), (Some("expired"), Some("inactive")));
    assert_eq!(rows[1]["changedBy"], Value::Null);
    assert_eq!(rows[1]["validFrom"], rows[0]["expiresAt"], "it ended when it expired, not when the sweeper ran");
    let ended =
        json(app.post("/organization/members/list", &ada, &json!({"organizationId": org, "status": "inactive"})).await)
            .await;
    assert_eq!(ended["members"][0]["endReason"], "expired");
}

mod the_sweeper_ends_lapsed_memberships_with_a_history_row {
    #[tokio::test]
    async fn sqlite() {
        super::the_sweeper_ends_lapsed_memberships_with_a_history_row(test_support::Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::the_sweeper_ends_lapsed_memberships_with_a_history_row(test_support::Backend::Postgres).await;
    }
}
