//! KYC profiles (seed 001): the user's `/resource/profiles`, the superusers'
//! `/admin/profiles` and `/admin/users/{userId}/labels`, every code, on SQLite
//! and PostgreSQL, including the races.

use futures_util::future::join_all;
use reqwest::{Method, Response};
use serde_json::{Value, json};
use test_support::{Backend, TestApp, assert_problem, json, tokens};
use usher_api::Settings;

const ROOT: &str = "root@example.com";
const SECOND: &str = "second@example.com";

fn admins(s: &mut Settings) {
    s.auth.bootstrap_superusers = usher_api::settings::Parsed::new(vec![ROOT.into(), SECOND.into()]).unwrap();
}

/// Runs each case on SQLite and PostgreSQL with two bootstrap superusers,
/// after an optional extra settings change.
macro_rules! both {
    ($(async fn $name:ident($app:ident: TestApp) $(with $cfg:expr;)? $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn case($app: TestApp) $body

            fn configure(s: &mut Settings) {
                admins(s);
                $( ($cfg)(s); )?
            }

            #[tokio::test]
            async fn sqlite() {
                case(TestApp::spawn_with(Backend::Sqlite, configure).await).await;
            }

            #[tokio::test]
            async fn postgres() {
                case(TestApp::spawn_with(Backend::Postgres, configure).await).await;
            }
        }
    )*};
}

