//! The membership rules, each tried as the attacker or the careful admin
//! who found the hole would try it, on SQLite and on PostgreSQL. The races
//! run on PostgreSQL with real concurrency (`races`).

use crate::invitations::import_service;
use crate::organizations::{create_org, invite, join, user_id};
use reqwest::Method;
use serde_json::{Value, json};
use test_support::app::{Backend, TestApp};
use test_support::{assert_problem, json, on_both_databases, tokens};
use time::Duration;

/// A token for `email` from another identity-provider subject, with the
/// e-mail verified or not: a second account sharing an address.
fn account(sub: &str, email: &str, verified: bool) -> String {
    let mut claims = tokens::claims(email);
    claims["sub"] = json!(sub);
    claims["email_verified"] = json!(verified);
    tokens::hs256(tokens::HS256_SECRET, &claims)
}

async fn org_get(app: &TestApp, token: &str, org: &str) -> reqwest::Response {
    app.post("/organization/get", token, &json!({"organizationId": org})).await
}

/// The caller's own membership of `org`, as `/organization/get` shows it.
async fn my_membership(app: &TestApp, token: &str, org: &str) -> Value {
    let res = org_get(app, token, org).await;
    assert_eq!(res.status(), 200, "reading my membership");
    json(res).await["membership"].clone()
}

async fn accept(app: &TestApp, token: &str, invitation_token: &Value) -> reqwest::Response {
    app.post("/invitation/accept", token, &json!({"token": invitation_token})).await
}

async fn zone(app: &TestApp, admin: &str, org: &str, name: &str) -> String {
    let res = app.post("/organization/zones/create", admin, &json!({"organizationId": org, "name": name})).await;
    assert_eq!(res.status(), 200, "creating zone {name}");
    json(res).await["id"].as_str().unwrap().to_owned()
}

async fn history(app: &TestApp, admin: &str, org: &str, user: &str) -> Vec<Value> {
    let body = json!({"organizationId": org, "userId": user});
    json(app.post("/organization/members/history", admin, &body).await).await["history"].as_array().unwrap().clone()
}

async fn acceptances(app: &TestApp, admin: &str, invitation: &Value) -> Vec<Value> {
    let res = app.post("/invitation/acceptances", admin, &json!({"invitationId": invitation})).await;
    json(res).await["acceptances"].as_array().unwrap().clone()
}

