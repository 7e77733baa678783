//! Personal-data rights, black-box on SQLite and PostgreSQL: the caller's
//! export holds everything about them, and a superuser's erasure removes
//! the personal data while decisions, memberships and logs keep the id.

use crate::organizations::{create_org, invite, user_id};
use reqwest::Method;
use serde_json::{Value, json};
use test_support::images::png;
use test_support::{Backend, TestApp, assert_problem, json};

const ROOT: &str = "root@example.com";

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |s| {
        s.auth.bootstrap_superusers = usher_api::settings::Parsed::new(vec![ROOT.into()]).unwrap();
        s.features.photo_verification = true;
        s.photo_verification.require_discord = false;
    })
    .await
}

/// Uploads a photo for review; returns the verification id.
async fn photo(app: &TestApp, token: &str, tag: u32) -> String {
    let body = json(app.post("/user/avatar/upload-ticket", token, &json!({"contentType": "image/png"})).await).await;
    let put = app.client.put(body["uploadUrl"].as_str().unwrap()).header("content-type", "image/png").body(png(tag));
    assert!(put.send().await.unwrap().status().is_success());
    let res = app.post("/user/avatar/finalize", token, &json!({"tmpKey": body["tmpKey"]})).await;
    assert_eq!(res.status(), 200);
    json(res).await["pendingVerification"]["id"].as_str().unwrap().to_owned()
}

async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.request(Method::GET, path, Some(token), None).await
}

/// Ada's world: a rejected profile with personal data and a reviewer's
/// note, a second one submitted, a pending photo, an invitation.
async fn world(app: &TestApp) -> (String, String, String, String) {
    let (ada, root) = (app.token("ada@example.com"), app.token(ROOT));
    let ada_id = user_id(app, &ada).await;
    let personal = json!({"firstName": "Augusta", "lastName": "Lovelace", "city": "London", "postcode": "SW1Y 4LE", "confirm": true});
    let first = json(app.post("/resource/profiles", &ada, &personal).await).await;
    let first_id = first["id"].as_str().unwrap().to_owned();
    let decide = json!({"state": "rejected", "reason": "Unreadable scan.", "note": "Internal: third try."});
    let res = app.request(Method::PUT, &format!("/admin/profiles/{first_id}"), Some(&root), Some(&decide)).await;
    assert_eq!(res.status(), 200);
    let second = app.post("/resource/profiles", &ada, &json!({"firstName": "Augusta", "confirm": true})).await;
    assert_eq!(second.status(), 201);
    let photo_id = photo(app, &ada, 1).await;
    let org = create_org(app, &root, "Acme").await;
    invite(app, &root, &org, json!({"role": "member", "email": "ada@example.com"})).await;
    (ada, ada_id, first_id, photo_id)
}