async fn send(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> Response {
    app.request(method, path, Some(token), body.as_ref()).await
}

async fn ok(res: Response, status: u16) -> Value {
    let code = res.status().as_u16();
    let body = json(res).await;
    assert_eq!(code, status, "{body}");
    body
}

/// Signs the user in (provisioning them) and returns their id.
async fn user_id(app: &TestApp, token: &str) -> String {
    let user = ok(app.get_user(token).await, 200).await;
    user["id"].as_str().expect("a user id").to_owned()
}

async fn create(app: &TestApp, token: &str, body: Value) -> Response {
    send(app, Method::POST, "/resource/profiles", token, Some(body)).await
}

async fn edit(app: &TestApp, token: &str, body: Value) -> Response {
    send(app, Method::PUT, "/resource/profiles", token, Some(body)).await
}

async fn decide(app: &TestApp, token: &str, id: &str, body: Value) -> Response {
    send(app, Method::PUT, &format!("/admin/profiles/{id}"), token, Some(body)).await
}

async fn labels(app: &TestApp, token: &str, user: &str) -> Value {
    ok(send(app, Method::GET, &format!("/admin/users/{user}/labels"), token, None).await, 200).await
}

fn full() -> Value {
    json!({
        "firstName": "  Augusta   Ada ",
        "lastName": "Lovelace",
        "dob": "1990-02-28",
        "address": "12  St James's Square",
        "postcode": " sw1y   4lb ",
        "city": "London",
        "country": "gbr",
        "metadata": {"source": "kyc"},
    })
}

both! {
    async fn a_user_drafts_edits_and_submits_a_profile(app: TestApp) {
        let ada = app.token("ada@example.com");
        let created = ok(create(&app, &ada, full()).await, 201).await;
        assert_eq!(created["state"], "drafted");
        assert_eq!(created["firstName"], "Augusta Ada", "names are squished");
        assert_eq!(created["address"], "12  St James's Square", "the address keeps its spacing");
        assert_eq!(created["postcode"], "sw1y 4lb");
        assert_eq!(created["country"], "GB", "alpha-3 is stored as upper alpha-2");
        assert_eq!(created["metadata"], json!({"source": "kyc"}));
        assert_eq!(created["author"], Value::Null);
        assert_eq!(created["userId"], user_id(&app, &ada).await);
        for key in ["version", "state_id"] {
            assert!(created.get(key).is_none(), "{key} is internal");
        }

        // Present fields overwrite, explicit null clears, absent fields stay.
        let edited = ok(edit(&app, &ada, json!({"city": "Hubli–Dharwad", "metadata": null, "lastName": null})).await, 200).await;
        assert_eq!(edited["city"], "Hubli–Dharwad");
        assert_eq!(edited["metadata"], Value::Null);
        assert_eq!(edited["lastName"], Value::Null);
        assert_eq!(edited["firstName"], "Augusta Ada");
        assert_eq!(edited["id"], created["id"]);
        assert_eq!(edited["state"], "drafted");

        let submitted = ok(edit(&app, &ada, json!({"confirm": true})).await, 200).await;
        assert_eq!(submitted["state"], "submitted");
        // Submitted profiles are no longer the user's to edit.
        assert_problem(edit(&app, &ada, json!({"city": "Paris"})).await, 404, "resource.profile.doesnt_exist_or_not_editable").await;
        // Nor may a second one be opened while it waits.
        assert_problem(create(&app, &ada, json!({})).await, 409, "resource.profile.exists").await;

        let mine = ok(send(&app, Method::GET, "/resource/profiles/me", &ada, None).await, 200).await;
        assert_eq!(mine.as_array().map(Vec::len), Some(1));
        assert_eq!(mine[0]["state"], "submitted");
        let other = ok(send(&app, Method::GET, "/resource/profiles/me", &app.token("bob@example.com"), None).await, 200).await;
        assert_eq!(other, json!([]));
    }

    async fn barong_clients_use_snake_case_names_and_confirmation(app: TestApp) {
        let ada = app.token("ada@example.com");
        let body = json!({"first_name": "Ada", "last_name": "Lovelace", "confirmation": true, "metadata": "{\"a\": 1}"});
        let created = ok(create(&app, &ada, body).await, 201).await;
        assert_eq!((&created["firstName"], &created["lastName"], &created["state"]), (&json!("Ada"), &json!("Lovelace"), &json!("submitted")));
        assert_eq!(created["metadata"], json!({"a": 1}), "a string holding an object is stored as the object");
    }

    async fn the_state_and_unknown_fields_are_refused(app: TestApp) {
        let ada = app.token("ada@example.com");
        for body in [json!({"state": "verified"}), json!({"firstName": "Ada", "admin": true}), json!({"firstName": "Ada", "first_name": "Ada"})] {
            assert_problem(create(&app, &ada, body.clone()).await, 422, "request.validation").await;
        }
        ok(create(&app, &ada, json!({})).await, 201).await;
        assert_problem(edit(&app, &ada, json!({"state": "submitted"})).await, 422, "request.validation").await;
        assert_problem(edit(&app, &ada, json!({"firstName": 5})).await, 422, "request.validation").await;
        assert_problem(edit(&app, &ada, json!([1])).await, 422, "request.validation").await;
        assert_problem(app.request(Method::PUT, "/resource/profiles", Some(&ada), None).await, 415, "request.unsupported_media_type").await;
        let mine = ok(send(&app, Method::GET, "/resource/profiles/me", &ada, None).await, 200).await;
        assert_eq!(mine[0]["state"], "drafted");
    }

    async fn every_invalid_field_has_barongs_code(app: TestApp) {
        let ada = app.token("ada@example.com");
        let cases = [
            ("firstName", json!("Ada!"), "first_name.invalid"),
            ("firstName", json!(""), "first_name.invalid"),
            ("lastName", json!("x".repeat(256)), "last_name.invalid"),
            ("dob", json!(""), "dob.invalid"),
            ("dob", json!("2999-01-01"), "dob.invalid"),
            ("dob", json!("1899-12-31"), "dob.invalid"),
            ("dob", json!("28/02/1990"), "dob.invalid"),
            ("address", json!("mail me@example.com"), "address.invalid"),
            ("address", json!("two\nlines"), "address.invalid"),
            ("postcode", json!("1"), "postcode.invalid"),
            ("postcode", json!("12#45"), "postcode.invalid"),
            // Upper bounds count the characters as sent (the document's maxLength).
            ("postcode", json!(format!("SW1A 1AA{}", " ".repeat(25))), "postcode.invalid"),
            ("city", json!(format!("London{}", " ".repeat(250))), "city.invalid"),
            ("city", json!("#1 City"), "city.invalid"),
            ("city", json!("a@b"), "city.invalid"),
            ("country", json!("XX"), "country.invalid"),
            ("country", json!("United Kingdom"), "country.invalid"),
            ("metadata", json!([1, 2]), "metadata.invalid_format"),
            ("metadata", json!("not json"), "metadata.invalid_format"),
            ("metadata", json!(42), "metadata.invalid_format"),
            ("metadata", json!({"k": "x".repeat(4096)}), "metadata.invalid_format"),
        ];
        for (field, value, code) in cases {
            let mut body = json!({});
            body[field] = value;
            let problem = assert_problem(create(&app, &ada, body).await, 422, code).await;
            let errors = &problem["errors"][format!("/{field}")];
            assert_eq!(errors[0], code, "{problem}");
            assert!(errors[1].is_string(), "{problem}");
        }
        // All failures are reported at once; the code is the first in record order.
        let problem = assert_problem(create(&app, &ada, json!({"country": "XX", "lastName": "!"})).await, 422, "last_name.invalid").await;
        assert_eq!(problem["errors"]["/country"][0], "country.invalid");
        // Nothing was created by any of them.
        let mine = ok(send(&app, Method::GET, "/resource/profiles/me", &ada, None).await, 200).await;
        assert_eq!(mine, json!([]));
        // Names in other scripts, and edge dates, pass.
        let body = json!({"firstName": "김민준", "lastName": "Σωκράτης", "city": "Cava de' Tirreni", "dob": "1900-01-01", "country": "kr"});
        let created = ok(create(&app, &ada, body).await, 201).await;
        assert_eq!(created["country"], "KR");
        // On PUT, the same codes, and `null` clears a date.
        assert_problem(edit(&app, &ada, json!({"dob": ""})).await, 422, "dob.invalid").await;
        assert_eq!(ok(edit(&app, &ada, json!({"dob": null})).await, 200).await["dob"], Value::Null);
    }

    // Each step of a profile writes its event, by ids and state only: no field in any of them.
    async fn each_step_of_a_profile_writes_its_event_and_no_personal_data(app: TestApp) {
        let ada = app.token("ada@example.com");
        let root = app.token(ROOT);
        let ada_id = user_id(&app, &ada).await;
        let draft = ok(create(&app, &ada, json!({"firstName": "Augusta"})).await, 201).await;
        let first = draft["id"].as_str().unwrap().to_owned();
        ok(edit(&app, &ada, json!({"lastName": "Lovelace"})).await, 200).await;
        ok(edit(&app, &ada, json!({"confirm": true})).await, 200).await;
        let rejection = json!({"state": "rejected", "reason": "Blurry scan.", "note": "internal only"});
        ok(decide(&app, &root, &first, rejection).await, 200).await;
        let second = ok(create(&app, &ada, json!({"firstName": "Augusta", "confirm": true})).await, 201).await;
        let second = second["id"].as_str().unwrap().to_owned();
        ok(decide(&app, &root, &second, json!({"state": "verified"})).await, 200).await;

        let types = "profile.drafted,profile.updated,profile.submitted,profile.withdrawn,profile.verified,profile.rejected";
        let feed = ok(send(&app, Method::GET, &format!("/events?types={types}"), &root, None).await, 200).await;
        let events = feed["events"].as_array().unwrap();
        let seen: Vec<(&str, &str)> =
            events.iter().map(|e| (e["type"].as_str().unwrap(), e["subject"]["id"].as_str().unwrap())).collect();
        assert_eq!(
            seen,
            [
                ("profile.drafted", first.as_str()),
                ("profile.updated", first.as_str()),
                ("profile.submitted", first.as_str()),
                ("profile.rejected", first.as_str()),
                ("profile.submitted", second.as_str()),
                ("profile.verified", second.as_str()),
            ]
        );
        let root_id = user_id(&app, &root).await;
        assert_eq!(events[0]["actorId"], ada_id.as_str());
        assert_eq!(events[3]["actorId"], root_id.as_str());
        assert_eq!((events[3]["data"]["reason"].as_str(), events[3]["data"]["retry"].as_str()), (Some("Blurry scan."), Some("retry")));
        assert_eq!(events[5]["data"]["profile"]["state"], "verified");
        let text = feed.to_string();
        for secret in ["Augusta", "Lovelace", "internal only"] {
            assert!(!text.contains(secret), "{secret} is in an event: {text}");
        }

        // A withdrawn draft.
        ok(create(&app, &ada, json!({"firstName": "Augusta"})).await, 201).await;
        assert_eq!(send(&app, Method::DELETE, "/resource/profiles", &ada, None).await.status(), 204);
        let last = ok(send(&app, Method::GET, &format!("/events?types={types}&cursor={}", feed["nextCursor"].as_str().unwrap()), &root, None).await, 200).await;
        let kinds: Vec<&str> = last["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["profile.drafted", "profile.withdrawn"]);
    }

    async fn editing_without_a_draft_is_not_found(app: TestApp) {
        let ada = app.token("ada@example.com");
        assert_problem(edit(&app, &ada, json!({"city": "Paris"})).await, 404, "resource.profile.doesnt_exist_or_not_editable").await;
        assert_problem(send(&app, Method::GET, "/resource/profiles/me", "not-a-token", None).await, 401, "auth.invalid_token").await;
    }

    async fn superusers_review_decide_and_label(app: TestApp) {
        let ada = app.token("ada@example.com");
        let root = app.token(ROOT);
        let ada_id = user_id(&app, &ada).await;
        let first = ok(create(&app, &ada, json!({"firstName": "Ada", "confirm": true})).await, 201).await;
        let first_id = first["id"].as_str().unwrap().to_owned();

        // Ordinary users see none of the admin side.
        for path in ["/admin/profiles".to_owned(), format!("/admin/profiles/{first_id}"), format!("/admin/users/{ada_id}/labels")] {
            assert_problem(send(&app, Method::GET, &path, &ada, None).await, 403, "auth.superuser_required").await;
        }
        assert_problem(decide(&app, &ada, &first_id, json!({"state": "verified"})).await, 403, "auth.superuser_required").await;
        assert_problem(send(&app, Method::POST, "/admin/profiles", &ada, Some(json!({"userId": ada_id}))).await, 403, "auth.superuser_required").await;

        let before = labels(&app, &root, &ada_id).await;
        assert_eq!(before["level"], 1, "the verified e-mail is level 1: {before}");
        assert_eq!(before["labels"][0]["key"], "email");

        // Bad decisions.
        assert_problem(decide(&app, &root, &first_id, json!({"state": "rejected"})).await, 422, "reason.missing").await;
        assert_problem(decide(&app, &root, &first_id, json!({"state": "rejected", "reason": "  "})).await, 422, "reason.invalid").await;
        assert_problem(decide(&app, &root, &first_id, json!({"state": "submitted"})).await, 422, "state.invalid").await;
        assert_problem(decide(&app, &root, &first_id, json!({"state": "verified", "note": "x"})).await, 422, "request.validation").await;
        let missing = "0196f0e0-0000-7000-8000-000000000000";
        assert_problem(decide(&app, &root, missing, json!({"state": "verified"})).await, 409, "admin.profiles.doesnt_exist_or_not_editable").await;
        assert_problem(decide(&app, &root, "nope", json!({"state": "verified"})).await, 409, "admin.profiles.doesnt_exist_or_not_editable").await;

        // Reject, then the user may open a new profile.
        let rejected = ok(decide(&app, &root, &first_id, json!({"state": "rejected", "reason": "blurry scan"})).await, 200).await;
        assert_eq!(rejected["state"], "rejected");
        assert_problem(decide(&app, &root, &first_id, json!({"state": "verified"})).await, 409, "admin.profiles.doesnt_exist_or_not_editable").await;
        let after = labels(&app, &root, &ada_id).await;
        assert_eq!(after["labels"][1]["key"], "profile");
        assert_eq!(after["labels"][1]["value"], "rejected");
        assert_eq!(after["labels"][1]["scope"], "private");
        assert_eq!(after["level"], 1);

        let second = ok(create(&app, &ada, json!({"firstName": "Ada", "lastName": "Lovelace"})).await, 201).await;
        let second_id = second["id"].as_str().unwrap().to_owned();
        // A draft is not for review, and drafting never touches the label.
        assert_problem(decide(&app, &root, &second_id, json!({"state": "verified"})).await, 409, "admin.profiles.doesnt_exist_or_not_editable").await;
        assert_eq!(labels(&app, &root, &ada_id).await["labels"][1]["value"], "rejected");
        ok(edit(&app, &ada, json!({"confirm": true})).await, 200).await;

        // The review list: newest first, filters, user summary, paging.
        let page = ok(send(&app, Method::GET, "/admin/profiles?state=submitted", &root, None).await, 200).await;
        assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(page["items"][0]["profile"]["id"], second_id.as_str());
        assert_eq!(page["items"][0]["user"]["id"], ada_id.as_str());
        assert_eq!(page["items"][0]["user"]["email"], "ada@example.com");
        assert_eq!(page["items"][0]["author"], Value::Null);
        assert_eq!(page["items"][0]["profile"]["lastName"], "Lovelace", "admins see unmasked data");
        let all = ok(send(&app, Method::GET, &format!("/admin/profiles?userId={ada_id}&limit=1"), &root, None).await, 200).await;
        assert_eq!(all["items"][0]["profile"]["id"], second_id.as_str());
        let cursor = all["nextCursor"].as_str().expect("a second page").to_owned();
        let next = ok(send(&app, Method::GET, &format!("/admin/profiles?userId={ada_id}&limit=1&cursor={cursor}"), &root, None).await, 200).await;
        assert_eq!(next["items"][0]["profile"]["id"], first_id.as_str());
        assert_eq!(next["nextCursor"], Value::Null);
        assert_problem(send(&app, Method::GET, "/admin/profiles?state=open", &root, None).await, 422, "request.validation").await;
        assert_problem(send(&app, Method::GET, "/admin/profiles?userId=abc", &root, None).await, 422, "request.validation").await;
        assert_problem(send(&app, Method::GET, "/admin/profiles?limit=0", &root, None).await, 422, "request.validation").await;
        assert_problem(send(&app, Method::GET, "/admin/profiles?cursor=zzz", &root, None).await, 422, "request.validation").await;

        // The detail: the profile, the user's other profiles, every decision.
        let detail = ok(send(&app, Method::GET, &format!("/admin/profiles/{second_id}"), &root, None).await, 200).await;
        assert_eq!(detail["profile"]["state"], "submitted");
        assert_eq!(detail["user"]["username"], "ada");
        assert_eq!(detail["otherProfiles"][0]["id"], first_id.as_str());
        assert_eq!(detail["decisions"][0]["profileId"], first_id.as_str());
        assert_eq!(detail["decisions"][0]["decision"], "rejected");
        assert_eq!(detail["decisions"][0]["reason"], "blurry scan");
        assert_eq!(detail["decisions"][0]["adminId"], user_id(&app, &root).await);
        assert_problem(send(&app, Method::GET, &format!("/admin/profiles/{missing}"), &root, None).await, 404, "admin.profiles.doesnt_exist").await;
        assert_problem(send(&app, Method::GET, "/admin/profiles/nope", &root, None).await, 404, "admin.profiles.doesnt_exist").await;

        // Verify: level 2.
        ok(decide(&app, &root, &second_id, json!({"state": "verified"})).await, 200).await;
        let done = labels(&app, &root, &ada_id).await;
        assert_eq!(done["labels"][1]["value"], "verified");
        assert_eq!(done["level"], 2);
        assert_problem(send(&app, Method::GET, "/admin/users/999999/labels", &root, None).await, 404, "admin.user.doesnt_exist").await;
        assert_problem(send(&app, Method::GET, "/admin/users/x/labels", &root, None).await, 404, "admin.user.doesnt_exist").await;
    }

    async fn an_unverified_email_holds_no_level(app: TestApp) {
        let root = app.token(ROOT);
        let mut claims = tokens::claims("eve@example.com");
        claims["email_verified"] = json!(false);
        let eve = tokens::hs256(tokens::HS256_SECRET, &claims);
        let eve_id = user_id(&app, &eve).await;
        let view = labels(&app, &root, &eve_id).await;
        assert_eq!(view, json!({"labels": [], "level": 0}));
    }

    async fn four_eyes_the_author_needs_a_second_superuser(app: TestApp) {
        let root = app.token(ROOT);
        let second = app.token(SECOND);
        let ada = app.token("ada@example.com");
        let ada_id = user_id(&app, &ada).await;
        let root_id = user_id(&app, &root).await;

        let filed = ok(send(&app, Method::POST, "/admin/profiles", &root, Some(json!({"userId": ada_id, "firstName": "Ada", "country": "DEU"}))).await, 201).await;
        assert_eq!(filed["state"], "submitted");
        assert_eq!(filed["author"], root_id.as_str());
        assert_eq!(filed["userId"], ada_id.as_str());
        assert_eq!(filed["country"], "DE");
        let id = filed["id"].as_str().unwrap().to_owned();
        let list = ok(send(&app, Method::GET, "/admin/profiles", &root, None).await, 200).await;
        assert_eq!(list["items"][0]["author"]["id"], root_id.as_str());

        // The user has an open profile now.
        assert_problem(create(&app, &ada, json!({})).await, 409, "resource.profile.exists").await;
        assert_problem(send(&app, Method::POST, "/admin/profiles", &second, Some(json!({"user_id": ada_id}))).await, 409, "resource.profile.exists").await;
        assert_problem(send(&app, Method::POST, "/admin/profiles", &root, Some(json!({"userId": "999999"}))).await, 404, "admin.user.doesnt_exist").await;
        assert_problem(send(&app, Method::POST, "/admin/profiles", &root, Some(json!({"userId": "x1"}))).await, 422, "user_id.invalid").await;
        assert_problem(send(&app, Method::POST, "/admin/profiles", &root, Some(json!({"userId": ada_id, "city": "#"}))).await, 422, "city.invalid").await;
        assert_problem(send(&app, Method::POST, "/admin/profiles", &root, Some(json!({"userId": ada_id, "confirm": true}))).await, 422, "request.validation").await;

        assert_problem(decide(&app, &root, &id, json!({"state": "verified"})).await, 403, "admin.profiles.second_admin_approval").await;
        let decided = ok(decide(&app, &second, &id, json!({"state": "verified"})).await, 200).await;
        assert_eq!(decided["state"], "verified");
    }

    async fn no_superuser_decides_their_own_profile(app: TestApp) with |s: &mut Settings| s.profiles.double_verification = false; {
        let root = app.token(ROOT);
        let second = app.token(SECOND);
        let mine = ok(create(&app, &root, json!({"firstName": "Root", "confirm": true})).await, 201).await;
        let id = mine["id"].as_str().unwrap().to_owned();
        assert_problem(decide(&app, &root, &id, json!({"state": "verified"})).await, 403, "admin.profiles.own_profile").await;
        ok(decide(&app, &second, &id, json!({"state": "verified"})).await, 200).await;

        // With double verification off, the author may decide what they filed.
        let ada = app.token("ada@example.com");
        let ada_id = user_id(&app, &ada).await;
        let filed = ok(send(&app, Method::POST, "/admin/profiles", &root, Some(json!({"userId": ada_id}))).await, 201).await;
        let id = filed["id"].as_str().unwrap();
        ok(decide(&app, &root, id, json!({"state": "rejected", "reason": "incomplete"})).await, 200).await;
    }

    async fn masking_hides_the_last_name_and_day_of_birth_from_the_user_only(app: TestApp) with |s: &mut Settings| s.profiles.mask_personal_data = true; {
        let ada = app.token("ada@example.com");
        let created = ok(create(&app, &ada, full()).await, 201).await;
        assert_eq!(created["lastName"], "L*******");
        assert_eq!(created["dob"], "1990-02-**");
        assert_eq!(created["firstName"], "Augusta Ada");
        let mine = ok(send(&app, Method::GET, "/resource/profiles/me", &ada, None).await, 200).await;
        assert_eq!(mine[0]["lastName"], "L*******");
        let id = created["id"].as_str().unwrap();
        let detail = ok(send(&app, Method::GET, &format!("/admin/profiles/{id}"), &app.token(ROOT), None).await, 200).await;
        assert_eq!(detail["profile"]["lastName"], "Lovelace");
        assert_eq!(detail["profile"]["dob"], "1990-02-28");
    }

    async fn required_fields_are_enforced_on_submit_only(app: TestApp) with |s: &mut Settings| s.profiles.required_on_submit = usher_api::settings::Parsed::new(vec!["country".into(), "last_name".into()]).unwrap(); {
        let ada = app.token("ada@example.com");
        let problem = assert_problem(create(&app, &ada, json!({"firstName": "Ada", "confirm": true})).await, 422, "last_name.missing").await;
        assert_eq!(problem["errors"]["/country"][0], "country.missing");
        ok(create(&app, &ada, json!({"firstName": "Ada"})).await, 201).await;
        assert_problem(edit(&app, &ada, json!({"country": "fr", "confirm": true})).await, 422, "last_name.missing").await;
        let sent = ok(edit(&app, &ada, json!({"country": "fr", "lastName": "L", "confirm": true})).await, 200).await;
        assert_eq!(sent["state"], "submitted");
    }

    async fn twenty_concurrent_creates_make_exactly_one_profile(app: TestApp) {
        let ada = app.token("ada@example.com");
        user_id(&app, &ada).await;
        let body = json!({"firstName": "Ada", "confirm": true});
        let results = join_all((0..20).map(|_| create(&app, &ada, body.clone()))).await;
        let mut statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [vec![201], vec![409; 19]].concat());
        for res in results.into_iter().filter(|r| r.status() == 409) {
            assert_problem(res, 409, "resource.profile.exists").await;
        }
        let mine = ok(send(&app, Method::GET, "/resource/profiles/me", &ada, None).await, 200).await;
        assert_eq!(mine.as_array().map(Vec::len), Some(1));
    }

    async fn two_superusers_deciding_at_once_one_wins(app: TestApp) {
        let root = app.token(ROOT);
        let second = app.token(SECOND);
        user_id(&app, &root).await;
        user_id(&app, &second).await;
        for round in 0..3 {
            let ada = app.token(&format!("ada{round}@example.com"));
            let ada_id = user_id(&app, &ada).await;
            let created = ok(create(&app, &ada, json!({"firstName": "Ada", "confirm": true})).await, 201).await;
            let id = created["id"].as_str().unwrap().to_owned();
            let (a, b) = futures_util::join!(
                decide(&app, &root, &id, json!({"state": "verified"})),
                decide(&app, &second, &id, json!({"state": "rejected", "reason": "no"})),
            );
            let mut statuses = [a.status().as_u16(), b.status().as_u16()];
            statuses.sort_unstable();
            assert_eq!(statuses, [200, 409], "round {round}");
            let detail = ok(send(&app, Method::GET, &format!("/admin/profiles/{id}"), &root, None).await, 200).await;
            assert_eq!(detail["decisions"].as_array().map(Vec::len), Some(1), "exactly one decision is logged");
            let winner = detail["profile"]["state"].as_str().unwrap().to_owned();
            assert_eq!(detail["decisions"][0]["decision"], winner.as_str());
            let view = labels(&app, &root, &ada_id).await;
            assert_eq!(view["labels"][1]["value"], winner.as_str(), "the label matches the winning decision");
        }
    }

    async fn a_rejected_user_learns_why_and_whether_to_try_again(app: TestApp) {
        let (root, ada) = (app.token(ROOT), app.token("ada@example.com"));
        let ada_id = user_id(&app, &ada).await;
        let first = ok(create(&app, &ada, json!({"firstName": "Ada", "confirm": true})).await, 201).await;
        let id = first["id"].as_str().unwrap().to_owned();
        for (bad, code) in [
            (json!({"state": "rejected", "reason": "x", "note": " "}), "note.invalid"),
            (json!({"state": "rejected", "reason": "x", "note": "n".repeat(2001)}), "note.invalid"),
            (json!({"state": "rejected", "reason": "x", "retry": "later"}), "request.validation"),
        ] {
            assert_problem(decide(&app, &root, &id, bad).await, 422, code).await;
        }
        let body = json!({"state": "rejected", "reason": "The scan is unreadable.", "note": "Third blurry scan.", "retry": "retry"});
        ok(decide(&app, &root, &id, body).await, 200).await;

        // The user sees the reason and may try again; the note stays with the reviewers.
        let mine = ok(send(&app, Method::GET, "/resource/profiles/me", &ada, None).await, 200).await;
        let decision = &mine[0]["decision"];
        assert_eq!(decision["reason"], "The scan is unreadable.");
        assert_eq!(decision["retry"], "retry");
        assert_eq!(decision["decision"], "rejected");
        assert!(decision.get("note").is_none(), "{mine}");
        let detail = ok(send(&app, Method::GET, &format!("/admin/profiles/{id}"), &root, None).await, 200).await;
        assert_eq!(detail["decisions"][0]["note"], "Third blurry scan.");

        // `final`: no new profile from the user; a superuser may still file one.
        let second = ok(create(&app, &ada, json!({"firstName": "Ada", "confirm": true})).await, 201).await;
        let id2 = second["id"].as_str().unwrap();
        let body = json!({"state": "rejected", "reason": "Not a real person.", "retry": "final"});
        ok(decide(&app, &root, id2, body).await, 200).await;
        let mine = ok(send(&app, Method::GET, "/resource/profiles/me", &ada, None).await, 200).await;
        assert_eq!(mine[0]["decision"]["retry"], "final");
        assert_eq!(mine[1]["decision"]["retry"], "retry", "each profile carries its own decision");
        assert_problem(create(&app, &ada, json!({"firstName": "Ada"})).await, 403, "resource.profile.rejected_final").await;
        let filed = send(&app, Method::POST, "/admin/profiles", &root, Some(json!({"userId": ada_id, "firstName": "Ada"}))).await;
        ok(filed, 201).await;
    }

    async fn a_user_withdraws_their_draft(app: TestApp) {
        let ada = app.token("ada@example.com");
        let withdraw = || send(&app, Method::DELETE, "/resource/profiles", &ada, None);
        assert_problem(withdraw().await, 404, "resource.profile.doesnt_exist_or_not_editable").await;
        ok(create(&app, &ada, json!({"firstName": "Ada"})).await, 201).await;
        let res = withdraw().await;
        assert_eq!(res.status(), 204);
        assert_problem(withdraw().await, 404, "resource.profile.doesnt_exist_or_not_editable").await;
        let mine = ok(send(&app, Method::GET, "/resource/profiles/me", &ada, None).await, 200).await;
        assert_eq!(mine[0]["state"], "withdrawn", "kept in the history");
        assert_problem(edit(&app, &ada, json!({"lastName": "L"})).await, 404, "resource.profile.doesnt_exist_or_not_editable").await;
        // A new profile may be opened; once submitted it waits for its decision.
        ok(create(&app, &ada, json!({"firstName": "Ada", "confirm": true})).await, 201).await;
        assert_problem(withdraw().await, 404, "resource.profile.doesnt_exist_or_not_editable").await;
        let root = app.token(ROOT);
        let listed = ok(send(&app, Method::GET, "/admin/profiles?state=withdrawn", &root, None).await, 200).await;
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    }

    async fn the_loser_of_two_decisions_gets_409_with_the_current_profile(app: TestApp) {
        let (root, second, ada) = (app.token(ROOT), app.token(SECOND), app.token("ada@example.com"));
        user_id(&app, &root).await;
        user_id(&app, &second).await;
        let created = ok(create(&app, &ada, json!({"firstName": "Ada", "confirm": true})).await, 201).await;
        let id = created["id"].as_str().unwrap().to_owned();
        // Hold root's decision after its read while the second superuser decides.
        app.gate.arm("profile.decide");
        let (first, ()) = futures_util::join!(decide(&app, &root, &id, json!({"state": "verified"})), async {
            app.gate.held().await;
            let body = json!({"state": "rejected", "reason": "no"});
            ok(decide(&app, &second, &id, body).await, 200).await;
            app.gate.release();
        });
        let problem = assert_problem(first, 409, "admin.profiles.conflict").await;
        assert_eq!(problem["current"]["id"], id.as_str());
        assert_eq!(problem["current"]["state"], "rejected", "the loser sees who won: {problem}");
        let detail = ok(send(&app, Method::GET, &format!("/admin/profiles/{id}"), &root, None).await, 200).await;
        assert_eq!(detail["decisions"].as_array().map(Vec::len), Some(1));
    }
}

/// The embedded database file holds no personal data in plaintext.
// SQLite only: reads the SQLite database file's bytes.
#[tokio::test]
async fn the_sqlite_file_holds_no_personal_data_in_plaintext() {
    let app = TestApp::spawn_with(Backend::Sqlite, admins).await;
    let ada = app.token("ada@example.com");
    let body = json!({"firstName": "Zebulon", "lastName": "Quixotic", "dob": "1987-07-13", "address": "Xylophone Lane", "city": "Springfield"});
    ok(create(&app, &ada, body).await, 201).await;
    let mut bytes = Vec::new();
    for name in ["usher.db", "usher.db-wal"] {
        if let Ok(b) = std::fs::read(app.data_dir().join(name)) {
            bytes.extend(b);
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    for secret in ["Zebulon", "Quixotic", "1987-07-13", "Xylophone", "Springfield"] {
        assert!(!text.contains(secret), "{secret} is in the database file in plaintext");
    }
    assert!(app.data_dir().join("profile-encryption.key").exists(), "the embedded default generates its key");
}

/// Every profile endpoint is in the OpenAPI document with its error codes.
// SQLite only: checks the OpenAPI document, which does not depend on the database.
#[tokio::test]
async fn the_profile_endpoints_are_documented() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc = json(app.request(Method::GET, "/openapi.json", None, None).await).await;
    let paths = &doc["paths"];
    for (path, method) in [
        ("/resource/profiles/me", "get"),
        ("/resource/profiles", "post"),
        ("/resource/profiles", "put"),
        ("/resource/profiles", "delete"),
        ("/admin/profiles", "get"),
        ("/admin/profiles", "post"),
        ("/admin/profiles/{id}", "get"),
        ("/admin/profiles/{id}", "put"),
        ("/admin/users/{userId}/labels", "get"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path} is missing");
    }
    let params = paths["/admin/profiles"]["get"]["parameters"].as_array().expect("query parameters");
    let names: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["state", "userId", "limit", "cursor"]);
    let text = doc.to_string();
    for code in [
        "admin.profiles.second_admin_approval",
        "admin.profiles.own_profile",
        "resource.profile.exists",
        "resource.profile.rejected_final",
        "admin.profiles.conflict",
        "metadata.invalid_format",
    ] {
        assert!(text.contains(code), "{code} is not documented");
    }
}

/// Moving from the generated key to configured keys, and rotating those,
/// keeps every stored profile readable while its key is configured.
// SQLite only: restarts on one data directory and reads the sealed values from its SQLite file.
#[tokio::test]
async fn profiles_survive_key_rotation_across_restarts() {
    use usher_api::settings::{EncryptionKey, Secret};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let key = |id: &str, b64: &str| EncryptionKey { id: id.into(), key: Secret::new(b64) };
    let k2026 = key("2026", "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=");
    let k2027 = key("2027", "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=");

    // 1. The embedded default: a generated key, id `local-<fingerprint>`.
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.data_dir = data.clone()).await;
    let ada = app.token("ada@example.com");
    ok(create(&app, &ada, json!({"lastName": "Lovelace", "confirm": true})).await, 201).await;
    app.stop().await;

    // 2. Configured keys: the generated one stays readable while its file exists.
    let (d, k) = (data.clone(), k2026.clone());
    let app = TestApp::spawn_with(Backend::Sqlite, move |s| {
        admins(s);
        s.data_dir = d;
        s.profiles.encryption_keys = vec![k];
        s.profiles.active_key_id = Some("2026".into());
    })
    .await;
    let ada = app.token("ada@example.com");
    let mine = ok(send(&app, Method::GET, "/resource/profiles/me", &ada, None).await, 200).await;
    assert_eq!(mine[0]["lastName"], "Lovelace");
    let id = mine[0]["id"].as_str().unwrap().to_owned();
    ok(decide(&app, &app.token(ROOT), &id, json!({"state": "verified"})).await, 200).await;
    ok(create(&app, &ada, json!({"lastName": "Byron"})).await, 201).await;
    app.stop().await;

    // 3. Rotation: 2027 seals new values, 2026 still opens old ones.
    let (d, keys) = (data.clone(), vec![k2026, k2027]);
    let app = TestApp::spawn_with(Backend::Sqlite, move |s| {
        s.data_dir = d;
        s.profiles.encryption_keys = keys;
        s.profiles.active_key_id = Some("2027".into());
    })
    .await;
    let ada = app.token("ada@example.com");
    let edited = ok(edit(&app, &ada, json!({"firstName": "Ada"})).await, 200).await;
    assert_eq!(edited["lastName"], "Byron");
    let mine = ok(send(&app, Method::GET, "/resource/profiles/me", &ada, None).await, 200).await;
    let names: Vec<&str> = mine.as_array().unwrap().iter().filter_map(|p| p["lastName"].as_str()).collect();
    assert_eq!(names, ["Byron", "Lovelace"]);
    // A new user's data key is wrapped by the active key.
    let bob = app.token("bob@example.com");
    ok(create(&app, &bob, json!({"lastName": "Babbage"})).await, 201).await;
    app.stop().await;

    let mut bytes = Vec::new();
    for name in ["usher.db", "usher.db-wal"] {
        if let Ok(b) = std::fs::read(data.join(name)) {
            bytes.extend(b);
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("v1.local-") && text.contains("v1.2027."), "data keys name the key that wrapped them");
    assert!(text.contains("d1."), "values are sealed with their user's data key");
    assert!(!text.contains("Lovelace") && !text.contains("Byron") && !text.contains("Babbage"));

    // 4. A replica lacking the keys of stored values answers 503 with a clear code, not a 500.
    std::fs::remove_file(data.join("profile-encryption.key")).unwrap();
    let d = data.clone();
    let app = TestApp::spawn_with(Backend::Sqlite, move |s| {
        admins(s);
        s.data_dir = d;
        s.profiles.encryption_keys = vec![key("2028", "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=")];
        s.profiles.active_key_id = Some("2028".into());
    })
    .await;
    let res = send(&app, Method::GET, "/resource/profiles/me", &app.token("ada@example.com"), None).await;
    assert_eq!(res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned()).as_deref(), Some("5"));
    let body = assert_problem(res, 503, "profile.key_unavailable").await;
    assert!(body["detail"].as_str().unwrap().contains("profiles.encryption_keys"), "{body}");
    let res = send(&app, Method::GET, "/admin/profiles", &app.token(ROOT), None).await;
    assert_problem(res, 503, "profile.key_unavailable").await;
    app.stop().await;
}

