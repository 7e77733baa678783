//! Webhooks (issue 18): endpoints by scope with a secret shown once; every
//! event posted signed, in order per subject, retried after a 500, a
//! refused connection or a timeout, given up after a day with the endpoint
//! marked failing; nothing to a disabled or deleted endpoint; replays with
//! the same `webhook-id`; rotation signs with both secrets; several
//! replicas deliver each event once. On SQLite and PostgreSQL (replicas on
//! PostgreSQL). The receiver is a wiremock server on loopback; the
//! independent check of the signatures (the `standardwebhooks` package) is
//! tests/webhooks.

use crate::organizations::{create_org, join};
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use test_support::app::{Backend, TestApp};
use test_support::{assert_problem, json, on_both_backends as both};
use time::Duration;
use webhooks::{Secret, signing};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const ROOT: &str = "root@example.com";

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |s| {
        s.auth.bootstrap_superusers = usher_api::settings::Parsed::new(vec![ROOT.into()]).unwrap();
        s.events.webhook_timeout_seconds = 1;
    })
    .await
}

/// A receiver answering 204 to everything, unless a test mounts more first.
async fn receiver() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(ResponseTemplate::new(204)).with_priority(10).mount(&server).await;
    server
}

/// The next `n` posts get `answer`.
async fn then_answer(server: &MockServer, answer: ResponseTemplate, n: u64) {
    Mock::given(any()).respond_with(answer).up_to_n_times(n).with_priority(1).mount(server).await;
}

/// What arrived: each post's `webhook-id`, body, and whether one of `secrets` signed it.
struct Post {
    id: String,
    body: Value,
    signatures: Vec<String>,
    timestamp: i64,
    raw: Vec<u8>,
}

impl Post {
    fn signed_by(&self, secret: &str) -> bool {
        let secret = Secret::parse(secret).unwrap();
        let expected = signing::sign(&secret, &self.id, self.timestamp, &self.raw);
        self.signatures.contains(&expected)
    }
}

async fn posts(server: &MockServer) -> Vec<Post> {
    let header = |r: &wiremock::Request, name: &str| {
        r.headers.get(name).unwrap_or_else(|| panic!("no {name}")).to_str().unwrap().to_owned()
    };
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| Post {
            id: header(r, "webhook-id"),
            timestamp: header(r, "webhook-timestamp").parse().unwrap(),
            signatures: header(r, "webhook-signature").split(' ').map(str::to_owned).collect(),
            body: serde_json::from_slice(&r.body).unwrap(),
            raw: r.body.clone(),
        })
        .collect()
}

fn kinds(posts: &[Post]) -> Vec<&str> {
    posts.iter().map(|p| p.body["type"].as_str().unwrap()).collect()
}

/// Registers `body` (merged into `{organizationId}`) as an organization admin.
async fn register_for(app: &TestApp, token: &str, org: &str, body: Value) -> Value {
    let mut req = json!({"organizationId": org});
    req.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
    let res = app.post("/organization/webhooks/create", token, &req).await;
    assert_eq!(res.status(), 201, "registering a webhook");
    json(res).await
}

async fn deliveries(app: &TestApp, token: &str, org: &str, webhook: &str) -> Vec<Value> {
    let body = json!({"organizationId": org, "webhookId": webhook});
    let res = app.post("/organization/webhooks/deliveries", token, &body).await;
    assert_eq!(res.status(), 200);
    json(res).await["deliveries"].as_array().unwrap().clone()
}

async fn rename(app: &TestApp, token: &str, org: &str, name: &str) {
    let res = app.post("/organization/update", token, &json!({"organizationId": org, "name": name})).await;
    assert_eq!(res.status(), 200, "renaming to {name}");
}

