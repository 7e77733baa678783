//! Photo verification (seed 000), black-box, on SQLite and PostgreSQL, with a
//! wiremock fake of Discord's REST API behind `discord.api_base`.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use test_support::images::png;
use test_support::on_both_backends as both;
use test_support::{Backend, TestApp, assert_problem, json};
use usher_api::settings::Secret;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ROOT: &str = "root@example.com";
const ROOT2: &str = "root2@example.com";
const ADA_DISCORD: &str = "80351110224678912";

/// The app with photo verification on, two superusers and Discord faked by `discord`.
async fn spawn(backend: Backend, discord: &MockServer, configure: impl FnOnce(&mut usher_api::Settings)) -> TestApp {
    let api_base = discord.uri();
    TestApp::spawn_with(backend, |s| {
        s.auth.bootstrap_superusers = usher_api::settings::Parsed::new(vec![ROOT.into(), ROOT2.into()]).unwrap();
        s.features.photo_verification = true;
        s.discord.api_base = api_base;
        s.discord.bot_token = Some(Secret::new("test-bot-token"));
        s.avatar.tries_per_window = 100;
        s.database.max_connections = 10;
        configure(s);
    })
    .await
}

/// Discord answers every user lookup with this avatar hash.
async fn discord_avatar(server: &MockServer, hash: Option<&str>) {
    server.reset().await;
    Mock::given(method("GET"))
        .and(path(format!("/users/{ADA_DISCORD}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": ADA_DISCORD, "avatar": hash})))
        .mount(server)
        .await;
}

async fn user_id(app: &TestApp, token: &str) -> String {
    let body = json(app.get_user(token).await).await;
    body["id"].as_str().unwrap().to_owned()
}

async fn patch(app: &TestApp, path: &str, token: &str, body: Option<&Value>) -> reqwest::Response {
    app.request(Method::PATCH, path, Some(token), body).await
}

async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.request(Method::GET, path, Some(token), None).await
}

/// Links `discord` to the user of `token`, as root.
async fn link(app: &TestApp, token: &str, discord: &str) {
    let id = user_id(app, token).await;
    let root = app.token(ROOT);
    let res = patch(app, &format!("/admin/users/{id}"), &root, Some(&json!({"discordId": discord}))).await;
    assert_eq!(res.status(), 200, "linking Discord");
}

/// Ticket + PUT; returns the tmp key to finalize.
async fn upload(app: &TestApp, token: &str, tag: u32) -> String {
    let res = app.post("/user/avatar/upload-ticket", token, &json!({"contentType": "image/png"})).await;
    assert_eq!(res.status(), 200, "ticket");
    let body = json(res).await;
    let url = body["uploadUrl"].as_str().unwrap();
    let put = app.client.put(url).header("content-type", "image/png").body(png(tag)).send().await.unwrap();
    assert!(put.status().is_success(), "upload");
    body["tmpKey"].as_str().unwrap().to_owned()
}

async fn finalize(app: &TestApp, token: &str, tmp_key: &str) -> reqwest::Response {
    app.post("/user/avatar/finalize", token, &json!({"tmpKey": tmp_key})).await
}

/// Upload and finalize, then run the background jobs (which read the
/// Discord avatar: finalize never waits on Discord); returns the finalize body.
async fn new_photo(app: &TestApp, token: &str, tag: u32) -> Value {
    let key = upload(app, token, tag).await;
    let res = finalize(app, token, &key).await;
    assert_eq!(res.status(), 200, "finalize");
    let body = json(res).await;
    app.run_jobs().await;
    body
}

/// The URL without its query: what anyone without a signature would ask for.
fn unsigned(url: &str) -> &str {
    url.split('?').next().unwrap()
}

async fn avatar_url(app: &TestApp, token: &str) -> Value {
    json(app.get_user(token).await).await["avatarUrl"].clone()
}

async fn verifications(app: &TestApp, token: &str, user: &str, status: &str) -> Vec<Value> {
    let res = get(app, &format!("/picture/{user}?status={status}"), token).await;
    assert_eq!(res.status(), 200);
    json(res).await["items"].as_array().unwrap().clone()
}

