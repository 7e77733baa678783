//! Calling the cluster: tokens as the replicas' shared secret signs them,
//! and one request with everything the checks look at (status, body,
//! `Retry-After`, which replica answered, how long it took).

use reqwest::Method;
use serde_json::Value;
use std::time::{Duration, Instant};

/// A token for `email`, signed with the secret every replica shares.
pub fn token(email: &str) -> String {
    test_support::tokens::hs256(test_support::tokens::HS256_SECRET, &test_support::tokens::claims(email))
}

/// One answer.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body (`Null` when there is none or it is not JSON).
    pub body: Value,
    /// Whether a `Retry-After` header came with it.
    pub retry_after: bool,
    /// The replica HAProxy sent it to (`X-Served-By`), when it went through HAProxy.
    pub served_by: Option<String>,
    /// From sending to the whole body read.
    pub elapsed: Duration,
}

/// An HTTP client for the suite (its own connection pool, a generous timeout
/// so that a hang shows up as a slow answer rather than a client error).
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
}

impl Api {
    /// A client whose requests give up after 30 s.
    pub fn new() -> anyhow::Result<Api> {
        Ok(Api { client: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()? })
    }

    /// Sends one request to `base` (a replica or HAProxy).
    ///
    /// # Errors
    /// A transport failure: refused, reset, timed out.
    pub async fn call(
        &self,
        base: impl AsRef<str>,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Result<Answer> {
        let started = Instant::now();
        let mut req = self.client.request(method, format!("{}{path}", base.as_ref()));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let retry_after = res.headers().contains_key("retry-after");
        let served_by = res.headers().get("x-served-by").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = res.bytes().await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Answer { status, body, retry_after, served_by, elapsed: started.elapsed() })
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, base: impl AsRef<str>, path: &str, token: &str, body: Value) -> reqwest::Result<Answer> {
        self.call(base, Method::POST, path, Some(token), Some(body)).await
    }

    /// `method path`, expecting `status`: the body, or an error saying what came instead.
    pub async fn expect(
        &self,
        base: &str,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        status: u16,
    ) -> anyhow::Result<Value> {
        let answer = self.call(base, method.clone(), path, Some(token), body).await?;
        anyhow::ensure!(
            answer.status == status,
            "{method} {path} answered {} instead of {status}: {}",
            answer.status,
            answer.body
        );
        Ok(answer.body)
    }
}
