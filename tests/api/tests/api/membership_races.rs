//! The membership rules that concurrency could break, raced on PostgreSQL
//! with real concurrency (two workers, a pool large enough that the harness
//! never sees its own 503s). Each race runs several rounds: without the
//! lock or guard that keeps its invariant, some round breaks it.

use crate::organizations::{create_org, invite, join, user_id};
use futures_util::future::join_all;
use sea_orm::{ConnectionTrait as _, Statement};
use serde_json::{Value, json};
use test_support::app::{Backend, TestApp};
use test_support::json;

async fn racing_app() -> TestApp {
    TestApp::spawn_with(Backend::Postgres, |s| {
        s.database.max_connections = 24;
        s.database.acquire_timeout_seconds = 30;
        s.server.workers = 2;
    })
    .await
}

/// One number from the database.
async fn count(app: &TestApp, sql: &str) -> i64 {
    let conn = sea_orm::Database::connect(app.settings.database_url()).await.unwrap();
    let row = conn.query_one_raw(Statement::from_string(conn.get_database_backend(), sql)).await.unwrap().unwrap();
    let n = row.try_get_by_index::<i64>(0).unwrap();
    conn.close().await.unwrap();
    n
}

/// Two admins leaving, or demoting each other, at the same instant leave
/// exactly one admin: the guard runs under the organization's row lock.
// PostgreSQL only: races concurrent writers, which SQLite already serialises (`BEGIN IMMEDIATE`).
#[tokio::test]
async fn two_admins_demoting_or_leaving_at_once_leave_exactly_one_admin_on_postgres() {
    let app = racing_app().await;
    for round in 0..12 {
        let a = app.token(&format!("a{round}@example.com"));
        let org = create_org(&app, &a, &format!("Org {round}")).await;
        let b = join(&app, &a, &org, &format!("b{round}@example.com"), "admin").await;
        let (a_id, b_id) = (user_id(&app, &a).await, user_id(&app, &b).await);
        let results = if round % 2 == 0 {
            let demote = |who: &str| json!({"organizationId": org, "userId": who, "role": "member"});
            let (demote_b, demote_a) = (demote(&b_id), demote(&a_id));
            let (x, y) = tokio::join!(
                app.post("/organization/members/update-role", &a, &demote_b),
                app.post("/organization/members/update-role", &b, &demote_a),
            );
            [x.status().as_u16(), y.status().as_u16()]
        } else {
            let leave = json!({"organizationId": org});
            let (x, y) =
                tokio::join!(app.post("/organization/leave", &a, &leave), app.post("/organization/leave", &b, &leave),);
            [x.status().as_u16(), y.status().as_u16()]
        };
        let admins = count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM memberships WHERE organization_id = '{org}' AND role = 'admin' \
                 AND status = 'active' AND expires_at IS NULL"
            ),
        )
        .await;
        assert_eq!(admins, 1, "round {round}: {results:?} left {admins} admins");
        assert!(results.contains(&200), "round {round}: one of them goes through: {results:?}");
    }
}

/// Revoking a busy link answers 200 under any number of concurrent accepts,
/// and nobody is admitted after it has answered.
// PostgreSQL only: races concurrent writers, which SQLite already serialises (`BEGIN IMMEDIATE`).
#[tokio::test]
async fn revoke_and_resend_never_lose_to_a_busy_link_on_postgres() {
    let app = racing_app().await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    for (round, verb) in ["revoke", "resend", "revoke"].into_iter().enumerate() {
        let link = invite(&app, &ada, &org, json!({"maxUses": 1000})).await;
        let tokens: Vec<String> = (0..40).map(|i| app.token(&format!("r{round}-{i}@example.com"))).collect();
        join_all(tokens.iter().map(|t| app.get_user(t))).await;
        let body = json!({"token": link["token"]});
        let accepts = join_all(tokens.iter().map(|t| app.post("/invitation/accept", t, &body)));
        let id = link["invitation"]["id"].clone();
        let withdraw = async {
            // Let the first accepts reach the database before the revoke does.
            tokio::task::yield_now().await;
            let res = app.post(&format!("/invitation/{verb}"), &ada, &json!({"invitationId": id})).await;
            let status = res.status().as_u16();
            let admitted =
                count(&app, &format!("SELECT use_count FROM invitations WHERE id = '{}'", id.as_str().unwrap())).await;
            (status, admitted)
        };
        let (results, (status, admitted_at_answer)) = tokio::join!(accepts, withdraw);
        assert_eq!(status, 200, "round {round}: {verb} lost to the accepts");
        let admitted =
            count(&app, &format!("SELECT use_count FROM invitations WHERE id = '{}'", id.as_str().unwrap())).await;
        assert_eq!(admitted, admitted_at_answer, "round {round}: someone was admitted after the {verb} answered");
        let ok = results.iter().filter(|r| r.status() == 200).count() as i64;
        assert_eq!(ok, admitted, "round {round}: every 200 is a use, and every use a 200");
        for r in &results {
            assert!([200, 404, 410].contains(&r.status().as_u16()), "round {round}: {}", r.status());
        }
    }
}

/// An invitation created while its creator is being removed (or demoted)
/// never survives: the creator's membership is re-checked, and locked, in
/// the creating transaction.
// PostgreSQL only: races concurrent writers, which SQLite already serialises (`BEGIN IMMEDIATE`).
#[tokio::test]
async fn no_link_survives_its_creators_removal_on_postgres() {
    let app = racing_app().await;
    let ada = app.token("ada@example.com");
    let org = create_org(&app, &ada, "Acme").await;
    for round in 0..8 {
        let moderator = join(&app, &ada, &org, &format!("m{round}@example.com"), "moderator").await;
        let moderator_id = user_id(&app, &moderator).await;
        let body = json!({"organizationId": org, "role": "member", "maxUses": 5});
        let creates = join_all((0..10).map(|_| app.post("/invitation/create", &moderator, &body)));
        let end = async {
            tokio::task::yield_now().await;
            if round % 2 == 0 {
                app.post("/organization/members/remove", &ada, &json!({"organizationId": org, "userId": moderator_id}))
                    .await
            } else {
                let body = json!({"organizationId": org, "userId": moderator_id, "role": "member"});
                app.post("/organization/members/update-role", &ada, &body).await
            }
        };
        let (created, ended) = tokio::join!(creates, end);
        assert_eq!(ended.status(), 200, "round {round}");
        let made: Vec<Value> = {
            let mut out = Vec::new();
            for r in created {
                match r.status().as_u16() {
                    200 => out.push(json(r).await["token"].clone()),
                    403 => {}
                    other => panic!("round {round}: create answered {other}"),
                }
            }
            out
        };
        let pending = count(
            &app,
            &format!("SELECT COUNT(*) FROM invitations WHERE created_by = {moderator_id} AND status = 'pending'"),
        )
        .await;
        assert_eq!(pending, 0, "round {round}: a link outlived its creator's authority");
        let newcomer = app.token(&format!("n{round}@example.com"));
        for token in made {
            let res = app.post("/invitation/accept", &newcomer, &json!({"token": token})).await;
            assert_eq!(res.status(), 410, "round {round}: a surviving link admitted someone");
        }
    }
}