async fn the_whole_review_flow(backend: Backend) {
    let discord = MockServer::start().await;
    discord_avatar(&discord, Some("hash1")).await;
    let app = spawn(backend, &discord, |_| {}).await;
    let (ada, root) = (app.token("ada@x.io"), app.token(ROOT));
    link(&app, &ada, ADA_DISCORD).await;
    let ada_id = user_id(&app, &ada).await;

    // Upload → PENDING; the avatar does not change.
    let opened = new_photo(&app, &ada, 1).await;
    assert_eq!(opened["avatarUrl"], Value::Null);
    assert_eq!(opened["pendingVerification"]["status"], "PENDING");
    let id = opened["pendingVerification"]["id"].as_str().unwrap().to_owned();
    assert_eq!(avatar_url(&app, &ada).await, Value::Null);
    let mine = verifications(&app, &ada, &ada_id, "PENDING").await;
    assert_eq!(mine.len(), 1);
    let v = &mine[0];
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["discordId"], ADA_DISCORD);
    assert_eq!(v["discord"]["state"], "fetched");
    assert_eq!(v["discord"]["avatarHash"], "hash1");
    assert!(v["discord"]["url"].as_str().unwrap().ends_with("/hash1.png?size=512"));
    assert_eq!(v["profile"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(v["user"]["username"], "ada");
    let requested = v["profile"]["url"].as_str().unwrap().to_owned();
    assert!(requested.contains("/pending/"), "unreviewed, the photo is private: {requested}");
    assert_eq!(app.client.get(&requested).send().await.unwrap().status(), 200, "the requested image is stored");

    // Approve the profile side: still PENDING.
    let res = patch(&app, &format!("/picture/verify/{id}?type=profile"), &root, None).await;
    assert_eq!(res.status(), 200);
    let v = json(res).await;
    assert_eq!(v["status"], "PENDING");
    assert_eq!(v["profile"]["approved"], true);
    assert_eq!(v["version"], 3, "opened, then the background read of the Discord avatar, then this approval");

    // The Discord avatar changes: the refresh clears both approvals.
    discord_avatar(&discord, Some("a_hash2")).await;
    let res = patch(&app, &format!("/discord-actions/avatar/update/{ADA_DISCORD}"), &root, None).await;
    assert_eq!(res.status(), 200);
    let v = json(res).await;
    assert_eq!(v["discord"]["avatarHash"], "a_hash2");
    assert!(v["discord"]["url"].as_str().unwrap().ends_with("/a_hash2.gif?size=512"), "animated avatars are gifs");
    assert_eq!(v["profile"]["approved"], false);
    // An unchanged avatar keeps the approvals.
    patch(&app, &format!("/picture/verify/{id}?type=profile"), &root, None).await;
    let v = json(patch(&app, &format!("/discord-actions/avatar/update/{ADA_DISCORD}"), &root, None).await).await;
    assert_eq!(v["profile"]["approved"], true);

    // Approve both: ACCEPTED and the photo goes live.
    let res = patch(&app, &format!("/picture/verify/{id}?type=both"), &root, None).await;
    assert_eq!(res.status(), 200);
    let v = json(res).await;
    assert_eq!(v["status"], "ACCEPTED");
    assert!(v["decidedBy"].is_string());
    let live = v["profile"]["url"].as_str().unwrap().to_owned();
    assert!(!live.contains("/pending/") && !live.contains('?'), "accepted, the photo is public: {live}");
    assert_eq!(avatar_url(&app, &ada).await, live.as_str());
    assert_eq!(app.client.get(&live).send().await.unwrap().status(), 200);
    assert_eq!(app.client.get(&requested).send().await.unwrap().status(), 404, "the private copy is gone");
    assert!(verifications(&app, &ada, &ada_id, "PENDING").await.is_empty());
    assert_eq!(verifications(&app, &ada, &ada_id, "all").await.len(), 1);
    // Terminal: every action is refused.
    let res = patch(&app, &format!("/picture/verify/{id}?type=profile"), &root, None).await;
    let body = assert_problem(res, 409, "photo.already_decided").await;
    assert_eq!(body["current"]["status"], "ACCEPTED");
    let res = patch(&app, &format!("/picture/reject/{id}"), &root, Some(&json!({"reason": "late"}))).await;
    assert_problem(res, 409, "photo.already_decided").await;

    // A rejected photo: the reason is kept, the avatar stays, the image is deleted.
    let opened = new_photo(&app, &ada, 2).await;
    assert_eq!(opened["avatarUrl"], live.as_str(), "finalize answers with the avatar still live");
    let id2 = opened["pendingVerification"]["id"].as_str().unwrap().to_owned();
    for bad in [json!({"reason": ""}), json!({"reason": "   "}), json!({"reason": "x".repeat(501)}), json!({})] {
        let res = patch(&app, &format!("/picture/reject/{id2}"), &root, Some(&bad)).await;
        assert_problem(res, 422, "request.validation").await;
    }
    let res = patch(&app, &format!("/picture/reject/{id2}"), &root, Some(&json!({"reason": "x", "extra": 1}))).await;
    assert_problem(res, 422, "request.validation").await;
    let res = patch(&app, &format!("/picture/reject/{id2}"), &root, Some(&json!({"reason": "Not your face."}))).await;
    assert_eq!(res.status(), 200);
    let v = json(res).await;
    assert_eq!(v["status"], "REJECTED");
    assert_eq!(v["reason"], "Not your face.");
    assert_eq!(v["retry"], "retry", "by default the user may try again");
    assert_eq!(avatar_url(&app, &ada).await, live.as_str());
    let rejected_url = v["profile"]["url"].as_str().unwrap();
    assert_eq!(app.client.get(rejected_url).send().await.unwrap().status(), 404, "the rejected image is deleted");

    // A new upload while one is PENDING supersedes it; never two PENDING.
    let first = new_photo(&app, &ada, 3).await;
    let second = new_photo(&app, &ada, 4).await;
    let pending = verifications(&app, &ada, &ada_id, "PENDING").await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["id"], second["pendingVerification"]["id"]);
    let history = verifications(&app, &ada, &ada_id, "all").await;
    let superseded: Vec<_> = history.iter().filter(|v| v["status"] == "SUPERSEDED").collect();
    assert_eq!(superseded.len(), 1);
    assert_eq!(superseded[0]["id"], first["pendingVerification"]["id"]);
    let gone = superseded[0]["profile"]["url"].as_str().unwrap();
    assert_eq!(app.client.get(gone).send().await.unwrap().status(), 404, "the superseded image is deleted");
    assert_eq!(verifications(&app, &ada, &ada_id, "SUPERSEDED").await.len(), 1);
    assert_eq!(history.len(), 4, "newest first, the whole history");
    assert_eq!(history[0]["id"], second["pendingVerification"]["id"]);

    // Accepting the pending one replaces the live avatar and deletes the old object.
    let id4 = second["pendingVerification"]["id"].as_str().unwrap();
    let v = json(patch(&app, &format!("/picture/verify/{id4}?type=both"), &root, None).await).await;
    assert_eq!(v["status"], "ACCEPTED");
    assert_eq!(app.client.get(&live).send().await.unwrap().status(), 404, "the replaced avatar is deleted");

    // Each step wrote its event with the change (docs/events.md), by id only.
    let types = "photo_verification.opened,photo_verification.approved,photo_verification.discord_refreshed,\
                 photo_verification.accepted,photo_verification.rejected,photo_verification.superseded";
    let feed = json(get(&app, &format!("/events?limit=500&types={types}"), &root).await).await;
    let first_id = id.as_str();
    let of = |id: &str| -> Vec<(String, Value)> {
        feed["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["subject"]["id"] == id)
            // Whether the background read of the Discord avatar comes before a decision is its own timing.
            .filter(|e| e["type"] != "photo_verification.discord_refreshed" || id == first_id)
            .map(|e| (e["type"].as_str().unwrap().to_owned(), e["data"].clone()))
            .collect()
    };
    let first_steps = of(&id);
    assert_eq!(first_steps.first().unwrap().0, "photo_verification.opened");
    assert_eq!(first_steps.last().unwrap().0, "photo_verification.accepted");
    assert!(first_steps.iter().any(|(t, d)| t == "photo_verification.approved" && d["side"] == "profile"));
    assert!(first_steps.iter().any(|(t, _)| t == "photo_verification.discord_refreshed"));
    let rejected: Vec<_> = of(&id2).into_iter().map(|(t, d)| (t, d["reason"].clone(), d["retry"].clone())).collect();
    assert_eq!(
        rejected,
        [
            ("photo_verification.opened".to_owned(), Value::Null, Value::Null),
            ("photo_verification.rejected".to_owned(), json!("Not your face."), json!("retry")),
        ]
    );
    let replaced: Vec<_> =
        of(first["pendingVerification"]["id"].as_str().unwrap()).into_iter().map(|(t, _)| t).collect();
    assert_eq!(replaced, ["photo_verification.opened", "photo_verification.superseded"]);
    assert_eq!(of(id4).last().unwrap().1["photoVerification"]["status"], "ACCEPTED");
    assert!(!feed.to_string().contains("/files/"), "no photo URL in an event");
}

async fn the_review_rules(backend: Backend) {
    let discord = MockServer::start().await;
    discord_avatar(&discord, None).await;
    let app = spawn(backend, &discord, |_| {}).await;
    let (ada, bob, root) = (app.token("ada@x.io"), app.token("bob@x.io"), app.token(ROOT));
    link(&app, &ada, ADA_DISCORD).await;
    let ada_id = user_id(&app, &ada).await;
    let opened = new_photo(&app, &ada, 1).await;
    let id = opened["pendingVerification"]["id"].as_str().unwrap().to_owned();
    let v = &verifications(&app, &ada, &ada_id, "PENDING").await[0];
    assert!(v["discord"]["url"].as_str().unwrap().starts_with("https://cdn.discordapp.com/embed/avatars/"));

    // Only superusers review; only the user or a superuser sees a user's photos.
    assert_problem(get(&app, "/picture/all", &ada).await, 403, "auth.superuser_required").await;
    assert_problem(get(&app, &format!("/picture/{ada_id}"), &bob).await, 403, "picture.forbidden").await;
    assert_eq!(get(&app, &format!("/picture/{ada_id}"), &root).await.status(), 200);
    assert_problem(app.request(Method::GET, "/picture/all", None, None).await, 401, "auth.missing_token").await;
    let res = patch(&app, &format!("/picture/verify/{id}?type=both"), &ada, None).await;
    assert_problem(res, 403, "auth.superuser_required").await;
    let res = patch(&app, &format!("/picture/reject/{id}"), &bob, Some(&json!({"reason": "no"}))).await;
    assert_problem(res, 403, "auth.superuser_required").await;
    let res = patch(&app, &format!("/discord-actions/avatar/update/{ADA_DISCORD}"), &ada, None).await;
    assert_problem(res, 403, "auth.superuser_required").await;

    // Bad input is a clear problem, never a 500.
    for bad in ["?type=everything", "?type=", ""] {
        let res = patch(&app, &format!("/picture/verify/{id}{bad}"), &root, None).await;
        assert_problem(res, 422, "request.validation").await;
    }
    let unknown = "0196f0e0-0000-7000-8000-000000000000";
    assert_problem(
        patch(&app, &format!("/picture/verify/{unknown}?type=both"), &root, None).await,
        404,
        "photo.not_found",
    )
    .await;
    assert_problem(patch(&app, "/picture/verify/not-a-uuid?type=both", &root, None).await, 404, "photo.not_found")
        .await;
    let res = patch(&app, &format!("/picture/reject/{unknown}"), &root, Some(&json!({"reason": "no"}))).await;
    assert_problem(res, 404, "photo.not_found").await;
    assert_problem(get(&app, "/picture/abc", &root).await, 404, "http.not_found").await;
    assert_problem(get(&app, &format!("/picture/{ada_id}?status=maybe"), &ada).await, 422, "request.validation").await;
    assert_problem(get(&app, "/picture/all?status=nope", &root).await, 422, "request.validation").await;
    // One spelling, as the document's enum lists it: no case folding, no empty value.
    for spelling in ["pending", "All", "", "%20PENDING"] {
        let res = get(&app, &format!("/picture/all?status={spelling}"), &root).await;
        assert_problem(res, 422, "request.validation").await;
    }
    assert_problem(get(&app, "/picture/all?limit=0", &root).await, 422, "request.validation").await;
    assert_problem(get(&app, "/picture/all?cursor=garbage", &root).await, 422, "request.validation").await;
    let res = patch(&app, "/discord-actions/avatar/update/12345", &root, None).await;
    assert_problem(res, 422, "request.validation").await;
    let res = patch(&app, "/discord-actions/avatar/update/80351110224678913", &root, None).await;
    assert_problem(res, 404, "photo.no_pending_verification").await;

    // /picture/all: the filter is applied; an unknown username is an empty page.
    let all = json(get(&app, "/picture/all", &root).await).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    assert_eq!(all["items"][0]["user"]["id"], ada_id.as_str());
    assert_eq!(all["items"][0]["user"]["displayName"], "ada");
    assert!(all["items"][0]["user"].get("avatarUrl").is_some());
    let none = json(get(&app, "/picture/all?username=nobody", &root).await).await;
    assert_eq!(none, json!({"items": [], "nextCursor": null}));
    let adas = json(get(&app, "/picture/all?username=ada&status=PENDING", &root).await).await;
    assert_eq!(adas["items"].as_array().unwrap().len(), 1);
    let accepted = json(get(&app, "/picture/all?status=ACCEPTED", &root).await).await;
    assert!(accepted["items"].as_array().unwrap().is_empty());
    // Keyset paging over the history.
    new_photo(&app, &ada, 2).await;
    new_photo(&app, &ada, 3).await;
    let page1 = json(get(&app, "/picture/all?status=all&limit=2", &root).await).await;
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["nextCursor"].as_str().unwrap();
    let page2 = json(get(&app, &format!("/picture/all?status=all&limit=2&cursor={cursor}"), &root).await).await;
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert_eq!(page2["nextCursor"], Value::Null);
    assert_eq!(page2["items"][0]["id"], id.as_str(), "the oldest comes last");
}

async fn discord_must_be_linked_unless_configured_otherwise(backend: Backend) {
    let discord = MockServer::start().await;
    let app = spawn(backend, &discord, |_| {}).await;
    let bob = app.token("bob@x.io");
    let res = app.post("/user/avatar/upload-ticket", &bob, &json!({"contentType": "image/png"})).await;
    assert_problem(res, 403, "photo.discord_not_linked").await;
    let tries = json(app.get_user(&bob).await).await["avatarUploadTriesRemaining"].clone();
    assert_eq!(tries, 100, "the refused ticket used no try");

    let app = spawn(backend, &discord, |s| s.photo_verification.require_discord = false).await;
    let (bob, root) = (app.token("bob@x.io"), app.token(ROOT));
    let bob_id = user_id(&app, &bob).await;
    let opened = new_photo(&app, &bob, 1).await;
    let id = opened["pendingVerification"]["id"].as_str().unwrap();
    let v = &verifications(&app, &bob, &bob_id, "PENDING").await[0];
    assert_eq!(v["discord"]["state"], "notLinked");
    assert_eq!(v["discordId"], Value::Null);
    let res = patch(&app, &format!("/picture/verify/{id}?type=discord"), &root, None).await;
    assert_problem(res, 409, "photo.discord_not_linked").await;
    let v = json(patch(&app, &format!("/picture/verify/{id}?type=profile"), &root, None).await).await;
    assert_eq!(v["status"], "ACCEPTED", "only the profile side needs approval");
    assert_eq!(avatar_url(&app, &bob).await, v["profile"]["url"]);
}

async fn discord_failures_become_clear_problems(backend: Backend) {
    let discord = MockServer::start().await;
    let app = spawn(backend, &discord, |_| {}).await;
    let (ada, root) = (app.token("ada@x.io"), app.token(ROOT));
    link(&app, &ada, ADA_DISCORD).await;
    // Discord down at upload time: the upload still opens a verification, unread.
    discord.reset().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(404)).mount(&discord).await;
    let opened = new_photo(&app, &ada, 1).await;
    let id = opened["pendingVerification"]["id"].as_str().unwrap().to_owned();
    let res = patch(&app, &format!("/picture/verify/{id}?type=discord"), &root, None).await;
    assert_problem(res, 409, "photo.discord_not_fetched").await;
    let refresh = format!("/discord-actions/avatar/update/{ADA_DISCORD}");
    assert_problem(patch(&app, &refresh, &root, None).await, 404, "discord.user_not_found").await;

    discord.reset().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(401)).mount(&discord).await;
    assert_problem(patch(&app, &refresh, &root, None).await, 502, "discord.unauthorized").await;

    discord.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"retry_after": 42.0})))
        .mount(&discord)
        .await;
    let res = patch(&app, &refresh, &root, None).await;
    assert_eq!(res.headers().get("retry-after").unwrap(), "42");
    assert_problem(res, 503, "discord.rate_limited").await;

    discord.reset().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(503)).expect(3).mount(&discord).await;
    assert_problem(patch(&app, &refresh, &root, None).await, 502, "discord.unavailable").await;
    discord.verify().await;

    let app = spawn(backend, &discord, |s| s.discord.bot_token = None).await;
    let (ada, root) = (app.token("ada@x.io"), app.token(ROOT));
    link(&app, &ada, ADA_DISCORD).await;
    new_photo(&app, &ada, 1).await;
    assert_problem(patch(&app, &refresh, &root, None).await, 503, "discord.not_configured").await;
}