on_both_databases! {
    async fn an_import_never_gives_a_role_to_an_unverified_email(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Fio School").await;
        // Mallory's identity provider says her address is the victim's, unverified.
        let mallory = account("evil|victim", "victim@example.com", false);
        let mallory_id = user_id(&app, &mallory).await;
        let file = "{\"organization\": \"Fio School\", \"email\": \"victim@example.com\", \"role\": \"admin\", \"joinedAt\": \"2024-01-02T03:04:05Z\"}\n";
        let lines = usher_api::cli::parse_import(file).unwrap();
        let (_, invitations) = import_service(&app).await;
        let reports = invitations.import(&lines, &organizations::OsTokenGenerator).await.unwrap();
        let mallory_uid = shared_kernel::UserId::new(mallory_id.parse().unwrap());
        assert_eq!(reports[0].outcome, organizations::ImportOutcome::Invited(organizations::Pending::Unverified(vec![mallory_uid])));
        assert_eq!(app.run_jobs().await.imports_applied, 0);
        assert_problem(org_get(&app, &mallory, &org).await, 403, "organization.not_member").await;
        // The real owner of the address signs in with it verified: the import applies to them only.
        let victim = account("idp|victim", "victim@example.com", true);
        assert_eq!(app.get_user(&victim).await.status(), 200, "the first sign-in");
        assert_eq!(app.run_jobs().await.imports_applied, 1);
        assert_eq!(my_membership(&app, &victim, &org).await["role"], "admin");
        assert_problem(org_get(&app, &mallory, &org).await, 403, "organization.not_member").await;
    }

    async fn a_link_never_grants_more_than_its_creator_holds_in_time(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let hired = invite(&app, &ada, &org, json!({"role": "moderator", "membershipDurationSeconds": 3600})).await;
        let moderator = app.token("mod@example.com");
        assert_eq!(accept(&app, &moderator, &hired["token"]).await.status(), 200);
        let until = my_membership(&app, &moderator, &org).await["expiresAt"].clone();
        assert!(until.is_string());

        // An open-ended link of a time-bound moderator grants access ending with theirs.
        let open = invite(&app, &moderator, &org, json!({"role": "member", "maxUses": 5})).await;
        let bob = app.token("bob@example.com");
        assert_eq!(accept(&app, &bob, &open["token"]).await.status(), 200);
        assert_eq!(my_membership(&app, &bob, &org).await["expiresAt"], until, "cut to the creator's end");
        let long = invite(&app, &moderator, &org, json!({"role": "guest", "membershipDurationSeconds": 2_592_000})).await;
        let cy = app.token("cy@example.com");
        assert_eq!(accept(&app, &cy, &long["token"]).await.status(), 200);
        assert_eq!(my_membership(&app, &cy, &org).await["expiresAt"], until);

        // Nor can the moderator make themselves permanent with their own link.
        assert_problem(accept(&app, &moderator, &open["token"]).await, 409, "invitation.already_member").await;
        assert_eq!(my_membership(&app, &moderator, &org).await["expiresAt"], until);
        // A time-bound admin may not make a membership permanent either.
        let temp_admin = invite(&app, &ada, &org, json!({"role": "admin", "membershipDurationSeconds": 7200})).await;
        let tad = app.token("tad@example.com");
        assert_eq!(accept(&app, &tad, &temp_admin["token"]).await.status(), 200);
        let body = json!({"organizationId": org, "userId": user_id(&app, &bob).await, "expiresAt": null});
        assert_problem(app.post("/organization/members/update", &tad, &body).await, 403, "organization.beyond_own_term").await;
        // A permanent admin's link makes a time-bound member permanent: she could grant that.
        let permanent = invite(&app, &ada, &org, json!({"role": "member"})).await;
        assert_eq!(accept(&app, &cy, &permanent["token"]).await.status(), 200);
        assert_eq!(my_membership(&app, &cy, &org).await["expiresAt"], Value::Null);
    }

    async fn revoking_an_imported_invitation_stops_it(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Fio School").await;
        let file = "{\"organization\": \"Fio School\", \"email\": \"new@example.com\", \"role\": \"member\", \"joinedAt\": \"2024-01-02T03:04:05Z\"}\n";
        let (_, invitations) = import_service(&app).await;
        invitations.import(&usher_api::cli::parse_import(file).unwrap(), &organizations::OsTokenGenerator).await.unwrap();
        let listed = json(app.post("/invitation/list", &ada, &json!({"organizationId": org, "status": "pending"})).await).await;
        let imported = listed["invitations"][0]["id"].clone();
        assert_eq!(listed["invitations"][0]["email"], "new@example.com");
        assert_eq!(app.post("/invitation/revoke", &ada, &json!({"invitationId": imported})).await.status(), 200);
        let newcomer = app.token("new@example.com");
        assert_eq!(app.run_jobs().await.imports_applied, 0);
        assert_problem(org_get(&app, &newcomer, &org).await, 403, "organization.not_member").await;
    }

    async fn zone_scope_is_enforced(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let (north, south) = (zone(&app, &ada, &org, "North").await, zone(&app, &ada, &org, "South").await);
        let hired = invite(&app, &ada, &org, json!({"role": "moderator", "zoneId": north})).await;
        let moderator = app.token("mod@example.com");
        assert_eq!(accept(&app, &moderator, &hired["token"]).await.status(), 200);
        let you_may = json(org_get(&app, &moderator, &org).await).await["youMay"].clone();
        assert_eq!((you_may["zones"].clone(), you_may["grantRoles"].clone()), (json!([north]), json!(["guest", "member"])));

        // Invites only to North.
        let to_north = invite(&app, &moderator, &org, json!({"zoneId": north, "maxUses": 5})).await;
        let body = |extra: Value| {
            let mut b = json!({"organizationId": org});
            b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            b
        };
        assert_problem(app.post("/invitation/create", &moderator, &body(json!({"zoneId": south}))).await, 403, "organization.out_of_scope").await;
        assert_problem(app.post("/invitation/create", &moderator, &body(json!({}))).await, 403, "organization.out_of_scope").await;

        let n1 = app.token("n1@example.com");
        assert_eq!(accept(&app, &n1, &to_north["token"]).await.status(), 200);
        let to_south = invite(&app, &ada, &org, json!({"zoneId": south, "maxUses": 5})).await;
        let s1 = app.token("s1@example.com");
        assert_eq!(accept(&app, &s1, &to_south["token"]).await.status(), 200);
        let w1 = join(&app, &ada, &org, "w1@example.com", "member").await;

        // Lists and manages only North's members.
        let listed = json(app.post("/organization/members/list", &moderator, &json!({"organizationId": org})).await).await;
        let mut emails: Vec<&str> = listed["members"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap()).collect();
        emails.sort_unstable();
        assert_eq!(emails, ["mod@example.com", "n1@example.com"]);
        for outsider in [&s1, &w1] {
            let body = json!({"organizationId": org, "userId": user_id(&app, outsider).await});
            assert_problem(app.post("/organization/members/remove", &moderator, &body).await, 403, "organization.out_of_scope").await;
        }
        assert_problem(app.post("/invitation/revoke", &moderator, &json!({"invitationId": to_south["invitation"]["id"]})).await, 403, "organization.out_of_scope").await;
        let invitations = json(app.post("/invitation/list", &moderator, &json!({"organizationId": org})).await).await;
        assert!(invitations["invitations"].as_array().unwrap().iter().all(|i| i["zoneId"] == north.as_str()), "{invitations}");
        let body = json!({"organizationId": org, "userId": user_id(&app, &n1).await});
        assert_eq!(app.post("/organization/members/remove", &moderator, &body).await.status(), 200);

        // Admins act organization-wide.
        let everyone = json(app.post("/organization/members/list", &ada, &json!({"organizationId": org, "status": "active"})).await).await;
        assert_eq!(everyone["members"].as_array().unwrap().len(), 4);
    }

    async fn an_organization_always_keeps_an_active_permanent_admin(app: TestApp) {
        let ada = app.token("ada@example.com");
        let ada_id = user_id(&app, &ada).await;
        let org = create_org(&app, &ada, "Acme").await;
        let temp = invite(&app, &ada, &org, json!({"role": "admin", "membershipDurationSeconds": 3600})).await;
        let tad = app.token("tad@example.com");
        assert_eq!(accept(&app, &tad, &temp["token"]).await.status(), 200);
        let tad_id = user_id(&app, &tad).await;

        // A time-bound admin does not count.
        assert_problem(app.post("/organization/leave", &ada, &json!({"organizationId": org})).await, 409, "organization.last_admin").await;
        let demote = json!({"organizationId": org, "userId": ada_id, "role": "member"});
        assert_problem(app.post("/organization/members/update-role", &tad, &demote).await, 409, "organization.last_admin").await;
        let bound = json!({"organizationId": org, "userId": ada_id, "expiresAt": "2999-01-01T00:00:00Z"});
        assert_problem(app.post("/organization/members/update", &ada, &bound).await, 409, "organization.last_admin").await;
        assert_eq!(my_membership(&app, &ada, &org).await["role"], "admin", "nothing was written");

        // Made permanent, Tad counts: Ada may go.
        let permanent = json!({"organizationId": org, "userId": tad_id, "expiresAt": null});
        let updated = json(app.post("/organization/members/update", &ada, &permanent).await).await;
        assert_eq!(updated["expiresAt"], Value::Null);
        assert_eq!(app.post("/organization/leave", &ada, &json!({"organizationId": org})).await.status(), 200);
    }

    async fn a_lapsed_member_rejoins_at_once(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let visit = invite(&app, &ada, &org, json!({"role": "guest", "membershipDurationSeconds": 60})).await;
        let gus = app.token("gus@example.com");
        assert_eq!(accept(&app, &gus, &visit["token"]).await.status(), 200);
        app.clock.advance(Duration::minutes(2));
        // Before any sweep, a new link admits Gus at once.
        let again = invite(&app, &ada, &org, json!({"role": "member"})).await;
        let res = accept(&app, &gus, &again["token"]).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
        let mine = my_membership(&app, &gus, &org).await;
        assert_eq!((mine["role"].as_str(), mine["status"].as_str(), mine["expiresAt"].clone()), (Some("member"), Some("active"), Value::Null));
        let log = acceptances(&app, &ada, &again["invitation"]["id"]).await;
        assert_eq!(log[0]["outcome"], "accepted", "the attempt is logged");
        let causes: Vec<String> = history(&app, &ada, &org, &user_id(&app, &gus).await).await.iter()
            .map(|h| format!("{}:{}", h["cause"].as_str().unwrap(), h["status"].as_str().unwrap())).collect();
        assert_eq!(causes, ["invitation:active", "expired:inactive", "invitation:active"]);
        assert_eq!(app.run_jobs().await.memberships_ended, 0, "nothing left for the sweeper");
    }

    async fn removal_can_be_sticky(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let moderator = join(&app, &ada, &org, "mod@example.com", "moderator").await;
        let bob = join(&app, &ada, &org, "bob@example.com", "member").await;
        let bob_id = user_id(&app, &bob).await;
        let body = json!({"organizationId": org, "userId": bob_id, "block": true});
        assert_eq!(app.post("/organization/members/remove", &moderator, &body).await.status(), 200);
        let link = invite(&app, &ada, &org, json!({"maxUses": 5})).await;
        assert_problem(accept(&app, &bob, &link["token"]).await, 403, "invitation.blocked").await;
        let log = acceptances(&app, &ada, &link["invitation"]["id"]).await;
        assert_eq!((log[0]["outcome"].as_str(), log[0]["reason"].as_str()), (Some("failed"), Some("blocked")));
        let blocks = json(app.post("/organization/blocks/list", &moderator, &json!({"organizationId": org})).await).await;
        assert_eq!(blocks["blocks"][0]["userId"], bob_id.as_str());
        let unblock = json!({"organizationId": org, "userId": bob_id});
        assert_problem(app.post("/organization/members/unblock", &moderator, &unblock).await, 403, "organization.forbidden").await;
        assert_eq!(app.post("/organization/members/unblock", &ada, &unblock).await.status(), 204);
        assert_problem(app.post("/organization/members/unblock", &ada, &unblock).await, 404, "organization.member_not_found").await;
        assert_eq!(accept(&app, &bob, &link["token"]).await.status(), 200);
        // Without `block`, a removed member may come back by any link.
        let body = json!({"organizationId": org, "userId": bob_id});
        assert_eq!(app.post("/organization/members/remove", &ada, &body).await.status(), 200);
        assert_eq!(accept(&app, &bob, &link["token"]).await.status(), 200);
    }

    async fn outsiders_learn_nothing_by_id(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let for_bob = invite(&app, &ada, &org, json!({"email": "bob@example.com"})).await;
        let id = &for_bob["invitation"]["id"];
        let eve = app.token("eve@example.com");
        let unknown = json!("0196f5a0-0000-7000-8000-000000000000");
        for path in ["/invitation/accept", "/invitation/reject"] {
            let theirs = assert_problem(app.post(path, &eve, &json!({"invitationId": id})).await, 404, "invitation.not_found").await;
            let nobodys = assert_problem(app.post(path, &eve, &json!({"invitationId": unknown})).await, 404, "invitation.not_found").await;
            for field in ["type", "title", "status", "detail", "code"] {
                assert_eq!(theirs[field], nobodys[field], "{path}: {field} tells them apart");
            }
        }
        assert!(acceptances(&app, &ada, id).await.is_empty(), "nothing was written to the organization's log");
        let bob = app.token("bob@example.com");
        assert_eq!(app.post("/invitation/accept", &bob, &json!({"invitationId": id})).await.status(), 200);
    }

    async fn email_bound_invitations_are_single_use_and_bind_to_one_account(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let bob_id = user_id(&app, &app.token("bob@example.com")).await;
        for bound in [json!({"email": "bob@example.com"}), json!({"userId": bob_id})] {
            let mut body = json!({"organizationId": org, "maxUses": 2});
            body.as_object_mut().unwrap().extend(bound.as_object().unwrap().clone());
            let problem = assert_problem(app.post("/invitation/create", &ada, &body).await, 422, "request.validation").await;
            assert!(problem["errors"]["/maxUses"].is_array(), "{problem}");
        }
        // Two accounts share the address, both verified: the first to accept takes it.
        let link = invite(&app, &ada, &org, json!({"email": "shared@example.com"})).await;
        let first = account("idp-a|shared", "shared@example.com", true);
        let second = account("idp-b|shared", "shared@example.com", true);
        assert_eq!(accept(&app, &first, &link["token"]).await.status(), 200);
        assert_problem(accept(&app, &second, &link["token"]).await, 410, "invitation.used_up").await;
        let listed = json(app.post("/invitation/list", &ada, &json!({"organizationId": org, "status": "accepted"})).await).await;
        assert_eq!(listed["invitations"][0]["userId"], user_id(&app, &first).await.as_str(), "bound to its taker");
    }

    async fn addresses_are_parsed_by_an_rfc_parser(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        for bad in ["a..b@example.com", "ada@exa_mple.com", "ada@localhost", "ada@[127.0.0.1]", "ada@\u{212A}orp.example", "a\u{0}@example.com"] {
            let res = app.post("/invitation/create", &ada, &json!({"organizationId": org, "email": bad})).await;
            let problem = assert_problem(res, 422, "request.validation").await;
            assert!(problem["errors"]["/email"].is_array(), "{bad:?}: {problem}");
        }
        let idn = invite(&app, &ada, &org, json!({"email": "Jörg@Bücher.example"})).await;
        assert_eq!(idn["invitation"]["email"], "jörg@xn--bcher-kva.example");
        // The Kelvin sign is not `k`: an identity provider's U+212A address does not match.
        let kevin = invite(&app, &ada, &org, json!({"email": "kevin@corp.example"})).await;
        let impostor = account("idp|kelvin", "\u{212A}evin@corp.example", true);
        assert_problem(accept(&app, &impostor, &kevin["token"]).await, 403, "invitation.email_mismatch").await;
        let mine = json(app.post("/invitation/mine", &impostor, &json!({})).await).await;
        assert_eq!(mine["invitations"], json!([]));
    }

    async fn names_refuse_format_characters_and_zone_names_ignore_case(app: TestApp) {
        let ada = app.token("ada@example.com");
        for bad in ["Acme\u{202E}gnp.exe", "\u{200B}\u{200B}\u{200B}", "\u{3164}\u{3164}", "Ac\u{2066}me"] {
            let res = app.post("/organization/create", &ada, &json!({"name": bad})).await;
            assert_problem(res, 422, "request.validation").await;
            let res = app.post("/user/update", &ada, &json!({"displayName": bad})).await;
            assert_problem(res, 422, "request.validation").await;
        }
        let org = create_org(&app, &ada, "École Normale").await;
        let got = json(org_get(&app, &ada, &org).await).await;
        assert!(got["slug"].as_str().unwrap().starts_with("ecole-normale-"), "{got}");
        zone(&app, &ada, &org, "North").await;
        let twin = app.post("/organization/zones/create", &ada, &json!({"organizationId": org, "name": "  NORTH "})).await;
        assert_problem(twin, 409, "organization.zone_name_taken").await;
    }

    async fn sign_in_never_fails_on_username_collisions(app: TestApp) {
        let mut usernames = std::collections::BTreeSet::new();
        for i in 0..55 {
            let token = app.token(&format!("ada@host{i}.example"));
            let res = app.get_user(&token).await;
            assert_eq!(res.status(), 200, "account {i}");
            usernames.insert(user_id(&app, &token).await);
        }
        assert_eq!(usernames.len(), 55, "55 accounts, none refused");
    }

    async fn invitation_lists_page_and_filter(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let moderator = join(&app, &ada, &org, "mod@example.com", "moderator").await;
        let mut ids = Vec::new();
        for body in [json!({}), json!({"role": "guest"}), json!({"email": "bob@example.com"}), json!({"email": "Bo.b2@example.com"})] {
            ids.push(invite(&app, &ada, &org, body).await["invitation"]["id"].clone());
        }
        for _ in 0..3 {
            ids.push(invite(&app, &moderator, &org, json!({"role": "guest"})).await["invitation"]["id"].clone());
        }
        let revoked = ids[0].clone();
        app.post("/invitation/revoke", &ada, &json!({"invitationId": revoked})).await;
        let list = |extra: Value| {
            let mut b = json!({"organizationId": org});
            b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            let app = &app;
            let ada = ada.clone();
            async move { json(app.post("/invitation/list", &ada, &b).await).await }
        };
        // Pages of three: every invitation once, newest first. (Four joins made four more links.)
        let all = list(json!({"limit": 100})).await;
        let total = all["invitations"].as_array().unwrap().len();
        let mut paged = Vec::new();
        let mut cursor = Value::Null;
        loop {
            let page = list(json!({"limit": 3, "cursor": cursor})).await;
            paged.extend(page["invitations"].as_array().unwrap().iter().map(|i| i["id"].clone()));
            cursor = page["nextCursor"].clone();
            if cursor.is_null() {
                break;
            }
        }
        assert_eq!(paged, all["invitations"].as_array().unwrap().iter().map(|i| i["id"].clone()).collect::<Vec<_>>());
        assert_eq!(paged.len(), total);
        let count = |v: Value| v["invitations"].as_array().unwrap().len();
        assert_eq!(count(list(json!({"status": "revoked"})).await), 1);
        assert_eq!(count(list(json!({"role": "guest"})).await), 4);
        assert_eq!(count(list(json!({"emailPrefix": "BO"})).await), 2);
        assert_eq!(count(list(json!({"createdBy": user_id(&app, &moderator).await})).await), 3);
        let forged = app.post("/invitation/list", &ada, &json!({"organizationId": org, "cursor": "bm90IGEgY3Vyc29y"})).await;
        assert_problem(forged, 422, "request.validation").await;

        // `mine` pages too.
        let bob = app.token("bob@example.com");
        for _ in 0..2 {
            invite(&app, &ada, &org, json!({"email": "bob@example.com"})).await;
        }
        let first = json(app.post("/invitation/mine", &bob, &json!({"limit": 2})).await).await;
        assert_eq!(first["invitations"].as_array().unwrap().len(), 2);
        let rest = json(app.post("/invitation/mine", &bob, &json!({"limit": 2, "cursor": first["nextCursor"]})).await).await;
        assert_eq!((rest["invitations"].as_array().unwrap().len(), rest["nextCursor"].clone()), (1, Value::Null));
        let no_body = app.request(Method::POST, "/invitation/mine", Some(&bob), None).await;
        assert_eq!(json(no_body).await["invitations"].as_array().unwrap().len(), 3, "the body is optional");
    }

    async fn role_claims_in_a_token_gain_nothing(app: TestApp) {
        let mut claims = tokens::claims("mallory@example.com");
        claims["role"] = json!("superuser");
        claims["roles"] = json!(["admin", "superuser"]);
        claims["platformRole"] = json!("superuser");
        claims["is_superuser"] = json!(true);
        let mallory = tokens::hs256(tokens::HS256_SECRET, &claims);
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        let me = user_id(&app, &mallory).await;
        assert_problem(app.request(Method::GET, "/admin/users", Some(&mallory), None).await, 403, "auth.superuser_required").await;
        assert_problem(app.request(Method::GET, "/admin/profiles", Some(&mallory), None).await, 403, "auth.superuser_required").await;
        let appoint = app.post(&format!("/admin/organizations/{org}/admins"), &mallory, &json!({"userId": me})).await;
        assert_problem(appoint, 403, "auth.superuser_required").await;
        assert_problem(org_get(&app, &mallory, &org).await, 403, "organization.not_member").await;
    }

    async fn every_history_row_says_who_and_which_invitation(app: TestApp) {
        let ada = app.token("ada@example.com");
        let ada_id = user_id(&app, &ada).await;
        let org = create_org(&app, &ada, "Acme").await;
        let north = zone(&app, &ada, &org, "North").await;
        let link = invite(&app, &ada, &org, json!({"role": "guest", "membershipDurationSeconds": 86400})).await;
        let bob = app.token("bob@example.com");
        assert_eq!(accept(&app, &bob, &link["token"]).await.status(), 200);
        let bob_id = user_id(&app, &bob).await;
        let update = |extra: Value| {
            let mut b = json!({"organizationId": org, "userId": bob_id});
            b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            b
        };
        for change in [json!({"zoneIds": [north]}), json!({"expiresAt": "2999-01-01T00:00:00Z"}), json!({"role": "member"})] {
            assert_eq!(app.post("/organization/members/update", &ada, &update(change)).await.status(), 200);
        }
        let unchanged = json(app.post("/organization/members/update", &ada, &update(json!({"role": "member"}))).await).await;
        assert_eq!(unchanged["role"], "member", "nothing to change is not an error");
        assert_problem(app.post("/organization/members/update", &ada, &update(json!({"zoneIds": ["0196f5a0-0000-7000-8000-000000000000"]}))).await, 404, "organization.zone_not_found").await;
        let past = app.post("/organization/members/update", &ada, &update(json!({"expiresAt": "2001-01-01T00:00:00Z"}))).await;
        assert!(assert_problem(past, 422, "request.validation").await["errors"]["/expiresAt"].is_array());
        assert_eq!(app.post("/organization/members/remove", &ada, &update(json!({}))).await.status(), 200);
        let rows = history(&app, &ada, &org, &bob_id).await;
        let seen: Vec<(String, Value, Value)> = rows.iter()
            .map(|h| (h["cause"].as_str().unwrap().to_owned(), h["changedBy"].clone(), h["invitationId"].clone())).collect();
        let (by_bob, by_ada) = (json!(bob_id), json!(ada_id));
        assert_eq!(seen, [
            ("invitation".to_owned(), by_bob, link["invitation"]["id"].clone()),
            ("zone_change".to_owned(), by_ada.clone(), Value::Null),
            ("expiry_change".to_owned(), by_ada.clone(), Value::Null),
            ("role_change".to_owned(), by_ada.clone(), Value::Null),
            ("removed".to_owned(), by_ada, Value::Null),
        ]);
        assert_eq!(rows[1]["zones"], json!([north]));
    }

    async fn revoked_invitations_are_never_mailed_and_the_log_mailer_counts_nothing(app: TestApp) {
        let ada = app.token("ada@example.com");
        let org = create_org(&app, &ada, "Acme").await;
        invite(&app, &ada, &org, json!({"email": "bob@example.com"})).await;
        let revoked = invite(&app, &ada, &org, json!({"email": "cy@example.com"})).await;
        app.post("/invitation/revoke", &ada, &json!({"invitationId": revoked["invitation"]["id"]})).await;
        // No SMTP server: the log-only notifier sends nothing and says so.
        assert_eq!(app.run_jobs().await.mails_sent, 0);
        let closed = outbox(&app).await;
        assert_eq!(closed.len(), 2, "both mails are closed, none left to retry");
        assert!(closed.iter().any(|(to, why)| to == "bob@example.com" && why.starts_with("not sent")), "{closed:?}");
        assert!(closed.iter().any(|(to, why)| to == "cy@example.com" && why.contains("revoked")), "{closed:?}");
    }
}

