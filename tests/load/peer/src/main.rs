//! The load benchmark's Rust peers (see `tests/load/README.md`).
//!
//! - `POST /user/get`: the cost floor of "authenticate and read a user" in
//!   Rust — verify an HS256 JWT exactly as Usher does (required `exp` and
//!   `sub`, `nbf` checked), read the user row by subject with one prepared
//!   statement from an sqlx PostgreSQL pool, answer it as JSON. No
//!   memberships, no tries, no provisioning: less work than Usher's
//!   `/user/get`, on purpose.
//! - `POST /bare`: the HTTP ceiling, a handler that answers a constant.
//!
//! Settings come from the environment: `PEER_ADDR` (listen address),
//! `PEER_DATABASE_URL`, `PEER_HS256_SECRET`, `PEER_WORKERS` (default: one per
//! core) and `PEER_POOL` (default: 4 per core, 4..32, like Usher's pool).
#![forbid(unsafe_code)]

use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, post, web};
use anyhow::Context;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sea_orm::sqlx::PgPool;
use sea_orm::sqlx::postgres::PgPoolOptions;
use serde::{Deserialize, Serialize};

/// What every handler shares.
struct State {
    pool: PgPool,
    key: DecodingKey,
    validation: Validation,
}

/// The claims read from the token.
#[derive(Deserialize)]
struct Claims {
    sub: String,
}

/// The columns read: id, email, email_verified, display_name, username,
/// avatar_url, platform_role.
type Row = (i64, String, bool, String, String, Option<String>, String);

/// The user row, as answered.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserRow {
    id: String,
    email: String,
    email_verified: bool,
    display_name: String,
    username: String,
    avatar_url: Option<String>,
    platform_role: String,
}

/// Authenticates the bearer token and reads the user it names.
#[post("/user/get")]
async fn user_get(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let Some(token) =
        req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    else {
        return HttpResponse::Unauthorized().finish();
    };
    let claims = match jsonwebtoken::decode::<Claims>(token, &state.key, &state.validation) {
        Ok(data) => data.claims,
        Err(_) => return HttpResponse::Unauthorized().finish(),
    };
    let row: Result<Option<Row>, _> = sea_orm::sqlx::query_as(
        "SELECT id, email, email_verified, display_name, username, avatar_url, platform_role \
         FROM users WHERE subject = $1",
    )
    .bind(&claims.sub)
    .fetch_optional(&state.pool)
    .await;
    match row {
        Ok(Some((id, email, email_verified, display_name, username, avatar_url, platform_role))) => HttpResponse::Ok()
            .json(UserRow {
                id: id.to_string(),
                email,
                email_verified,
                display_name,
                username,
                avatar_url,
                platform_role,
            }),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// The HTTP ceiling: no authentication, no database.
#[post("/bare")]
async fn bare() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(r#"{"ok":true}"#)
}

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).with_context(|| format!("{name} is not set"))
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let addr = env("PEER_ADDR")?;
    let url = env("PEER_DATABASE_URL")?;
    let secret = env("PEER_HS256_SECRET")?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let workers = match std::env::var("PEER_WORKERS") {
        Ok(v) => v.parse().context("PEER_WORKERS")?,
        Err(_) => cores,
    };
    let pool_size = match std::env::var("PEER_POOL") {
        Ok(v) => v.parse().context("PEER_POOL")?,
        Err(_) => u32::try_from(cores * 4).unwrap_or(32).clamp(4, 32),
    };
    let pool = PgPoolOptions::new().max_connections(pool_size).connect(&url).await.context("connecting")?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let state = web::Data::new(State { pool, key: DecodingKey::from_secret(secret.as_bytes()), validation });
    HttpServer::new(move || App::new().app_data(state.clone()).service(user_get).service(bare))
        .workers(workers)
        .bind(&addr)
        .with_context(|| format!("binding {addr}"))?
        .run()
        .await
        .context("serving")
}