async fn with_the_flag_off_the_avatar_changes_at_once(backend: Backend) {
    let discord = MockServer::start().await;
    let app = spawn(backend, &discord, |s| s.features.photo_verification = false).await;
    let bob = app.token("bob@x.io");
    let body = new_photo(&app, &bob, 1).await;
    assert_eq!(body["pendingVerification"], Value::Null);
    assert_eq!(avatar_url(&app, &bob).await, body["avatarUrl"]);
}

async fn finalize_never_waits_on_discord(backend: Backend) {
    let discord = MockServer::start().await;
    discord_avatar(&discord, Some("hash1")).await;
    let app = spawn(backend, &discord, |_| {}).await;
    let ada = app.token("ada@x.io");
    link(&app, &ada, ADA_DISCORD).await;
    let key = upload(&app, &ada, 1).await;
    let opened = json(finalize(&app, &ada, &key).await).await;
    // Not a call to Discord on the user's path: a slow or hung Discord cannot hold it.
    assert!(discord.received_requests().await.unwrap().is_empty(), "finalize called Discord");
    let id = opened["pendingVerification"]["id"].as_str().unwrap();
    let detail = json(get(&app, &format!("/picture/verification/{id}"), &ada).await).await;
    assert_eq!(detail["verification"]["discord"]["state"], "notFetched");
    // The background job reads it for the reviewer.
    app.run_jobs().await;
    assert_eq!(discord.received_requests().await.unwrap().len(), 1);
    let ada_id = user_id(&app, &ada).await;
    let v = &verifications(&app, &ada, &ada_id, "PENDING").await[0];
    assert_eq!(v["discord"]["state"], "fetched");
    assert_eq!(v["discord"]["avatarHash"], "hash1");
    // A second run has nothing left to read.
    app.run_jobs().await;
    assert_eq!(discord.received_requests().await.unwrap().len(), 1);
}