async fn endpoints_belong_to_their_scope_and_show_their_secret_once(backend: Backend) {
    let app = spawn(backend).await;
    let root = app.token(ROOT);
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    let other = create_org(&app, &app.token("olga@example.com"), "Other").await;
    let moderator = join(&app, &ada, &org, "mod@example.com", "moderator").await;

    // A superuser's endpoint: every organization's events.
    let body = json!({"url": "https://crm.example.com/hooks", "eventTypes": ["membership.created"]});
    let res = app.request(Method::POST, "/admin/webhooks", Some(&root), Some(&body)).await;
    assert_eq!(res.status(), 201);
    let made = json(res).await;
    assert!(made["secret"].as_str().unwrap().starts_with("whsec_"));
    Secret::parse(made["secret"].as_str().unwrap()).expect("a Standard Webhooks secret");
    assert_eq!(made["webhook"]["organizationId"], Value::Null);
    assert_eq!(made["webhook"]["enabled"], true);
    let listed = json(app.request(Method::GET, "/admin/webhooks", Some(&root), None).await).await;
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);
    assert!(listed.to_string().find("whsec_").is_none(), "the secret is shown once");
    assert_problem(app.request(Method::GET, "/admin/webhooks", Some(&ada), None).await, 403, "auth.superuser_required")
        .await;

    // What a URL may not be, and types that do not exist.
    for (url, why) in [
        ("http://crm.example.com/hooks", "not https"),
        ("https://10.0.0.8/hooks", "a private address"),
        ("https://169.254.169.254/latest", "cloud metadata"),
        ("https://user:pw@crm.example.com/", "credentials"),
        ("https://crm.example.com/#x", "a fragment"),
        ("not a url", "not a URL"),
    ] {
        let res = app.post("/organization/webhooks/create", &ada, &json!({"organizationId": org, "url": url})).await;
        let problem = assert_problem(res, 422, "request.validation").await;
        assert!(problem["errors"].get("/url").is_some(), "{why}: {problem}");
    }
    let unknown = json!({"organizationId": org, "url": "https://crm.example.com/", "eventTypes": ["member.joined"]});
    let problem =
        assert_problem(app.post("/organization/webhooks/create", &ada, &unknown).await, 422, "request.validation")
            .await;
    assert!(problem["errors"].get("/eventTypes").is_some(), "{problem}");

    // An organization's endpoint: its admins only.
    let mine = register_for(&app, &ada, &org, json!({"url": "https://crm.example.com/acme"})).await;
    let id = mine["webhook"]["id"].as_str().unwrap();
    assert_eq!(mine["webhook"]["organizationId"], org.as_str());
    for (token, status, code) in [(&moderator, 403, "organization.forbidden"), (&root, 403, "organization.not_member")]
    {
        let res = app.post("/organization/webhooks/list", token, &json!({"organizationId": org})).await;
        assert_problem(res, status, code).await;
    }
    // Another organization's admin names this endpoint under their own organization: not found.
    let olga = app.token("olga@example.com");
    for path in ["/organization/webhooks/delete", "/organization/webhooks/rotate", "/organization/webhooks/deliveries"]
    {
        let res = app.post(path, &olga, &json!({"organizationId": other, "webhookId": id})).await;
        assert_problem(res, 404, "webhook.not_found").await;
    }
    // …and the superusers' routes do not reach an organization's endpoint either.
    let res = app.request(Method::DELETE, &format!("/admin/webhooks/{id}"), Some(&root), None).await;
    assert_problem(res, 404, "webhook.not_found").await;
    let res = app.request(Method::DELETE, "/admin/webhooks/not-a-uuid", Some(&root), None).await;
    assert_problem(res, 404, "webhook.not_found").await;

    let listed = json(app.post("/organization/webhooks/list", &ada, &json!({"organizationId": org})).await).await;
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);
    let update =
        json!({"organizationId": org, "webhookId": id, "enabled": false, "eventTypes": ["organization.updated"]});
    let updated = json(app.post("/organization/webhooks/update", &ada, &update).await).await;
    assert_eq!(
        (updated["enabled"].clone(), updated["eventTypes"].clone()),
        (json!(false), json!(["organization.updated"]))
    );
    let res = app.post("/organization/webhooks/delete", &ada, &json!({"organizationId": org, "webhookId": id})).await;
    assert_eq!(res.status(), 204);
    let listed = json(app.post("/organization/webhooks/list", &ada, &json!({"organizationId": org})).await).await;
    assert_eq!(listed["webhooks"], json!([]));

    // At most twenty per scope.
    for n in 0..20 {
        register_for(&app, &ada, &org, json!({"url": format!("https://crm.example.com/{n}")})).await;
    }
    let res = app
        .post("/organization/webhooks/create", &ada, &json!({"organizationId": org, "url": "https://x.example.com/"}))
        .await;
    assert_problem(res, 409, "webhook.limit_reached").await;
}
both!(endpoints_belong_to_their_scope_and_show_their_secret_once);