/// `(recipient, last_error)` of every closed outbox mail.
async fn outbox(app: &TestApp) -> Vec<(String, String)> {
    use sea_orm::ConnectionTrait as _;
    let conn = sea_orm::Database::connect(app.settings.database_url()).await.unwrap();
    let backend = conn.get_database_backend();
    let sql = "SELECT recipient, last_error FROM invitation_outbox WHERE abandoned_at IS NOT NULL AND sent_at IS NULL";
    let rows = conn.query_all_raw(sea_orm::Statement::from_string(backend, sql)).await.unwrap();
    let out = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "recipient").unwrap(),
                r.try_get::<Option<String>>("", "last_error").unwrap().unwrap_or_default(),
            )
        })
        .collect();
    conn.close().await.unwrap();
    out
}

/// Quotas count in the database: refusals are 429 with `Retry-After` and
/// `quota.<name>`, and a stepped clock frees them.
async fn quotas_are_enforced_with_retry_after(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.quotas.organizations_per_user_per_day = 2;
        s.quotas.emails_per_organization_per_hour = 2;
        s.quotas.emails_per_recipient_per_day = 1;
        s.quotas.pending_invitations_per_organization = 3;
    })
    .await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "One").await;
    create_org(&app, &ada, "Two").await;
    let res = app.post("/organization/create", &ada, &json!({"name": "Three"})).await;
    let wait: i64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((86_000..=86_400).contains(&wait), "{wait}");
    assert_problem(res, 429, "quota.organizations_per_user_per_day").await;
    app.clock.advance(Duration::days(1));
    create_org(&app, &ada, "Three").await;

    let create = |body: Value| {
        let mut b = json!({"organizationId": org});
        b.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
        b
    };
    invite(&app, &ada, &org, json!({"email": "a@example.com"})).await;
    let again = app.post("/invitation/create", &ada, &create(json!({"email": "a@example.com"}))).await;
    assert_problem(again, 429, "quota.emails_per_recipient_per_day").await;
    invite(&app, &ada, &org, json!({"email": "b@example.com"})).await;
    let third = app.post("/invitation/create", &ada, &create(json!({"email": "c@example.com"}))).await;
    assert!(third.headers().contains_key("retry-after"));
    assert_problem(third, 429, "quota.emails_per_organization_per_hour").await;
    invite(&app, &ada, &org, json!({})).await;
    let fourth = app.post("/invitation/create", &ada, &create(json!({}))).await;
    assert_problem(fourth, 429, "quota.pending_invitations_per_organization").await;
}

