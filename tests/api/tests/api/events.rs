//! Events (issue 18): each change writes exactly one event per thing that
//! changed, in the change's transaction, and a refused change writes none;
//! the feeds replay from any cursor; an organization's admins read only
//! theirs. On SQLite and PostgreSQL; the commit-order race on PostgreSQL.

use crate::organizations::{create_org, invite, user_id};
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use test_support::app::{Backend, TestApp};
use test_support::{assert_problem, json, on_both_backends as both};
use time::Duration;

const ROOT: &str = "root@example.com";

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |s| {
        s.auth.bootstrap_superusers = usher_api::settings::Parsed::new(vec![ROOT.into()]).unwrap();
    })
    .await
}

/// One page of the superusers' feed, `query` being the query string.
async fn feed(app: &TestApp, root: &str, query: &str) -> Value {
    let res = app.request(Method::GET, &format!("/events{query}"), Some(root), None).await;
    assert_eq!(res.status(), 200, "GET /events{query}");
    json(res).await
}

/// Every event of `org`, read page by page.
async fn all_of(app: &TestApp, root: &str, org: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = feed(app, root, &format!("?organizationId={org}&limit=500{cursor}")).await;
        events.extend(page["events"].as_array().unwrap().iter().cloned());
        if !page["hasMore"].as_bool().unwrap() {
            return events;
        }
        cursor = format!("&cursor={}", page["nextCursor"].as_str().unwrap());
    }
}

/// The types of `events`, in order.
fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// `events` after the first `n`.
fn after(events: &[Value], n: usize) -> &[Value] {
    &events[n..]
}