async fn an_unreviewed_photo_is_private_until_accepted(backend: Backend) {
    let discord = MockServer::start().await;
    let app = spawn(backend, &discord, |s| s.photo_verification.require_discord = false).await;
    let (ada, bob, root) = (app.token("ada@x.io"), app.token("bob@x.io"), app.token(ROOT));
    let ada_id = user_id(&app, &ada).await;
    let opened = new_photo(&app, &ada, 1).await;
    let id = opened["pendingVerification"]["id"].as_str().unwrap().to_owned();
    let detail = json(get(&app, &format!("/picture/verification/{id}"), &ada).await).await;
    let signed = detail["verification"]["profile"]["url"].as_str().unwrap().to_owned();
    assert!(signed.contains("/pending/") && signed.contains("signature="), "{signed}");

    // The owner's signed URL works and is not cached by anyone in between.
    let res = app.client.get(&signed).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    // Without the signature, or with a forged one, it does not exist.
    assert_eq!(app.client.get(unsigned(&signed)).send().await.unwrap().status(), 404);
    let forged = format!("{}0", &signed[..signed.len() - 1]);
    let forged = if forged == signed { format!("{}1", &signed[..signed.len() - 1]) } else { forged };
    assert_eq!(app.client.get(&forged).send().await.unwrap().status(), 404);
    // A superuser gets their own signed URL; other users see nothing.
    let for_root = &json(get(&app, "/picture/all", &root).await).await["items"][0];
    let root_url = for_root["profile"]["url"].as_str().unwrap();
    assert_eq!(app.client.get(root_url).send().await.unwrap().status(), 200);
    assert_problem(get(&app, &format!("/picture/{ada_id}"), &bob).await, 403, "picture.forbidden").await;
    assert_problem(get(&app, &format!("/picture/verification/{id}"), &bob).await, 404, "photo.not_found").await;
    // Each read signs afresh (the signature's expiry is the store's own unit test).
    let fresh = &verifications(&app, &ada, &ada_id, "PENDING").await[0];
    assert_eq!(app.client.get(fresh["profile"]["url"].as_str().unwrap()).send().await.unwrap().status(), 200);

    // Accepted, it is public at a new key and the private copy is gone.
    let v = json(patch(&app, &format!("/picture/verify/{id}?type=profile"), &root, None).await).await;
    assert_eq!(v["status"], "ACCEPTED");
    let public = v["profile"]["url"].as_str().unwrap();
    assert!(!public.contains("/pending/") && !public.contains('?'), "{public}");
    let res = app.client.get(public).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["cache-control"].to_str().unwrap().starts_with("public"));
    assert_eq!(avatar_url(&app, &ada).await, public);
    assert_eq!(app.client.get(fresh["profile"]["url"].as_str().unwrap()).send().await.unwrap().status(), 404);
}