mod quotas_are_enforced_with_retry_after {
    #[tokio::test]
    async fn sqlite() {
        super::quotas_are_enforced_with_retry_after(super::Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::quotas_are_enforced_with_retry_after(super::Backend::Postgres).await;
    }
}

/// A superuser appoints a permanent admin of any organization, so none is
/// ever left unmanageable; the appointment is in the history.
async fn a_superuser_appoints_an_admin(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.auth.bootstrap_superusers = usher_api::settings::Parsed::new(vec!["root@example.com".into()]).unwrap()
    })
    .await;
    let root = app.token("root@example.com");
    let root_id = user_id(&app, &root).await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    let bob = app.token("bob@example.com");
    let bob_id = user_id(&app, &bob).await;
    let path = format!("/admin/organizations/{org}/admins");
    let appointed = json(app.post(&path, &root, &json!({"userId": bob_id})).await).await;
    assert_eq!((appointed["role"].as_str(), appointed["expiresAt"].clone()), (Some("admin"), Value::Null));
    let rows = history(&app, &ada, &org, &bob_id).await;
    assert_eq!((rows[0]["cause"].as_str(), rows[0]["changedBy"].as_str()), (Some("appointed"), Some(root_id.as_str())));
    // Appointing again changes nothing; unknown ids are 404.
    assert_eq!(app.post(&path, &root, &json!({"userId": bob_id})).await.status(), 200);
    assert_eq!(history(&app, &ada, &org, &bob_id).await.len(), 1);
    assert_problem(app.post(&path, &root, &json!({"userId": "987654321"})).await, 404, "user.not_found").await;
    let nowhere = "/admin/organizations/0196f5a0-0000-7000-8000-000000000000/admins";
    assert_problem(app.post(nowhere, &root, &json!({"userId": bob_id})).await, 404, "organization.not_found").await;
    // With Bob a permanent admin, Ada may leave.
    assert_eq!(app.post("/organization/leave", &ada, &json!({"organizationId": org})).await.status(), 200);
}