async fn each_change_writes_its_events_and_a_refused_change_none(backend: Backend) {
    let app = spawn(backend).await;
    let root = app.token(ROOT);
    let ada = app.token("ada@example.com");
    let ada_id = user_id(&app, &ada).await;
    let org = create_org(&app, &ada, "Acme").await;
    let seen = all_of(&app, &root, &org).await;
    assert_eq!(types(&seen), ["organization.created", "membership.created"]);
    assert_eq!(seen[0]["subject"], json!({"type": "organization", "id": org}));
    assert_eq!(seen[0]["data"]["organization"]["name"], "Acme");
    assert_eq!(seen[0]["actorId"], ada_id.as_str());
    assert_eq!(seen[1]["data"]["membership"]["role"], "admin");
    assert_eq!(seen[1]["data"]["cause"], "created");
    assert_eq!(seen[1]["organizationId"], org.as_str());

    // An invitation, refused once, then accepted.
    let created = invite(&app, &ada, &org, json!({"email": "bob@example.com", "role": "member"})).await;
    let carol = app.token("carol@example.com");
    let accept = |token: &str| {
        let body = json!({"token": created["token"]});
        let (app, token) = (&app, token.to_owned());
        async move { app.post("/invitation/accept", &token, &body).await }
    };
    assert_problem(accept(&carol).await, 403, "invitation.email_mismatch").await;
    let bob = app.token("bob@example.com");
    let bob_id = user_id(&app, &bob).await;
    assert_eq!(accept(&bob).await.status(), 200);
    let events = all_of(&app, &root, &org).await;
    let new = after(&events, 2);
    assert_eq!(
        types(new),
        ["invitation.created", "invitation.acceptance_failed", "membership.created", "invitation.accepted"]
    );
    let invitation_id = created["invitation"]["id"].as_str().unwrap();
    assert_eq!(new[0]["subject"], json!({"type": "invitation", "id": invitation_id}));
    assert_eq!(new[0]["data"]["invitation"]["email"], "bob@example.com");
    assert!(new[0]["data"]["invitation"].get("tokenHash").is_none(), "no token in an event");
    assert_eq!(new[1]["data"]["reason"], "email_mismatch");
    assert_eq!(new[1]["actorId"], user_id(&app, &carol).await.as_str());
    assert_eq!(new[2]["data"]["membership"]["userId"], bob_id.as_str());
    assert_eq!(new[2]["data"]["cause"], "invitation");
    assert_eq!(new[3]["data"]["invitation"]["useCount"], 1);
    assert_eq!(new[3]["data"]["membershipId"], new[2]["subject"]["id"]);

    // Role, zones, end date: one event each.
    let zone =
        json(app.post("/organization/zones/create", &ada, &json!({"organizationId": org, "name": "North"})).await)
            .await["id"]
            .clone();
    let member = |extra: Value| {
        let mut body = json!({"organizationId": org, "userId": bob_id});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    assert_eq!(
        app.post("/organization/members/update-role", &ada, &member(json!({"role": "moderator"}))).await.status(),
        200
    );
    assert_eq!(app.post("/organization/members/update", &ada, &member(json!({"zoneIds": [zone]}))).await.status(), 200);
    let until = (time::OffsetDateTime::now_utc() + Duration::days(30))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert_eq!(
        app.post("/organization/members/update", &ada, &member(json!({"expiresAt": until}))).await.status(),
        200
    );
    // Refused: the last admin may not leave. Nothing is written, so no event.
    assert_problem(
        app.post("/organization/leave", &ada, &json!({"organizationId": org})).await,
        409,
        "organization.last_admin",
    )
    .await;
    let events = all_of(&app, &root, &org).await;
    let new = after(&events, 6);
    assert_eq!(
        types(new),
        ["zone.created", "membership.role_changed", "membership.zones_changed", "membership.expiry_changed"]
    );
    assert_eq!(new[0]["subject"], json!({"type": "zone", "id": zone}));
    assert_eq!(new[0]["data"]["zone"]["name"], "North");
    assert_eq!(new[1]["data"]["membership"]["role"], "moderator");
    assert_eq!(new[2]["data"]["membership"]["zoneIds"], json!([zone]));
    assert_eq!(new[3]["actorId"], ada_id.as_str());

    // The organization renamed, its logo set and removed; a refused rename (a member's) writes nothing.
    let rename = |token: &str, name: &str| {
        let body = json!({"organizationId": org, "name": name});
        let (app, token) = (&app, token.to_owned());
        async move { app.post("/organization/update", &token, &body).await }
    };
    assert_eq!(rename(&ada, "Acme Ltd").await.status(), 200);
    assert_problem(rename(&bob, "Bob's").await, 403, "organization.forbidden").await;
    let body = json!({"organizationId": org, "contentType": "image/png"});
    let ticket = json(app.post("/organization/logo/upload-ticket", &ada, &body).await).await;
    let upload = app.client.put(ticket["uploadUrl"].as_str().unwrap()).header("content-type", "image/png");
    assert!(upload.body(test_support::images::png(1)).send().await.unwrap().status().is_success());
    let finalize = json!({"organizationId": org, "tmpKey": ticket["tmpKey"]});
    assert_eq!(app.post("/organization/logo/finalize", &ada, &finalize).await.status(), 200);
    assert_eq!(app.post("/organization/logo/remove", &ada, &json!({"organizationId": org})).await.status(), 204);
    let events = all_of(&app, &root, &org).await;
    let new = after(&events, 10);
    assert_eq!(types(new), ["organization.updated", "organization.updated", "organization.updated"]);
    let changed: Vec<&Value> = new.iter().map(|e| &e["data"]["changed"]).collect();
    assert_eq!(changed, [&json!(["name"]), &json!(["logo"]), &json!(["logo"])]);
    assert_eq!(new[0]["data"]["organization"]["name"], "Acme Ltd");
    assert!(new[1]["data"]["organization"]["logoUrl"].is_string());
    assert_eq!(new[2]["data"]["organization"]["logoUrl"], Value::Null);

    // Invitations rejected, revoked and resent.
    let declined = invite(&app, &ada, &org, json!({"email": "dee@example.com"})).await;
    let dee = app.token("dee@example.com");
    assert_eq!(
        app.post("/invitation/reject", &dee, &json!({"invitationId": declined["invitation"]["id"]})).await.status(),
        200
    );
    let withdrawn = invite(&app, &ada, &org, json!({})).await;
    assert_eq!(
        app.post("/invitation/revoke", &ada, &json!({"invitationId": withdrawn["invitation"]["id"]})).await.status(),
        200
    );
    let again = invite(&app, &ada, &org, json!({})).await;
    assert_eq!(
        app.post("/invitation/resend", &ada, &json!({"invitationId": again["invitation"]["id"]})).await.status(),
        200
    );
    let events = all_of(&app, &root, &org).await;
    let new = after(&events, 13);
    assert_eq!(
        types(new),
        [
            "invitation.created",
            "invitation.rejected",
            "invitation.created",
            "invitation.revoked",
            "invitation.created",
            "invitation.resent"
        ]
    );
    assert_eq!(new[1]["data"]["invitation"]["status"], "rejected");
    assert_eq!(new[3]["data"]["invitation"]["status"], "revoked");

    // Memberships end: removed, left, and run out (the sweeper's, with no actor).
    let removed = crate::organizations::join(&app, &ada, &org, "eve@example.com", "member").await;
    let body = json!({"organizationId": org, "userId": user_id(&app, &removed).await, "block": true});
    assert_eq!(app.post("/organization/members/remove", &ada, &body).await.status(), 200);
    assert_eq!(app.post("/organization/leave", &bob, &json!({"organizationId": org})).await.status(), 200);
    let brief = invite(&app, &ada, &org, json!({"membershipDurationSeconds": 3600})).await;
    assert_eq!(
        app.post("/invitation/accept", &app.token("fay@example.com"), &json!({"token": brief["token"]})).await.status(),
        200
    );
    app.clock.advance(Duration::hours(2));
    app.run_jobs().await;
    let events = all_of(&app, &root, &org).await;
    let ended: Vec<&Value> = after(&events, 19).iter().filter(|e| e["type"] == "membership.ended").collect();
    let reasons: Vec<(&str, &Value, &Value)> =
        ended.iter().map(|e| (e["data"]["reason"].as_str().unwrap(), &e["actorId"], &e["data"]["blocked"])).collect();
    let (yes, no) = (json!(true), json!(false));
    assert_eq!(
        reasons,
        [("removed", &json!(ada_id), &yes), ("left", &json!(bob_id), &no), ("expired", &Value::Null, &no)]
    );

    // Exactly one event per change: no event id twice, positions strictly rising.
    let ids: std::collections::BTreeSet<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), events.len());
}
both!(each_change_writes_its_events_and_a_refused_change_none);