async fn reviewers_never_decide_their_own_photo(backend: Backend) {
    let discord = MockServer::start().await;
    let app = spawn(backend, &discord, |s| s.photo_verification.require_discord = false).await;
    let (root, root2) = (app.token(ROOT), app.token(ROOT2));
    let opened = new_photo(&app, &root, 1).await;
    let id = opened["pendingVerification"]["id"].as_str().unwrap().to_owned();
    let approve = format!("/picture/verify/{id}?type=both");
    let reject = format!("/picture/reject/{id}");
    assert_problem(patch(&app, &approve, &root, None).await, 403, "photo.own_verification").await;
    let body = json!({"reason": "changed my mind"});
    assert_problem(patch(&app, &reject, &root, Some(&body)).await, 403, "photo.own_verification").await;
    let pending = json(get(&app, "/picture/all", &root2).await).await;
    assert_eq!(pending["items"][0]["status"], "PENDING", "the refusals changed nothing");
    let v = json(patch(&app, &approve, &root2, None).await).await;
    assert_eq!(v["status"], "ACCEPTED", "another superuser may");
}

async fn two_reviewers_at_once_one_wins_one_gets_409(backend: Backend) {
    let discord = MockServer::start().await;
    let app = spawn(backend, &discord, |s| s.photo_verification.require_discord = false).await;
    let (ada, root, root2) = (app.token("ada@x.io"), app.token(ROOT), app.token(ROOT2));
    user_id(&app, &root).await;
    user_id(&app, &root2).await;
    let opened = new_photo(&app, &ada, 1).await;
    let id = opened["pendingVerification"]["id"].as_str().unwrap().to_owned();
    // Hold root's approval between its read and its write while root2 rejects.
    app.gate.arm("photo.decide");
    let approve = format!("/picture/verify/{id}?type=both");
    let reject = format!("/picture/reject/{id}");
    let (first, ()) = futures_util::join!(patch(&app, &approve, &root, None), async {
        app.gate.held().await;
        let res = patch(&app, &reject, &root2, Some(&json!({"reason": "Not your face."}))).await;
        assert_eq!(res.status(), 200, "the second reviewer decides while the first is held");
        app.gate.release();
    });
    let body = assert_problem(first, 409, "photo.conflict").await;
    assert_eq!(body["current"]["id"], id.as_str());
    assert_eq!(body["current"]["status"], "REJECTED", "the loser sees who won: {body}");
    assert_eq!(avatar_url(&app, &ada).await, Value::Null, "the losing approval published nothing");
}