/// Two `usher` instances on one PostgreSQL database: the invariants live in
/// the database, so they hold across replicas too.
// PostgreSQL only: two replicas need one shared database server.
#[tokio::test]
async fn the_races_hold_across_two_replicas_on_postgres() {
    // Replicas share the configured keys (each would otherwise generate its own).
    fn shared(s: &mut Settings) {
        admins(s);
        let key = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
        s.profiles.encryption_keys =
            vec![usher_api::settings::EncryptionKey { id: "k1".into(), key: usher_api::settings::Secret::new(key) }];
        s.profiles.active_key_id = Some("k1".into());
    }
    let one = TestApp::spawn_with(Backend::Postgres, shared).await;
    let two = one.spawn_replica(shared).await;
    let ada = one.token("ada@example.com");
    user_id(&one, &ada).await;
    let body = json!({"firstName": "Ada", "confirm": true});
    let results = join_all((0..20).map(|i| create(if i % 2 == 0 { &one } else { &two }, &ada, body.clone()))).await;
    let created = results.iter().filter(|r| r.status() == 201).count();
    let conflicts = results.iter().filter(|r| r.status() == 409).count();
    assert_eq!((created, conflicts), (1, 19));

    let root = one.token(ROOT);
    let second = one.token(SECOND);
    user_id(&one, &root).await;
    user_id(&two, &second).await;
    let mine = ok(send(&one, Method::GET, "/resource/profiles/me", &ada, None).await, 200).await;
    let id = mine[0]["id"].as_str().unwrap().to_owned();
    let (a, b) = futures_util::join!(
        decide(&one, &root, &id, json!({"state": "verified"})),
        decide(&two, &second, &id, json!({"state": "rejected", "reason": "no"})),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let detail = ok(send(&two, Method::GET, &format!("/admin/profiles/{id}"), &second, None).await, 200).await;
    assert_eq!(detail["decisions"].as_array().map(Vec::len), Some(1));
}