async fn the_feed_replays_from_any_cursor_and_checks_what_it_is_asked(backend: Backend) {
    let app = spawn(backend).await;
    let root = app.token(ROOT);
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    for _ in 0..3 {
        invite(&app, &ada, &org, json!({})).await;
    }
    let other = create_org(&app, &app.token("zed@example.com"), "Elsewhere").await;
    // Root's own first request provisions root: that event comes last.
    let everything = feed(&app, &root, "").await;
    let all = everything["events"].as_array().unwrap().clone();
    assert_eq!(
        types(&all),
        [
            "user.provisioned",
            "organization.created",
            "membership.created",
            "invitation.created",
            "invitation.created",
            "invitation.created",
            "user.provisioned",
            "organization.created",
            "membership.created",
            "user.provisioned",
        ]
    );
    assert!(!everything["hasMore"].as_bool().unwrap());

    // Page by page with limit 1, and from every cursor: the same events, in the same order.
    let mut cursors = vec![String::new()];
    let mut paged = Vec::new();
    loop {
        let query = format!("?limit=1{}", cursors.last().unwrap());
        let page = feed(&app, &root, &query).await;
        paged.extend(page["events"].as_array().unwrap().iter().cloned());
        cursors.push(format!("&cursor={}", page["nextCursor"].as_str().unwrap()));
        if !page["hasMore"].as_bool().unwrap() {
            break;
        }
    }
    assert_eq!(paged, all);
    for (i, cursor) in cursors.iter().enumerate().take(all.len()) {
        let rest = feed(&app, &root, &format!("?limit=500{cursor}")).await;
        assert_eq!(rest["events"].as_array().unwrap().as_slice(), &all[i..], "from cursor {i}");
    }
    // At the end, the cursor stays where it is, so a poller keeps its place.
    let end = feed(&app, &root, &cursors[all.len()].replacen('&', "?", 1)).await;
    assert_eq!(end["events"], json!([]));
    assert_eq!(format!("&cursor={}", end["nextCursor"].as_str().unwrap()), cursors[all.len()]);

    // Filters: types, organization.
    let created = feed(&app, &root, "?types=organization.created").await;
    assert_eq!(types(created["events"].as_array().unwrap()), ["organization.created", "organization.created"]);
    let theirs = feed(&app, &root, &format!("?organizationId={other}")).await;
    assert_eq!(types(theirs["events"].as_array().unwrap()), ["organization.created", "membership.created"]);

    // Whatever is forged or mistyped is a clear 422, never a 500.
    let (app_ref, root_ref) = (&app, root.as_str());
    let get = move |q: &str| get_as(app_ref, root_ref, q);
    for forged in ["?cursor=-1", "?cursor=abc", "?cursor=1e3", "?cursor=%00", "?cursor=99999999999999999999"] {
        assert_problem(get(forged).await, 422, "request.validation").await;
    }
    assert_problem(get("?limit=0").await, 422, "request.validation").await;
    assert_problem(get("?limit=501").await, 422, "request.validation").await;
    assert_problem(get("?types=invitation.acceptd").await, 422, "request.validation").await;
    assert_problem(get("?organizationId=nope").await, 400, "request.malformed_query").await;

    // Superusers only; an organization's admins read theirs through POST /organization/events.
    assert_problem(get_as(&app, &ada, "").await, 403, "auth.superuser_required").await;
    assert_eq!(app.request(Method::GET, "/events", None, None).await.status(), 401);
    let mine = app.post("/organization/events", &ada, &json!({"organizationId": org})).await;
    assert_eq!(mine.status(), 200);
    let mine = json(mine).await;
    assert_eq!(mine["events"].as_array().unwrap().len(), 5);
    assert!(mine["events"].as_array().unwrap().iter().all(|e| e["organizationId"] == org.as_str()));
    let page = json(
        app.post(
            "/organization/events",
            &ada,
            &json!({"organizationId": org, "types": ["invitation.created"], "limit": 2}),
        )
        .await,
    )
    .await;
    assert_eq!(types(page["events"].as_array().unwrap()), ["invitation.created", "invitation.created"]);
    assert!(page["hasMore"].as_bool().unwrap());
    let next = json!({"organizationId": org, "types": ["invitation.created"], "cursor": page["nextCursor"]});
    assert_eq!(json(app.post("/organization/events", &ada, &next).await).await["events"].as_array().unwrap().len(), 1);
    assert_problem(
        app.post("/organization/events", &ada, &json!({"organizationId": other})).await,
        403,
        "organization.not_member",
    )
    .await;
    let member = crate::organizations::join(&app, &ada, &org, "bob@example.com", "moderator").await;
    assert_problem(
        app.post("/organization/events", &member, &json!({"organizationId": org})).await,
        403,
        "organization.forbidden",
    )
    .await;
    assert_problem(
        app.post("/organization/events", &ada, &json!({"organizationId": org, "cursor": "x"})).await,
        422,
        "request.validation",
    )
    .await;
    assert_problem(app.post("/organization/events", &ada, &json!({})).await, 422, "request.validation").await;
}
both!(the_feed_replays_from_any_cursor_and_checks_what_it_is_asked);