mod a_superuser_appoints_an_admin {
    #[tokio::test]
    async fn sqlite() {
        super::a_superuser_appoints_an_admin(super::Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::a_superuser_appoints_an_admin(super::Backend::Postgres).await;
    }
}

/// A revoked invitation is never mailed, through a real SMTP server on loopback.
async fn a_revoked_invitation_is_never_mailed(backend: Backend) {
    let sink = adapter_smtp::sink::SmtpSink::start().await.unwrap();
    let url = sink.url();
    let app = TestApp::spawn_with(backend, |s| s.smtp.url = Some(usher_api::settings::Secret::new(&url))).await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    let revoked = invite(&app, &ada, &org, json!({"email": "cy@example.com"})).await;
    app.post("/invitation/revoke", &ada, &json!({"invitationId": revoked["invitation"]["id"]})).await;
    invite(&app, &ada, &org, json!({"email": "bob@example.com"})).await;
    assert_eq!(app.run_jobs().await.mails_sent, 1);
    let sent: Vec<Vec<String>> = sink.messages().into_iter().map(|m| m.to).collect();
    assert_eq!(sent, [vec!["bob@example.com".to_owned()]]);
}

mod a_revoked_invitation_is_never_mailed {
    #[tokio::test]
    async fn sqlite() {
        super::a_revoked_invitation_is_never_mailed(super::Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::a_revoked_invitation_is_never_mailed(super::Backend::Postgres).await;
    }
}
