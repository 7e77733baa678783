//! `GET /dashboard/config.json`: how the dashboard signs people in. With
//! `auth.oidc` set, the identity provider's endpoints (read once from its
//! discovery document, read again after a failure), the dashboard's client id,
//! scopes, audience and redirect URI; otherwise the development sign-in
//! (`usher token`). Like the other dashboard routes it is not part of the API
//! contract and stays out of the OpenAPI document.

use crate::discovery::Discovery;
use crate::error::ApiError;
use crate::settings::{OidcSignIn, Settings};
use actix_web::{HttpResponse, http::header, web};
use anyhow::Context as _;
use serde::Serialize;
use std::time::Duration;
use tokio::sync::RwLock;

/// How long the discovery document may take to arrive.
const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The provider's endpoints the browser uses.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Endpoints {
    authorization_endpoint: String,
    token_endpoint: String,
    end_session_endpoint: Option<String>,
}

/// What `/dashboard/config.json` answers.
#[derive(Debug, Serialize)]
#[serde(tag = "signIn", rename_all = "camelCase")]
enum Config<'a> {
    /// No provider: tokens come from `usher token`.
    Development,
    /// The authorization code flow with PKCE at the provider.
    #[serde(rename_all = "camelCase")]
    Oidc {
        issuer: &'a str,
        #[serde(flatten)]
        endpoints: Endpoints,
        client_id: &'a str,
        scopes: &'a [String],
        audience: Option<&'a str>,
        redirect_uri: &'a str,
    },
}

/// The dashboard's sign-in, built once from settings.
pub struct SignIn {
    oidc: Option<Provider>,
}

struct Provider {
    settings: OidcSignIn,
    redirect_uri: String,
    client: reqwest::Client,
    endpoints: RwLock<Option<Endpoints>>,
}

impl SignIn {
    /// From `auth.oidc`; the redirect URI is `{public_url}/dashboard/`.
    pub fn from_settings(settings: &Settings, public_url: &str) -> anyhow::Result<SignIn> {
        let oidc = match &settings.auth.oidc {
            None => None,
            Some(oidc) => Some(Provider {
                settings: oidc.clone(),
                redirect_uri: format!("{}/dashboard/", public_url.trim_end_matches('/')),
                client: reqwest::Client::builder()
                    .timeout(DISCOVERY_TIMEOUT)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .context("building the HTTP client for the provider's discovery")?,
                endpoints: RwLock::new(None),
            }),
        };
        Ok(SignIn { oidc })
    }
}

impl Provider {
    async fn endpoints(&self) -> anyhow::Result<Endpoints> {
        if let Some(known) = self.endpoints.read().await.clone() {
            return Ok(known);
        }
        let discovery = Discovery::read(&self.client, &self.settings.issuer).await?;
        let endpoints = Endpoints {
            authorization_endpoint: discovery.endpoint("authorization_endpoint")?,
            token_endpoint: discovery.endpoint("token_endpoint")?,
            end_session_endpoint: discovery.optional_endpoint("end_session_endpoint")?,
        };
        *self.endpoints.write().await = Some(endpoints.clone());
        Ok(endpoints)
    }
}

/// Registers the route (on the plain actix app, beside the dashboard's files).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/dashboard/config.json", web::get().to(config));
}

async fn config(sign_in: web::Data<SignIn>) -> Result<HttpResponse, ApiError> {
    let body = match &sign_in.oidc {
        None => serde_json::to_vec(&Config::Development),
        Some(provider) => {
            let endpoints = provider.endpoints().await.map_err(|e| {
                ApiError::dependency_unavailable("the identity provider's discovery document could not be read", e)
            })?;
            let s = &provider.settings;
            serde_json::to_vec(&Config::Oidc {
                issuer: &s.issuer,
                endpoints,
                client_id: &s.client_id,
                scopes: &s.scopes,
                audience: s.audience.as_deref(),
                redirect_uri: &provider.redirect_uri,
            })
        }
    }
    .map_err(|e| ApiError::internal(e.into()))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body))
}