async fn users_are_provisioned_promoted_and_erased_by_id_only(backend: Backend) {
    let app = spawn(backend).await;
    let root = app.token(ROOT);
    let root_id = user_id(&app, &root).await;
    let ada = app.token("ada@example.com");
    let ada_id = user_id(&app, &ada).await;
    let path = format!("/admin/users/{ada_id}");
    let patch = |role: &str| {
        let body = json!({"platformRole": role});
        let (app, path, root) = (&app, &path, &root);
        async move { app.request(Method::PATCH, path, Some(root), Some(&body)).await }
    };
    assert_eq!(patch("superuser").await.status(), 200);
    assert_eq!(patch("superuser").await.status(), 200, "the same role again changes nothing");
    assert_eq!(patch("user").await.status(), 200);
    // Refused: demoting the last superuser writes nothing.
    let demote_root = json!({"platformRole": "user"});
    let res = app.request(Method::PATCH, &format!("/admin/users/{root_id}"), Some(&root), Some(&demote_root)).await;
    assert_problem(res, 409, "admin.last_superuser").await;
    assert_eq!(app.post(&format!("/admin/users/{ada_id}/erase"), &root, &json!({})).await.status(), 200);
    assert_eq!(app.post(&format!("/admin/users/{ada_id}/erase"), &root, &json!({})).await.status(), 200, "again");

    let page = feed(&app, &root, "?types=user.provisioned,user.platform_role_changed,user.erased").await;
    let events = page["events"].as_array().unwrap();
    assert_eq!(
        types(events),
        [
            "user.provisioned",
            "user.provisioned",
            "user.platform_role_changed",
            "user.platform_role_changed",
            "user.erased"
        ]
    );
    assert_eq!(events[0]["subject"], json!({"type": "user", "id": root_id}));
    assert_eq!(events[0]["data"]["user"]["platformRole"], "superuser", "bootstrapped");
    assert_eq!(events[1]["actorId"], ada_id.as_str());
    assert_eq!(
        (events[2]["data"]["previousRole"].as_str(), events[2]["data"]["user"]["platformRole"].as_str()),
        (Some("user"), Some("superuser"))
    );
    assert_eq!(events[3]["data"]["user"]["platformRole"], "user");
    assert_eq!(events[3]["actorId"], root_id.as_str());
    assert_eq!(events[4]["subject"]["id"], ada_id.as_str());
    // By id only: no e-mail, name or username in any user event.
    let text = serde_json::to_string(events).unwrap();
    assert!(!text.contains("ada@example.com") && !text.contains("\"ada\""), "{text}");
    assert!(events.iter().all(|e| e["organizationId"].is_null()));
}
both!(users_are_provisioned_promoted_and_erased_by_id_only);