async fn events_arrive_signed_in_order_and_failures_are_retried_then_given_up(backend: Backend) {
    let app = spawn(backend).await;
    let server = receiver().await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    let other = create_org(&app, &app.token("olga@example.com"), "Other").await;
    let made = register_for(&app, &ada, &org, json!({"url": format!("{}/hooks", server.uri())})).await;
    let (secret, webhook) = (made["secret"].as_str().unwrap(), made["webhook"]["id"].as_str().unwrap());

    // Two renames of Acme, one of Other: Acme's arrive, signed, in order; Other's does not.
    rename(&app, &ada, &org, "Acme 2").await;
    rename(&app, &ada, &org, "Acme 3").await;
    rename(&app, &app.token("olga@example.com"), &other, "Other 2").await;
    let run = app.run_jobs().await;
    assert_eq!((run.webhook_deliveries_made, run.webhooks_delivered), (2, 2));
    let got = posts(&server).await;
    assert_eq!(kinds(&got), ["organization.updated", "organization.updated"]);
    assert_eq!(got[0].body["data"]["organization"]["name"], "Acme 2");
    assert_eq!(got[1].body["data"]["organization"]["name"], "Acme 3");
    for post in &got {
        assert!(post.signed_by(secret), "signed with the endpoint's secret");
        assert_eq!(post.id, post.body["id"].as_str().unwrap(), "webhook-id is the event's id");
        assert_eq!(post.body["organizationId"], org.as_str());
    }
    // Running again delivers nothing twice.
    assert_eq!(app.run_jobs().await.webhooks_delivered, 0);
    assert_eq!(posts(&server).await.len(), 2);

    // A 500: recorded, and the subject's next event waits for it.
    then_answer(&server, ResponseTemplate::new(500).set_body_string("database down"), 1).await;
    rename(&app, &ada, &org, "Acme 4").await;
    rename(&app, &ada, &org, "Acme 5").await;
    let run = app.run_jobs().await;
    assert_eq!(run.webhooks_delivered, 0);
    assert_eq!(posts(&server).await.len(), 3, "one attempt; Acme 5 waits behind Acme 4");
    let list = deliveries(&app, &ada, &org, webhook).await;
    let failed =
        list.iter().find(|d| d["state"] == "pending" && !d["attempts"].as_array().unwrap().is_empty()).unwrap();
    assert_eq!(failed["attempts"][0]["status"], 500);
    assert_eq!(failed["attempts"][0]["response"], "database down");
    // Tried again after its backoff (about five seconds), in order.
    app.clock.advance(Duration::seconds(10));
    app.run_jobs().await;
    app.run_jobs().await;
    let got = posts(&server).await;
    let names: Vec<&str> = got.iter().map(|p| p.body["data"]["organization"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Acme 2", "Acme 3", "Acme 4", "Acme 4", "Acme 5"]);
    assert_eq!(got[2].id, got[3].id, "a retry is the same message");

    // A timeout counts as a failure too.
    then_answer(&server, ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(3)), 1).await;
    rename(&app, &ada, &org, "Acme 6").await;
    assert_eq!(app.run_jobs().await.webhooks_delivered, 0);
    let list = deliveries(&app, &ada, &org, webhook).await;
    assert!(list[0]["attempts"][0]["error"].as_str().unwrap().contains("timed out"), "{}", list[0]);
    assert_eq!(list[0]["attempts"][0]["status"], Value::Null);
    app.clock.advance(Duration::seconds(10));
    assert_eq!(app.run_jobs().await.webhooks_delivered, 1);

    // A day of 500s: given up, and the endpoint is failing with the reason.
    then_answer(&server, ResponseTemplate::new(503), 1000).await;
    rename(&app, &ada, &org, "Acme 7").await;
    for _ in 0..60 {
        app.run_jobs().await;
        app.clock.advance(Duration::minutes(75));
    }
    let list = deliveries(&app, &ada, &org, webhook).await;
    assert_eq!(list[0]["state"], "failed");
    let attempts = list[0]["attempts"].as_array().unwrap().len();
    assert!((15..=40).contains(&attempts), "{attempts} attempts in a day");
    let listed = json(app.post("/organization/webhooks/list", &ada, &json!({"organizationId": org})).await).await;
    let failing = &listed["webhooks"][0]["failing"];
    assert!(failing["reason"].as_str().unwrap().contains("HTTP 503"), "{failing}");
    // Enabling it again clears the mark; the next delivered event would too.
    let update = json!({"organizationId": org, "webhookId": webhook, "enabled": true});
    assert_eq!(json(app.post("/organization/webhooks/update", &ada, &update).await).await["failing"], Value::Null);
}
both!(events_arrive_signed_in_order_and_failures_are_retried_then_given_up);

async fn a_disabled_or_deleted_endpoint_gets_nothing_replays_keep_the_id_and_rotation_signs_twice(backend: Backend) {
    let app = spawn(backend).await;
    let root = app.token(ROOT);
    let server = receiver().await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    let body = json!({"url": format!("{}/all", server.uri()), "eventTypes": ["organization.updated"]});
    let made = json(app.request(Method::POST, "/admin/webhooks", Some(&root), Some(&body)).await).await;
    let (old_secret, webhook) = (made["secret"].as_str().unwrap().to_owned(), made["webhook"]["id"].as_str().unwrap());

    // Disabled: nothing, not even later.
    let disable = json!({"enabled": false});
    let res = app.request(Method::PATCH, &format!("/admin/webhooks/{webhook}"), Some(&root), Some(&disable)).await;
    assert_eq!(res.status(), 200);
    rename(&app, &ada, &org, "Quiet").await;
    app.run_jobs().await;
    let enable = json!({"enabled": true});
    app.request(Method::PATCH, &format!("/admin/webhooks/{webhook}"), Some(&root), Some(&enable)).await;
    app.run_jobs().await;
    assert!(posts(&server).await.is_empty(), "an event while disabled is never delivered");

    // Enabled: delivered; replayed: again, with the same id.
    rename(&app, &ada, &org, "Loud").await;
    app.run_jobs().await;
    let list =
        json(app.request(Method::GET, &format!("/admin/webhooks/{webhook}/deliveries"), Some(&root), None).await).await;
    let delivery = list["deliveries"][0]["id"].as_str().unwrap();
    assert_eq!(list["deliveries"][0]["state"], "delivered");
    let replay = format!("/admin/webhooks/{webhook}/deliveries/{delivery}/replay");
    let res = app.request(Method::POST, &replay, Some(&root), None).await;
    assert_eq!(res.status(), 202);
    assert_eq!(json(res).await["replayOf"], delivery);
    let missing = format!("/admin/webhooks/{webhook}/deliveries/{}/replay", uuid::Uuid::now_v7());
    assert_problem(app.request(Method::POST, &missing, Some(&root), None).await, 404, "webhook.delivery_not_found")
        .await;
    app.run_jobs().await;
    let got = posts(&server).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].id, got[1].id, "a replay is the same message");
    assert_eq!(got[0].raw, got[1].raw);

    // Rotated: both secrets sign for a day, then the new one alone.
    let rotated =
        json(app.request(Method::POST, &format!("/admin/webhooks/{webhook}/rotate"), Some(&root), None).await).await;
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, old_secret);
    assert!(rotated["webhook"]["previousSecretUntil"].is_string());
    rename(&app, &ada, &org, "Rotated").await;
    app.run_jobs().await;
    let got = posts(&server).await;
    let last = got.last().unwrap();
    assert_eq!(last.signatures.len(), 2);
    assert!(last.signed_by(new_secret) && last.signed_by(&old_secret));
    app.clock.advance(Duration::hours(25));
    rename(&app, &ada, &org, "Later").await;
    app.run_jobs().await;
    let got = posts(&server).await;
    let last = got.last().unwrap();
    assert!(last.signed_by(new_secret) && !last.signed_by(&old_secret) && last.signatures.len() == 1);

    // Deleted: nothing more.
    let count = got.len();
    let res = app.request(Method::DELETE, &format!("/admin/webhooks/{webhook}"), Some(&root), None).await;
    assert_eq!(res.status(), 204);
    rename(&app, &ada, &org, "Gone").await;
    app.run_jobs().await;
    assert_eq!(posts(&server).await.len(), count);
}
both!(a_disabled_or_deleted_endpoint_gets_nothing_replays_keep_the_id_and_rotation_signs_twice);