async fn a_rejected_user_learns_why_and_whether_to_try_again(backend: Backend) {
    let discord = MockServer::start().await;
    let app = spawn(backend, &discord, |s| s.photo_verification.require_discord = false).await;
    let (ada, bob, root) = (app.token("ada@x.io"), app.token("bob@x.io"), app.token(ROOT));
    let ada_id = user_id(&app, &ada).await;
    let opened = new_photo(&app, &ada, 1).await;
    let id = opened["pendingVerification"]["id"].as_str().unwrap().to_owned();
    let reject = format!("/picture/reject/{id}");
    for bad in [
        json!({"reason": "Too dark.", "retry": "maybe"}),
        json!({"reason": "Too dark.", "note": " "}),
        json!({"reason": "Too dark.", "note": "x".repeat(2001)}),
    ] {
        assert_problem(patch(&app, &reject, &root, Some(&bad)).await, 422, "request.validation").await;
    }
    let body = json!({"reason": "Too dark.", "note": "Probably a stock photo.", "retry": "retry"});
    let v = json(patch(&app, &reject, &root, Some(&body)).await).await;
    assert_eq!((v["status"].as_str(), v["note"].as_str()), (Some("REJECTED"), Some("Probably a stock photo.")));

    // The user sees the reason and the retry choice, never the internal note.
    let mine = &verifications(&app, &ada, &ada_id, "REJECTED").await[0];
    assert_eq!(mine["reason"], "Too dark.");
    assert_eq!(mine["retry"], "retry");
    assert!(mine.get("note").is_none(), "{mine}");
    let seen_by_root = &verifications(&app, &root, &ada_id, "REJECTED").await[0];
    assert_eq!(seen_by_root["note"], "Probably a stock photo.");

    // The record: who did what, in order.
    let detail = json(get(&app, &format!("/picture/verification/{id}"), &ada).await).await;
    assert_eq!(detail["verification"]["id"], id.as_str());
    let kinds: Vec<_> = detail["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created", "rejected"]);
    assert_eq!(detail["events"][0]["actor"], ada_id.as_str());
    assert_eq!(detail["events"][1]["reason"], "Too dark.");
    assert!(detail["events"][1].get("note").is_none(), "{detail}");
    let detail = json(get(&app, &format!("/picture/verification/{id}"), &root).await).await;
    assert_eq!(detail["events"][1]["note"], "Probably a stock photo.");
    assert_problem(get(&app, &format!("/picture/verification/{id}"), &bob).await, 404, "photo.not_found").await;
    assert_problem(get(&app, "/picture/verification/nope", &root).await, 404, "photo.not_found").await;

    // `retry`: another photo is welcome; `final`: no more, and no try is spent asking.
    let second = new_photo(&app, &ada, 2).await;
    let id2 = second["pendingVerification"]["id"].as_str().unwrap();
    let body = json!({"reason": "Not a person.", "retry": "final"});
    let v = json(patch(&app, &format!("/picture/reject/{id2}"), &root, Some(&body)).await).await;
    assert_eq!(v["retry"], "final");
    let tries = json(app.get_user(&ada).await).await["avatarUploadTriesRemaining"].clone();
    let res = app.post("/user/avatar/upload-ticket", &ada, &json!({"contentType": "image/png"})).await;
    assert_problem(res, 403, "photo.rejected_final").await;
    assert_eq!(json(app.get_user(&ada).await).await["avatarUploadTriesRemaining"], tries);
}