// A user's own changes: one `user.updated` each, naming what changed and
// never the value; removing an avatar when there is none writes none, nor
// does a refused change.
async fn a_users_own_changes_are_events_naming_what_changed(backend: Backend) {
    let app = spawn(backend).await;
    let root = app.token(ROOT);
    let ada = app.token("ada@example.com");
    let ada_id = user_id(&app, &ada).await;
    assert_eq!(app.post("/user/update", &ada, &json!({"displayName": "Ada Secret-Name"})).await.status(), 200);
    assert_eq!(app.post("/user/status", &ada, &json!({"manualStatus": "busy"})).await.status(), 200);
    assert_eq!(app.post("/user/avatar/remove", &ada, &json!({})).await.status(), 204, "no avatar to remove");
    assert_problem(app.post("/user/update", &ada, &json!({"displayName": "x"})).await, 422, "request.validation").await;
    let page = feed(&app, &root, "?types=user.updated").await;
    let events = page["events"].as_array().unwrap();
    assert_eq!(types(events), ["user.updated", "user.updated"]);
    assert_eq!(events[0]["data"]["changed"], json!(["displayName"]));
    assert_eq!(events[1]["data"]["changed"], json!(["manualStatus"]));
    for e in events {
        assert_eq!(
            (e["actorId"].as_str(), e["subject"]["id"].as_str()),
            (Some(ada_id.as_str()), Some(ada_id.as_str()))
        );
    }
    let text = serde_json::to_string(events).unwrap();
    assert!(!text.contains("Secret-Name") && !text.contains("busy"), "{text}");
}
both!(a_users_own_changes_are_events_naming_what_changed);