// PostgreSQL only: replicas share one database only there.
#[tokio::test]
async fn three_replicas_deliver_each_event_exactly_once_on_postgres() {
    let app = spawn(Backend::Postgres).await;
    let replicas = [app.spawn_replica(|_| {}).await, app.spawn_replica(|_| {}).await];
    let server = receiver().await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    register_for(&app, &ada, &org, json!({"url": format!("{}/hooks", server.uri())})).await;
    for round in 0..4 {
        for n in 0..5 {
            rename(&app, &ada, &org, &format!("Acme {round}.{n}")).await;
        }
        join_all([app.run_jobs(), replicas[0].run_jobs(), replicas[1].run_jobs()]).await;
    }
    // Whatever a replica left claimed is done by the next runs.
    join_all([app.run_jobs(), replicas[0].run_jobs(), replicas[1].run_jobs()]).await;
    let got = posts(&server).await;
    let mut ids: Vec<&str> = got.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), 20, "each rename once");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 20, "no event twice");
    // In commit order: one subject (the organization).
    let feed = app
        .request(
            Method::POST,
            "/organization/events",
            Some(&ada),
            Some(&json!({"organizationId": org, "types": ["organization.updated"]})),
        )
        .await;
    let order: Vec<String> =
        json(feed).await["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(got.iter().map(|p| p.id.clone()).collect::<Vec<_>>(), order);
}

