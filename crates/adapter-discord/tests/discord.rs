//! The Discord adapter against a wiremock fake of Discord's REST API: every
//! status it maps, the retries and the rate-limit handling.

use adapter_discord::{DiscordClient, DiscordConfig};
use photo_verification::{DiscordAvatars as _, DiscordError};
use serde_json::json;
use shared_kernel::DiscordId;
use std::time::Duration;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ID: &str = "80351110224678912";

fn id() -> DiscordId {
    DiscordId::parse(ID).unwrap()
}

fn client(server: &MockServer) -> DiscordClient {
    let mut config = DiscordConfig::new(server.uri(), Some("bot-token".into()));
    config.backoff = Duration::from_millis(10);
    config.max_rate_limit_wait = Duration::from_secs(2);
    DiscordClient::new(config).unwrap()
}

fn user(avatar: Option<&str>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"id": ID, "username": "ada", "avatar": avatar}))
}

#[tokio::test]
async fn a_static_avatar_is_a_png_read_with_the_bot_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/users/{ID}")))
        .and(header("authorization", "Bot bot-token"))
        .respond_with(user(Some("8342729096ea3675442027381ff50dfe")))
        .expect(1)
        .mount(&server)
        .await;
    let avatar = client(&server).current_avatar(&id()).await.unwrap();
    assert_eq!(avatar.hash.as_deref(), Some("8342729096ea3675442027381ff50dfe"));
    assert!(avatar.url.ends_with("/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png?size=512"));
}

#[tokio::test]
async fn an_animated_avatar_is_a_gif_and_none_is_the_default_avatar() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(user(Some("a_abc123"))).up_to_n_times(1).mount(&server).await;
    Mock::given(method("GET")).respond_with(user(None)).mount(&server).await;
    let c = client(&server);
    assert!(c.current_avatar(&id()).await.unwrap().url.ends_with("/a_abc123.gif?size=512"));
    let default = c.current_avatar(&id()).await.unwrap();
    assert_eq!(default.hash, None);
    assert_eq!(
        default.url,
        format!("https://cdn.discordapp.com/embed/avatars/{}.png", (80_351_110_224_678_912u64 >> 22) % 6)
    );
}

#[tokio::test]
async fn an_unknown_user_is_user_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(404)).expect(1).mount(&server).await;
    assert!(matches!(client(&server).current_avatar(&id()).await, Err(DiscordError::UserNotFound)));
}

#[tokio::test]
async fn a_refused_token_is_unauthorized_and_not_retried() {
    for status in [401, 403] {
        let server = MockServer::start().await;
        Mock::given(method("GET")).respond_with(ResponseTemplate::new(status)).expect(1).mount(&server).await;
        assert!(matches!(client(&server).current_avatar(&id()).await, Err(DiscordError::Unauthorized)));
    }
}

#[tokio::test]
async fn server_errors_are_retried_twice_then_reported() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(502)).expect(3).mount(&server).await;
    assert!(matches!(client(&server).current_avatar(&id()).await, Err(DiscordError::Unavailable(_))));
}

#[tokio::test]
async fn a_server_error_followed_by_success_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(500)).up_to_n_times(1).mount(&server).await;
    Mock::given(method("GET")).respond_with(user(Some("abc"))).expect(1).mount(&server).await;
    assert_eq!(client(&server).current_avatar(&id()).await.unwrap().hash.as_deref(), Some("abc"));
}

#[tokio::test]
async fn a_short_rate_limit_is_waited_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"retry_after": 0.05, "global": false})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET")).respond_with(user(Some("abc"))).expect(1).mount(&server).await;
    assert!(client(&server).current_avatar(&id()).await.is_ok());
}

#[tokio::test]
async fn a_long_rate_limit_is_reported_with_its_delay() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"retry_after": 30.2})))
        .expect(1)
        .mount(&server)
        .await;
    match client(&server).current_avatar(&id()).await {
        Err(DiscordError::RateLimited { retry_after_seconds }) => assert_eq!(retry_after_seconds, 31),
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

#[tokio::test]
async fn network_errors_are_retried_then_unavailable() {
    // Nothing listens on the discard port of localhost.
    let mut config = DiscordConfig::new("http://127.0.0.1:9", Some("t".into()));
    config.backoff = Duration::from_millis(5);
    let c = DiscordClient::new(config).unwrap();
    assert!(matches!(c.current_avatar(&id()).await, Err(DiscordError::Unavailable(_))));
}

#[tokio::test]
async fn a_slow_discord_times_out_as_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(user(None).set_delay(Duration::from_millis(500))).mount(&server).await;
    let mut config = DiscordConfig::new(server.uri(), Some("t".into()));
    config.timeout = Duration::from_millis(100);
    config.backoff = Duration::from_millis(5);
    let c = DiscordClient::new(config).unwrap();
    assert!(matches!(c.current_avatar(&id()).await, Err(DiscordError::Unavailable(_))));
}

#[tokio::test]
async fn without_a_token_nothing_is_called() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(user(None)).expect(0).mount(&server).await;
    let c = DiscordClient::new(DiscordConfig::new(server.uri(), None)).unwrap();
    assert!(matches!(c.current_avatar(&id()).await, Err(DiscordError::NotConfigured)));
}

#[tokio::test]
async fn a_malformed_body_is_unavailable_not_a_panic() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_string("<html>")).mount(&server).await;
    assert!(matches!(client(&server).current_avatar(&id()).await, Err(DiscordError::Unavailable(_))));
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(user(Some("../../evil"))).mount(&server).await;
    assert!(matches!(client(&server).current_avatar(&id()).await, Err(DiscordError::Unavailable(_))));
}