// A member's pending invitations that they may no longer grant are revoked
// with the change that took the right away, one `invitation.revoked` each,
// after that change's membership event: demoted, the moderator's links go;
// leaving, the rest. An unblock is an event too; a refused one writes none.
async fn invitations_revoked_with_their_creator_and_unblocks_are_events(backend: Backend) {
    let app = spawn(backend).await;
    let root = app.token(ROOT);
    let ada = app.token("ada@example.com");
    let ada_id = user_id(&app, &ada).await;
    let org = create_org(&app, &ada, "Acme").await;
    let mod_token = crate::organizations::join(&app, &ada, &org, "mo@example.com", "moderator").await;
    let mo = user_id(&app, &mod_token).await;
    let links: Vec<String> = [
        invite(&app, &mod_token, &org, json!({"role": "member"})).await,
        invite(&app, &mod_token, &org, json!({"role": "guest"})).await,
    ]
    .iter()
    .map(|i| i["invitation"]["id"].as_str().unwrap().to_owned())
    .collect();
    let before = all_of(&app, &root, &org).await.len();
    let demote = json!({"organizationId": org, "userId": mo, "role": "member"});
    assert_eq!(app.post("/organization/members/update-role", &ada, &demote).await.status(), 200);
    let remove = json!({"organizationId": org, "userId": mo, "block": true});
    assert_eq!(app.post("/organization/members/remove", &ada, &remove).await.status(), 200);
    let unblock = json!({"organizationId": org, "userId": mo});
    assert_eq!(app.post("/organization/members/unblock", &ada, &unblock).await.status(), 204);
    assert_problem(
        app.post("/organization/members/unblock", &ada, &unblock).await,
        404,
        "organization.member_not_found",
    )
    .await;

    let events = all_of(&app, &root, &org).await;
    let new = after(&events, before);
    assert_eq!(
        types(new),
        [
            "membership.role_changed",
            "invitation.revoked",
            "invitation.revoked",
            "membership.ended",
            "membership.unblocked"
        ]
    );
    let revoked: Vec<&str> = new[1..3].iter().map(|e| e["subject"]["id"].as_str().unwrap()).collect();
    assert_eq!(revoked, links);
    for event in &new[1..3] {
        assert_eq!(event["data"]["reason"], "creator_may_no_longer_grant");
        assert_eq!(event["data"]["invitation"]["status"], "revoked");
        assert_eq!(event["actorId"], ada_id.as_str());
    }
    assert_eq!(new[4]["subject"], json!({"type": "user", "id": mo}));
    assert_eq!(new[4]["actorId"], ada_id.as_str());
    // The invitations read revoked, as the events say.
    let listed =
        json(app.post("/invitation/list", &ada, &json!({"organizationId": org, "status": "revoked"})).await).await;
    let mut ids: Vec<&str> =
        listed["invitations"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    let mut expected: Vec<&str> = links.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(ids, expected);

    // Leaving takes every pending invitation of the leaver with it.
    let admin2 = crate::organizations::join(&app, &ada, &org, "al@example.com", "admin").await;
    let al = user_id(&app, &admin2).await;
    let left_behind = invite(&app, &admin2, &org, json!({"role": "admin"})).await;
    let before = all_of(&app, &root, &org).await.len();
    assert_eq!(app.post("/organization/leave", &admin2, &json!({"organizationId": org})).await.status(), 200);
    let events = all_of(&app, &root, &org).await;
    let new = after(&events, before);
    assert_eq!(types(new), ["membership.ended", "invitation.revoked"]);
    assert_eq!(new[1]["subject"]["id"], left_behind["invitation"]["id"]);
    assert_eq!(new[1]["data"]["reason"], "creator_membership_ended");
    assert_eq!(new[1]["actorId"], al.as_str());
}
both!(invitations_revoked_with_their_creator_and_unblocks_are_events);

// An invitation's expiry passing is announced by the background job, once,
// dated when it passed and by nobody; a resend's new expiry anew.
async fn an_invitation_expiring_is_announced_once_per_expiry(backend: Backend) {
    let app = spawn(backend).await;
    let root = app.token(ROOT);
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    let brief = invite(&app, &ada, &org, json!({"expiresInSeconds": 3600})).await;
    let id = brief["invitation"]["id"].as_str().unwrap();
    let before = all_of(&app, &root, &org).await.len();
    assert_eq!(app.run_jobs().await.invitations_expired, 0, "not yet");
    app.clock.advance(Duration::hours(2));
    assert_eq!(app.run_jobs().await.invitations_expired, 1);
    assert_eq!(app.run_jobs().await.invitations_expired, 0, "once");
    assert_eq!(app.post("/invitation/resend", &ada, &json!({"invitationId": id})).await.status(), 200);
    app.clock.advance(Duration::hours(2));
    assert_eq!(app.run_jobs().await.invitations_expired, 1, "the resend's expiry");

    let events = all_of(&app, &root, &org).await;
    let new = after(&events, before);
    assert_eq!(types(new), ["invitation.expired", "invitation.resent", "invitation.expired"]);
    assert_eq!(new[0]["subject"], json!({"type": "invitation", "id": id}));
    assert_eq!(new[0]["occurredAt"], brief["invitation"]["expiresAt"]);
    assert_eq!(new[0]["actorId"], Value::Null);
    assert_eq!(new[0]["data"]["invitation"]["status"], "expired");
    assert_eq!(new[2]["occurredAt"], new[1]["data"]["invitation"]["expiresAt"]);
}
both!(an_invitation_expiring_is_announced_once_per_expiry);

// The audit is the event log for people: a time range, one person's
// changes, each actor's name as it reads now (gone once they are erased),
// admins only for an organization, and a CSV export whose cells cannot run
// as spreadsheet formulas.
async fn the_audit_names_who_did_what_within_a_range_and_exports_it_as_safe_csv(backend: Backend) {
    let app = spawn(backend).await;
    let root = app.token(ROOT);
    let ada = app.token("ada@example.com");
    let ada_id = user_id(&app, &ada).await;
    let ada_name = json(app.post("/user/get", &ada, &json!({})).await).await["displayName"].clone();
    // The test clock runs on from where it was stepped: read it before the change.
    let start = shared_kernel::Clock::now(app.clock.as_ref());
    let org = create_org(&app, &ada, "=HYPERLINK(\"http://evil.example\")").await;
    app.clock.advance(Duration::hours(1));
    let bob = crate::organizations::join(&app, &ada, &org, "bob@example.com", "member").await;
    let bob_id = user_id(&app, &bob).await;
    app.clock.advance(Duration::hours(1));
    let later = shared_kernel::Clock::now(app.clock.as_ref());
    let rfc = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
    let audit = |token: &str, query: String| {
        let (app, token) = (&app, token.to_owned());
        async move { app.request(Method::GET, &format!("/organization/audit?{query}"), Some(&token), None).await }
    };

    let all = json(audit(&ada, format!("organizationId={org}")).await).await;
    let entries = all["entries"].as_array().unwrap();
    assert_eq!(
        types(entries),
        [
            "organization.created",
            "membership.created",
            "invitation.created",
            "membership.created",
            "invitation.accepted"
        ]
    );
    assert_eq!(entries[0]["actorName"], ada_name);
    assert_eq!(entries[0]["actorId"], ada_id.as_str());
    assert_eq!(entries[3]["actorId"], bob_id.as_str());
    // The first hour only; then only Bob's changes.
    let first_hour = format!("organizationId={org}&from={}&to={}", rfc(start), rfc(start + Duration::hours(1)));
    let first = json(audit(&ada, first_hour.replace('+', "%2B")).await).await;
    assert_eq!(types(first["entries"].as_array().unwrap()), ["organization.created", "membership.created"]);
    let bobs = json(audit(&ada, format!("organizationId={org}&actorId={bob_id}")).await).await;
    assert_eq!(types(bobs["entries"].as_array().unwrap()), ["membership.created", "invitation.accepted"]);
    // A range that ends before it starts, and a member who is not an admin.
    let backwards = format!("organizationId={org}&from={}&to={}", rfc(later), rfc(start));
    assert_problem(audit(&ada, backwards).await, 422, "request.validation").await;
    assert_problem(audit(&bob, format!("organizationId={org}")).await, 403, "organization.forbidden").await;
    assert_problem(audit(&ada, String::new()).await, 400, "request.malformed_query").await;

    // The CSV export: a header row, one row per entry, formulas defused.
    let res = audit(&ada, format!("organizationId={org}&format=csv")).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert_eq!(res.headers()["usher-has-more"], "false");
    let csv = res.text().await.unwrap();
    let rows: Vec<&str> = csv.split("\r\n").filter(|r| !r.is_empty()).collect();
    assert_eq!(rows.len(), 6, "{csv}");
    assert!(rows[0].starts_with("\"occurredAt\",\"type\",\"actorId\",\"actorName\""), "{csv}");
    let name_cell = format!(",\"{}\",", ada_name.as_str().unwrap());
    assert!(rows[1].contains("\"organization.created\"") && rows[1].contains(&name_cell), "{csv}");
    // The organization's name sits in the JSON of the data column, quotes doubled.
    assert!(rows[1].contains("=HYPERLINK(\\\"\"http://evil.example\\\"\")"), "{csv}");
    // A display name that is a formula is defused, and no cell starts with '='.
    let rename = json!({"displayName": "=SUM(1+1)"});
    assert_eq!(app.post("/user/update", &ada, &rename).await.status(), 200);
    let csv = audit(&ada, format!("organizationId={org}&format=csv")).await.text().await.unwrap();
    assert!(csv.contains(",\"'=SUM(1+1)\","), "{csv}");
    assert!(csv.split("\r\n").all(|r| !r.contains(",\"=") && !r.starts_with("\"=")), "{csv}");

    // The superusers' audit reads every organization; an erased actor's name is gone.
    assert_eq!(app.post(&format!("/admin/users/{bob_id}/erase"), &root, &json!({})).await.status(), 200);
    let admin =
        json(app.request(Method::GET, &format!("/admin/audit?actorId={bob_id}"), Some(&root), None).await).await;
    let names: Vec<&Value> = admin["entries"].as_array().unwrap().iter().map(|e| &e["actorName"]).collect();
    assert!(names.len() >= 2 && names.iter().all(|n| *n == "Erased user"), "{admin}");
}
both!(the_audit_names_who_did_what_within_a_range_and_exports_it_as_safe_csv);

// Events are kept `events.retention_days` (90 by default): the hourly job
// deletes those that occurred before, and only those; a cursor into the
// deleted range reads on from the oldest kept.
async fn events_past_their_retention_are_deleted_and_only_those(backend: Backend) {
    let app = spawn(backend).await;
    let root = app.token(ROOT);
    let ada = app.token("ada@example.com");
    let old = create_org(&app, &ada, "Old").await;
    let first = feed(&app, &root, "").await;
    let kept_before = first["events"].as_array().unwrap().len();
    let oldest = feed(&app, &root, "?limit=1").await;
    assert!(kept_before >= 3, "provisioned, created, membership: {first}");

    app.clock.advance(Duration::days(60));
    let newer = create_org(&app, &ada, "Newer").await;
    assert_eq!(app.run_jobs().await.events_pruned, 0, "60 days old is within 90");
    app.clock.advance(Duration::days(31));
    assert_eq!(app.run_jobs().await.events_pruned as usize, kept_before, "91 days old");
    assert_eq!(app.run_jobs().await.events_pruned, 0, "nothing left to delete");

    let kept = feed(&app, &root, "").await;
    let events = kept["events"].as_array().unwrap();
    assert!(events.iter().all(|e| e["organizationId"] != old.as_str()), "{kept}");
    assert_eq!(types(events), ["organization.created", "membership.created"]);
    assert_eq!(events[0]["subject"]["id"], newer.as_str());
    // A cursor into what was deleted reads on from what is kept.
    let from_deleted = feed(&app, &root, &format!("?cursor={}", oldest["nextCursor"].as_str().unwrap())).await;
    assert_eq!(from_deleted["events"], kept["events"]);

    // Everything past keeping: the newest event stays, so the next change
    // is numbered after every cursor handed out, never below one.
    let last_cursor = kept["nextCursor"].as_str().unwrap().to_owned();
    app.clock.advance(Duration::days(200));
    app.run_jobs().await;
    let left = feed(&app, &root, "").await;
    assert_eq!(types(left["events"].as_array().unwrap()), ["membership.created"], "the newest stays: {left}");
    let latest = create_org(&app, &ada, "Latest").await;
    let next = feed(&app, &root, &format!("?cursor={last_cursor}")).await;
    let events = next["events"].as_array().unwrap();
    assert_eq!(types(events), ["organization.created", "membership.created"], "{next}");
    assert_eq!(events[0]["subject"]["id"], latest.as_str());
}
both!(events_past_their_retention_are_deleted_and_only_those);

fn get_as<'a>(app: &'a TestApp, token: &'a str, query: &str) -> impl Future<Output = reqwest::Response> + use<'a> {
    let path = format!("/events{query}");
    async move { app.request(Method::GET, &path, Some(token), None).await }
}

/// Positions are commit order: a poller that reads on from its cursor while
/// many changes commit at once ends with exactly the events a full read
/// finds afterwards: none skipped because it committed after a later one
/// was read, none twice.
// PostgreSQL only: SQLite serialises writers, so it cannot commit out of order.
#[tokio::test]
async fn a_poller_never_misses_an_event_that_commits_late_on_postgres() {
    let app = TestApp::spawn_with(Backend::Postgres, |s| {
        s.auth.bootstrap_superusers = usher_api::settings::Parsed::new(vec![ROOT.into()]).unwrap();
        s.database.max_connections = 24;
        s.database.acquire_timeout_seconds = 30;
        s.server.workers = 2;
    })
    .await;
    let root = app.token(ROOT);
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    let done = std::sync::atomic::AtomicBool::new(false);
    let poll = async {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let finished = done.load(std::sync::atomic::Ordering::SeqCst);
            let page = feed(&app, &root, &format!("?limit=500{cursor}")).await;
            seen.extend(page["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
            cursor = format!("&cursor={}", page["nextCursor"].as_str().unwrap());
            if finished && !page["hasMore"].as_bool().unwrap() {
                return seen;
            }
        }
    };
    let write = async {
        for round in 0..6 {
            // Organizations, invitations and accepts at once, on both workers.
            let changes = (0..12).map(|i| {
                let (app, ada, org) = (&app, &ada, &org);
                async move {
                    match i % 3 {
                        0 => drop(create_org(app, &app.token(&format!("o{round}-{i}@example.com")), "Org").await),
                        1 => drop(invite(app, ada, org, json!({})).await),
                        _ => drop(
                            crate::organizations::join(app, ada, org, &format!("m{round}-{i}@example.com"), "guest")
                                .await,
                        ),
                    }
                }
            });
            join_all(changes).await;
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    let (seen, ()) = tokio::join!(poll, write);
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = feed(&app, &root, &format!("?limit=500{cursor}")).await;
        all.extend(page["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        cursor = format!("&cursor={}", page["nextCursor"].as_str().unwrap());
        if !page["hasMore"].as_bool().unwrap() {
            break;
        }
    }
    assert!(all.len() > 100, "{} events", all.len());
    assert_eq!(seen, all, "the poller saw a different sequence than the log holds");
}