// An endpoint acts for the admin who registered it: when their time-bound
// membership runs out (or they are removed, or a superuser is demoted), it
// stops delivering and is disabled with the reason, so a former admin's
// receiver gets nothing more; another admin enabling it takes it over.
async fn a_former_admins_endpoint_stops_until_another_admin_takes_it_over(backend: Backend) {
    let app = spawn(backend).await;
    let root = app.token(ROOT);
    let server = receiver().await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    let created =
        crate::organizations::invite(&app, &ada, &org, json!({"role": "admin", "membershipDurationSeconds": 3600}))
            .await;
    let temp = app.token("temp@example.com");
    let res = app.post("/invitation/accept", &temp, &json!({"token": created["token"]})).await;
    assert_eq!(res.status(), 200, "a time-bound admin joins");
    let made = register_for(&app, &temp, &org, json!({"url": format!("{}/theirs", server.uri())})).await;
    let webhook = made["webhook"]["id"].as_str().unwrap();
    rename(&app, &ada, &org, "While they are admin").await;
    assert_eq!(app.run_jobs().await.webhooks_delivered, 1);

    // Their hour is over: the next change is not delivered, and the endpoint says why.
    app.clock.advance(Duration::hours(2));
    rename(&app, &ada, &org, "After their term").await;
    app.run_jobs().await;
    assert_eq!(posts(&server).await.len(), 1, "nothing after the term");
    let listed = json(app.post("/organization/webhooks/list", &ada, &json!({"organizationId": org})).await).await;
    let endpoint = &listed["webhooks"][0];
    assert_eq!(endpoint["enabled"], false);
    assert!(endpoint["failing"]["reason"].as_str().unwrap().contains("no longer manages"), "{endpoint}");
    // They cannot turn it back on themselves.
    let enable = json!({"organizationId": org, "webhookId": webhook, "enabled": true});
    assert_problem(app.post("/organization/webhooks/update", &temp, &enable).await, 403, "organization.not_member")
        .await;

    // Ada enables it: it acts for her, and delivers again.
    let taken = json(app.post("/organization/webhooks/update", &ada, &enable).await).await;
    assert_eq!(taken["createdBy"], crate::organizations::user_id(&app, &ada).await.as_str());
    rename(&app, &ada, &org, "Taken over").await;
    app.run_jobs().await;
    let got = posts(&server).await;
    assert_eq!(got.last().unwrap().body["data"]["organization"]["name"], "Taken over");

    // A superuser's endpoint stops once they are no longer a superuser.
    let made = json(
        app.request(
            Method::POST,
            "/admin/webhooks",
            Some(&root),
            Some(&json!({"url": format!("{}/all", server.uri())})),
        )
        .await,
    )
    .await;
    let other_root = app.token("root2@example.com");
    let root2_id = crate::organizations::user_id(&app, &other_root).await;
    let promote = json!({"platformRole": "superuser"});
    let res = app.request(Method::PATCH, &format!("/admin/users/{root2_id}"), Some(&root), Some(&promote)).await;
    assert_eq!(res.status(), 200);
    let root_id = crate::organizations::user_id(&app, &root).await;
    let demote = json!({"platformRole": "user"});
    let res = app.request(Method::PATCH, &format!("/admin/users/{root_id}"), Some(&other_root), Some(&demote)).await;
    assert_eq!(res.status(), 200);
    let before = posts(&server).await.len();
    rename(&app, &ada, &org, "After the demotion").await;
    app.run_jobs().await;
    let got = posts(&server).await;
    assert_eq!(got.len(), before + 1, "Ada's endpoint only");
    let path = format!("/admin/webhooks/{}", made["webhook"]["id"].as_str().unwrap());
    let listed = json(app.request(Method::GET, "/admin/webhooks", Some(&other_root), None).await).await;
    assert_eq!(listed["webhooks"][0]["enabled"], false, "{listed} {path}");
}
both!(a_former_admins_endpoint_stops_until_another_admin_takes_it_over);