both!(
    the_whole_review_flow,
    the_review_rules,
    discord_must_be_linked_unless_configured_otherwise,
    discord_failures_become_clear_problems,
    with_the_flag_off_the_avatar_changes_at_once,
    finalize_never_waits_on_discord,
    an_unreviewed_photo_is_private_until_accepted,
    reviewers_never_decide_their_own_photo,
    two_reviewers_at_once_one_wins_one_gets_409,
    a_rejected_user_learns_why_and_whether_to_try_again,
);

// PostgreSQL only: races concurrent writers, which SQLite already serialises (`BEGIN IMMEDIATE`).
#[tokio::test]
async fn twenty_concurrent_finalizes_leave_exactly_one_pending_on_postgres() {
    let discord = MockServer::start().await;
    discord_avatar(&discord, Some("hash1")).await;
    let app = spawn(Backend::Postgres, &discord, |_| {}).await;
    let (ada, root) = (app.token("ada@x.io"), app.token(ROOT));
    link(&app, &ada, ADA_DISCORD).await;
    let mut keys = Vec::new();
    for tag in 0..20 {
        keys.push(upload(&app, &ada, tag).await);
    }
    let results = join_all(keys.iter().map(|k| finalize(&app, &ada, k))).await;
    for res in results {
        assert_eq!(res.status(), 200, "every finalize supersedes the one before");
    }
    let pending = json(get(&app, "/picture/all?username=ada", &root).await).await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 1);
    let all = json(get(&app, "/picture/all?username=ada&status=all&limit=100", &root).await).await;
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert_eq!(items.iter().filter(|v| v["status"] == "SUPERSEDED").count(), 19);
}

