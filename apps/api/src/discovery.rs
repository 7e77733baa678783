//! The identity provider's OpenID discovery document
//! (`{issuer}/.well-known/openid-configuration`). Token verification reads
//! `jwks_uri` from it and the dashboard's sign-in its endpoints; both hold
//! it to the same rules, kept here: the document names exactly the
//! configured issuer (OpenID Connect Discovery 1.0, section 4.3), and every
//! endpoint taken from it is https (http only to this machine).

use crate::settings::secure_url;
use anyhow::Context as _;
use serde_json::Value;

/// A discovery document whose issuer was checked.
pub(crate) struct Discovery {
    url: String,
    document: Value,
}

impl Discovery {
    /// Fetches the document of `issuer` and checks that it names `issuer`, character for character.
    pub(crate) async fn read(http: &reqwest::Client, issuer: &str) -> anyhow::Result<Self> {
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let document: Value = http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("fetching the OpenID configuration from {url}"))?
            .json()
            .await
            .with_context(|| format!("reading the OpenID configuration from {url}"))?;
        let stated = document.get("issuer").and_then(Value::as_str).unwrap_or_default();
        anyhow::ensure!(stated == issuer, "{url} names the issuer {stated:?}, not {issuer:?}");
        Ok(Self { url, document })
    }

    /// The endpoint `name`, which the document must name, over https.
    pub(crate) fn endpoint(&self, name: &str) -> anyhow::Result<String> {
        self.optional_endpoint(name)?.with_context(|| format!("{} has no {name}", self.url))
    }

    /// The endpoint `name` when the provider offers it, over https.
    pub(crate) fn optional_endpoint(&self, name: &str) -> anyhow::Result<Option<String>> {
        let Some(value) = self.document.get(name).and_then(Value::as_str) else {
            return Ok(None);
        };
        anyhow::ensure!(secure_url(value), "{} names a {name} that is not https: {value}", self.url);
        Ok(Some(value.to_owned()))
    }
}