/// Answers 204 after a moment, and says when a post arrived.
struct Arrived(std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>);

impl wiremock::Respond for Arrived {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        if let Some(tx) = self.0.lock().unwrap().take() {
            let _ = tx.send(());
        }
        ResponseTemplate::new(204).set_delay(std::time::Duration::from_millis(300))
    }
}

// An endpoint deleted while an attempt is in flight: the attempt's answer
// has nothing left to be recorded on, and the job goes on without an error.
async fn an_endpoint_deleted_during_an_attempt_is_left_deleted(backend: Backend) {
    let app = spawn(backend).await;
    let server = MockServer::start().await;
    let (tx, rx) = tokio::sync::oneshot::channel();
    Mock::given(any()).respond_with(Arrived(std::sync::Mutex::new(Some(tx)))).mount(&server).await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    let made = register_for(&app, &ada, &org, json!({"url": format!("{}/hooks", server.uri())})).await;
    let webhook = made["webhook"]["id"].as_str().unwrap().to_owned();
    rename(&app, &ada, &org, "In flight").await;
    let delete = async {
        rx.await.unwrap();
        let body = json!({"organizationId": org, "webhookId": webhook});
        assert_eq!(app.post("/organization/webhooks/delete", &ada, &body).await.status(), 204);
    };
    let (run, ()) = tokio::join!(app.run_jobs(), delete);
    assert_eq!(run.webhooks_delivered, 1, "the receiver took it, and the job did not fail on the deleted row");
    let listed = json(app.post("/organization/webhooks/list", &ada, &json!({"organizationId": org})).await).await;
    assert_eq!(listed["webhooks"], json!([]));
}
both!(an_endpoint_deleted_during_an_attempt_is_left_deleted);