// PostgreSQL only: races concurrent writers, which SQLite already serialises (`BEGIN IMMEDIATE`).
#[tokio::test]
async fn two_superusers_deciding_at_once_on_postgres_one_wins_one_gets_409() {
    let discord = MockServer::start().await;
    discord_avatar(&discord, Some("hash1")).await;
    let app = spawn(Backend::Postgres, &discord, |_| {}).await;
    let (ada, root, root2) = (app.token("ada@x.io"), app.token(ROOT), app.token(ROOT2));
    link(&app, &ada, ADA_DISCORD).await;
    // Provision both superusers first so the race is only about the decision.
    user_id(&app, &root).await;
    user_id(&app, &root2).await;
    for round in 0..5 {
        let opened = new_photo(&app, &ada, round).await;
        let id = opened["pendingVerification"]["id"].as_str().unwrap().to_owned();
        let approve = format!("/picture/verify/{id}?type=both");
        let reject = format!("/picture/reject/{id}");
        let body = json!({"reason": "no"});
        let (a, b) = futures_util::join!(patch(&app, &approve, &root, None), patch(&app, &reject, &root2, Some(&body)));
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "round {round}");
        let loser = if a.status() == 409 { a } else { b };
        let body = json(loser).await;
        let code = body["code"].as_str().unwrap();
        assert!(code == "photo.conflict" || code == "photo.already_decided", "{body}");
        assert_eq!(body["current"]["id"], id.as_str(), "the loser sees the current record: {body}");
        assert_ne!(body["current"]["status"], "PENDING");
        let decided = json(get(&app, "/picture/all?username=ada&status=all&limit=100", &root).await).await;
        let this = decided["items"].as_array().unwrap().iter().find(|v| v["id"] == id.as_str()).unwrap().clone();
        assert!(this["status"] == "ACCEPTED" || this["status"] == "REJECTED");
    }
}

// SQLite only: checks the OpenAPI document, which does not depend on the database.
#[tokio::test]
async fn the_openapi_document_describes_the_photo_and_admin_endpoints() {
    let discord = MockServer::start().await;
    let app = spawn(Backend::Sqlite, &discord, |_| {}).await;
    let doc = json(app.request(Method::GET, "/openapi.json", None, None).await).await;
    for (path, verb, operation) in [
        ("/picture/all", "get", "list-photo-verifications"),
        ("/picture/{userId}", "get", "list-user-photo-verifications"),
        ("/picture/verify/{id}", "patch", "approve-photo-verification"),
        ("/picture/reject/{id}", "patch", "reject-photo-verification"),
        ("/picture/verification/{id}", "get", "get-photo-verification"),
        ("/discord-actions/avatar/update/{discordId}", "patch", "refresh-discord-avatar"),
        ("/admin/users", "get", "search-users"),
        ("/admin/users/{userId}", "patch", "update-user"),
    ] {
        let op = &doc["paths"][path][verb];
        assert_eq!(op["operationId"], operation, "{path}");
        assert!(op["responses"]["401"].is_object(), "{path} documents its errors");
    }
    assert!(doc["components"]["schemas"]["PhotoVerification"].is_object());
    assert!(doc["components"]["schemas"]["Problem"]["properties"]["current"].is_object());
    let res = app.request(Method::POST, "/picture/all", Some(&app.token(ROOT)), None).await;
    assert_problem(res, 405, "http.method_not_allowed").await;
}