async fn the_export_holds_everything_about_the_caller(backend: Backend) {
    let app = spawn(backend).await;
    let (ada, ada_id, first_id, photo_id) = world(&app).await;
    let res = get(&app, "/user/export", &ada).await;
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert_eq!(disposition, format!("attachment; filename=\"usher-export-{ada_id}.json\""));
    let doc = json(res).await;
    assert_eq!(doc["user"]["id"], ada_id.as_str());
    assert_eq!(doc["user"]["email"], "ada@example.com");
    let profiles = doc["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 2);
    let first = profiles.iter().find(|p| p["id"] == first_id.as_str()).unwrap();
    assert_eq!(
        (first["lastName"].as_str(), first["postcode"].as_str()),
        (Some("Lovelace"), Some("SW1Y 4LE")),
        "decrypted"
    );
    assert_eq!(first["decision"]["reason"], "Unreadable scan.");
    assert!(first["decision"].get("note").is_none(), "the reviewers' note is not the user's: {first}");
    assert!(doc["labels"].as_array().unwrap().iter().any(|l| l["key"] == "email"));
    assert_eq!(doc["photoVerifications"][0]["id"], photo_id.as_str());
    assert_eq!(doc["invitations"].as_array().unwrap().len(), 1);
    assert_eq!(doc["invitations"][0]["organization"]["name"], "Acme");
    // Only the caller's: another user's export holds none of it.
    let bob = app.token("bob@example.com");
    let theirs = json(get(&app, "/user/export", &bob).await).await;
    assert!(
        theirs["profiles"].as_array().unwrap().is_empty()
            && theirs["photoVerifications"].as_array().unwrap().is_empty()
    );
    assert_problem(app.request(Method::GET, "/user/export", None, None).await, 401, "auth.missing_token").await;
}

async fn erasure_removes_personal_data_and_keeps_the_trail(backend: Backend) {
    let app = spawn(backend).await;
    let (ada, ada_id, first_id, photo_id) = world(&app).await;
    let root = app.token(ROOT);
    let root_id = user_id(&app, &root).await;
    let detail = json(get(&app, &format!("/picture/verification/{photo_id}"), &ada).await).await;
    let private_url = detail["verification"]["profile"]["url"].as_str().unwrap().to_owned();
    assert_eq!(app.client.get(&private_url).send().await.unwrap().status(), 200);

    // Who may erase whom.
    let erase = |id: &str| format!("/admin/users/{id}/erase");
    assert_problem(app.request(Method::POST, &erase(&ada_id), Some(&ada), None).await, 403, "auth.superuser_required")
        .await;
    assert_problem(app.request(Method::POST, &erase(&root_id), Some(&root), None).await, 403, "user.erase_own_account")
        .await;
    assert_problem(app.request(Method::POST, &erase("999999"), Some(&root), None).await, 404, "user.not_found").await;
    assert_problem(app.request(Method::POST, &erase("nope"), Some(&root), None).await, 404, "user.not_found").await;

    let res = app.request(Method::POST, &erase(&ada_id), Some(&root), None).await;
    assert_eq!(res.status(), 200);
    let done = json(res).await;
    assert_eq!((done["userId"].as_str(), done["erasedBy"].as_str()), (Some(ada_id.as_str()), Some(root_id.as_str())));
    assert_eq!((done["alreadyErased"].as_bool(), done["photosDeleted"].as_u64()), (Some(false), Some(1)));
    // Idempotent: the first erasure's record.
    let again = json(app.request(Method::POST, &erase(&ada_id), Some(&root), None).await).await;
    assert_eq!((again["alreadyErased"].as_bool(), &again["erasedAt"]), (Some(true), &done["erasedAt"]));

    // The person is gone from every screen; their old token is refused, not re-provisioned.
    let found = json(get(&app, "/admin/users?q=ada", &root).await).await;
    assert!(found["items"].as_array().unwrap().iter().all(|u| u["id"] != ada_id.as_str()), "{found}");
    let erased = json(get(&app, &format!("/admin/users?q=erased-{ada_id}"), &root).await).await;
    let row = &erased["items"][0];
    assert_eq!(row["id"], ada_id.as_str());
    assert!(row["email"].as_str().unwrap().ends_with("@erased.invalid"), "{row}");
    assert_eq!(row["displayName"], "Erased user");
    assert_problem(app.get_user(&ada).await, 403, "auth.account_erased").await;
    assert_problem(app.get_user(&ada).await, 403, "auth.account_erased").await;

    // Profiles and decisions stay, without the personal data.
    let profile = json(get(&app, &format!("/admin/profiles/{first_id}"), &root).await).await;
    assert_eq!(profile["profile"]["state"], "rejected");
    for field in ["firstName", "lastName", "city", "postcode"] {
        assert_eq!(profile["profile"][field], Value::Null, "{field} survived the erasure");
    }
    assert_eq!(profile["decisions"][0]["reason"], "Unreadable scan.");
    assert_eq!(profile["decisions"].as_array().unwrap().len(), 1);
    let filed = app.post("/admin/profiles", &root, &json!({"userId": ada_id, "firstName": "Again"})).await;
    assert_problem(filed, 404, "admin.user.doesnt_exist").await;

    // Photos: the pending review is closed, the objects deleted, the record kept.
    assert_eq!(app.client.get(&private_url).send().await.unwrap().status(), 404);
    let record = json(get(&app, &format!("/picture/verification/{photo_id}"), &root).await).await;
    assert_eq!(record["verification"]["status"], "REJECTED");
    assert_eq!(record["verification"]["retry"], "final");
    assert_eq!(record["events"][0]["actor"], ada_id.as_str(), "the log keeps the pseudonymous id");
}

mod the_export_holds_everything_about_the_caller {
    #[tokio::test]
    async fn sqlite() {
        super::the_export_holds_everything_about_the_caller(test_support::Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::the_export_holds_everything_about_the_caller(test_support::Backend::Postgres).await;
    }
}

mod erasure_removes_personal_data_and_keeps_the_trail {
    #[tokio::test]
    async fn sqlite() {
        super::erasure_removes_personal_data_and_keeps_the_trail(test_support::Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::erasure_removes_personal_data_and_keeps_the_trail(test_support::Backend::Postgres).await;
    }
}
