//! `S3ObjectStore` against a real S3 server that verifies signatures (s3s +
//! s3s-fs, in-process on loopback): presigned uploads, HEAD, ranged GET,
//! COPY, DELETE, and how failures map to `StoreError`.

use adapter_s3::{S3Config, S3ObjectStore};
use image_upload::{ImageType, ObjectKey, ObjectStore, StoreError};
use std::time::Instant;
use test_support::s3::S3Server;
use time::Duration;
use url::Url;

/// A 1×1 PNG followed by padding, so that a range read is visibly partial.
fn png_bytes() -> Vec<u8> {
    let mut bytes = vec![
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89,
    ];
    bytes.extend((0..100_000u32).map(|i| (i % 251) as u8));
    bytes
}

fn key(raw: &str) -> ObjectKey {
    ObjectKey::parse(raw).expect("a valid key")
}

async fn server_and_store() -> (S3Server, S3ObjectStore) {
    let server = S3Server::start().await.expect("starting the S3 server");
    let store = S3ObjectStore::new(server.config()).expect("building the store");
    (server, store)
}

/// PUTs `body` to a presigned URL with `content_type` as the client would.
async fn put(url: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .put(url)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("sending the PUT")
}

/// Uploads `body` under `key` through a presigned URL, asserting success.
async fn upload(store: &S3ObjectStore, key: &ObjectKey, image: ImageType, body: Vec<u8>) {
    let presigned = store.presign_put(key, image, Duration::seconds(600)).await.expect("presigning");
    let response = put(&presigned.url, image.mime(), body).await;
    let status = response.status();
    assert!(status.is_success(), "upload refused: {status} {}", response.text().await.unwrap_or_default());
}

fn query_param(url: &str, name: &str) -> Option<String> {
    Url::parse(url).expect("a URL").query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn the_s3_store_passes_the_object_store_story() {
    let (_server, store) = server_and_store().await;
    image_upload::testing::object_store_story(&store, async |_key, presigned, bytes| {
        let mut request = reqwest::Client::new().put(&presigned.url).body(bytes);
        for (name, value) in &presigned.headers {
            request = request.header(name, value);
        }
        request.send().await?.error_for_status()?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn an_upload_with_the_signed_type_can_be_inspected_copied_and_deleted() {
    let (server, store) = server_and_store().await;
    let tmp = key("tmp/avatars/42/0196f0e0-0000-7000-8000-000000000000.png");
    let bytes = png_bytes();

    let presigned = store.presign_put(&tmp, ImageType::Png, Duration::seconds(600)).await.expect("presigning");
    assert_eq!(presigned.headers, vec![("Content-Type".to_owned(), "image/png".to_owned())]);
    let response = put(&presigned.url, "image/png", bytes.clone()).await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(std::fs::read(server.object_path(tmp.as_str())).expect("the object on disk"), bytes);

    let info = store.head(&tmp).await.expect("head").expect("the object exists");
    assert_eq!(info.size, bytes.len() as u64);
    assert_eq!(info.content_type.as_deref(), Some("image/png"));

    let first = store.read_range(&tmp, 0..8).await.expect("range read");
    assert_eq!(first, bytes[..8]);
    assert_eq!(ImageType::sniff(&first), Some(ImageType::Png));

    let finalized = key("avatars/42/0196f0e0-0000-7000-8000-000000000001.png");
    store.copy(&tmp, &finalized, ImageType::Png).await.expect("copy");
    assert_eq!(std::fs::read(server.object_path(finalized.as_str())).expect("the copy on disk"), bytes);
    let copied = store.head(&finalized).await.expect("head").expect("the copy exists");
    assert_eq!(copied, info);

    store.delete(&tmp).await.expect("delete");
    assert_eq!(store.head(&tmp).await.expect("head"), None);
    assert!(!server.object_path(tmp.as_str()).exists());
    assert!(store.head(&finalized).await.expect("head").is_some(), "deleting the source kept the copy");

    assert_eq!(store.public_url(&finalized), format!("{}/usher/{finalized}", server.endpoint()));
}

#[tokio::test]
async fn a_put_with_another_content_type_is_refused() {
    let (server, store) = server_and_store().await;
    let tmp = key("tmp/avatars/42/a.png");
    let presigned = store.presign_put(&tmp, ImageType::Png, Duration::seconds(600)).await.expect("presigning");

    for other in ["text/html", "image/jpeg", "image/svg+xml"] {
        let response = put(&presigned.url, other, b"<html><script>alert(1)</script></html>".to_vec()).await;
        assert!(response.status().is_client_error(), "{other}: {}", response.status());
    }
    let response = reqwest::Client::new().put(&presigned.url).body(png_bytes()).send().await.expect("sending");
    assert!(response.status().is_client_error(), "no Content-Type: {}", response.status());

    assert!(!server.object_path(tmp.as_str()).exists());
    assert_eq!(store.head(&tmp).await.expect("head"), None);
}

#[tokio::test]
async fn a_tampered_signature_is_refused() {
    let (server, store) = server_and_store().await;
    let tmp = key("tmp/avatars/42/a.png");
    let presigned = store.presign_put(&tmp, ImageType::Png, Duration::seconds(600)).await.expect("presigning");
    let signature = query_param(&presigned.url, "X-Amz-Signature").expect("a signature");
    let last = signature.chars().last().expect("not empty");
    let tampered_signature = format!("{}{}", &signature[..signature.len() - 1], if last == '0' { '1' } else { '0' });
    let tampered = presigned.url.replace(&signature, &tampered_signature);
    assert_ne!(tampered, presigned.url);

    let response = put(&tampered, "image/png", png_bytes()).await;
    assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN);
    assert!(!server.object_path(tmp.as_str()).exists());

    // Changing the key in the path breaks the signature too.
    let moved = presigned.url.replace("/a.png?", "/b.png?");
    let response = put(&moved, "image/png", png_bytes()).await;
    assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_expired_url_is_refused() {
    let (server, store) = server_and_store().await;
    // Signed an hour ago for ten minutes: expired now, without waiting.
    let an_hour_ago = time::OffsetDateTime::now_utc() - Duration::hours(1);
    let store = store.with_clock(std::sync::Arc::new(shared_kernel::FixedClock::at(an_hour_ago)));
    let tmp = key("tmp/avatars/42/a.png");
    let presigned = store.presign_put(&tmp, ImageType::Png, Duration::minutes(10)).await.expect("presigning");
    assert_eq!(query_param(&presigned.url, "X-Amz-Expires").as_deref(), Some("600"));

    let response = put(&presigned.url, "image/png", png_bytes()).await;
    assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN);
    assert!(!server.object_path(tmp.as_str()).exists());
}

#[tokio::test]
async fn the_presigned_url_signs_the_content_type_and_carries_no_checksum() {
    let (_server, store) = server_and_store().await;
    for image in ImageType::ALL {
        let tmp = key(&format!("tmp/avatars/42/a.{}", image.extension()));
        let presigned = store.presign_put(&tmp, image, Duration::seconds(600)).await.expect("presigning");
        let signed = query_param(&presigned.url, "X-Amz-SignedHeaders").expect("signed headers");
        assert!(signed.split(';').any(|h| h == "content-type"), "{signed}");
        assert!(!presigned.url.to_ascii_lowercase().contains("x-amz-checksum"), "{}", presigned.url);
        assert!(!presigned.url.to_ascii_lowercase().contains("x-amz-sdk-checksum"), "{}", presigned.url);
        assert_eq!(query_param(&presigned.url, "X-Amz-Expires").as_deref(), Some("600"));
        assert!(query_param(&presigned.url, "X-Amz-Credential").is_some_and(|c| c.contains("/auto/s3/")));
        assert_eq!(presigned.headers, vec![("Content-Type".to_owned(), image.mime().to_owned())]);
    }
}

#[tokio::test]
async fn range_reads_return_only_the_requested_bytes() {
    let (_server, store) = server_and_store().await;
    let tmp = key("tmp/avatars/42/a.png");
    let bytes = png_bytes();
    upload(&store, &tmp, ImageType::Png, bytes.clone()).await;
    let len = bytes.len() as u64;

    let first = store.read_range(&tmp, 0..8).await.expect("range read");
    assert_eq!(first.len(), 8);
    assert_eq!(first, bytes[..8]);

    let middle = store.read_range(&tmp, 1_000..1_100).await.expect("range read");
    assert_eq!(middle, bytes[1_000..1_100]);

    let sniff = store.read_range(&tmp, 0..64 * 1024).await.expect("range read");
    assert_eq!(sniff.len(), 64 * 1024);
    assert_eq!(sniff, bytes[..64 * 1024]);

    let tail = store.read_range(&tmp, len - 10..len + 1_000).await.expect("range read past the end");
    assert_eq!(tail, bytes[bytes.len() - 10..], "shorter when the object is");

    assert!(store.read_range(&tmp, len + 5..len + 50).await.expect("range beyond the object").is_empty());
    assert!(store.read_range(&tmp, 5..5).await.expect("empty range").is_empty());
}

#[tokio::test]
async fn a_copy_stores_the_given_content_type() {
    let (server, store) = server_and_store().await;
    let tmp = key("tmp/avatars/42/a.png");
    upload(&store, &tmp, ImageType::Png, png_bytes()).await;

    let to = key("avatars/42/b.webp");
    store.copy(&tmp, &to, ImageType::Webp).await.expect("copy");

    let copied = store.head(&to).await.expect("head").expect("the copy exists");
    assert_eq!(copied.content_type.as_deref(), Some("image/webp"));
    assert_eq!(copied.size, png_bytes().len() as u64);
    assert!(server.object_path(to.as_str()).exists());
    let source = store.head(&tmp).await.expect("head").expect("the source is still there");
    assert_eq!(source.content_type.as_deref(), Some("image/png"));
}

#[tokio::test]
async fn missing_objects_are_none_and_deleting_them_succeeds() {
    let (_server, store) = server_and_store().await;
    let missing = key("avatars/42/never-uploaded.png");
    assert_eq!(store.head(&missing).await.expect("head"), None);
    store.delete(&missing).await.expect("deleting a missing object");

    // A missing object is its own error, so a finalize racing another one can
    // tell "someone else used the ticket" from "the store is broken".
    let err = store.read_range(&missing, 0..8).await.expect_err("no such object");
    assert!(matches!(err, StoreError::Missing(_)), "{err:?}");
    let err = store.copy(&missing, &key("avatars/42/x.png"), ImageType::Png).await.expect_err("no such source");
    assert!(matches!(err, StoreError::Missing(_)), "{err:?}");
}

#[tokio::test]
async fn a_refusal_by_the_store_is_an_upstream_error() {
    let (server, _store) = server_and_store().await;
    let wrong = S3Config { secret_access_key: "not-the-secret".into(), ..server.config() };
    let store = S3ObjectStore::new(wrong).expect("building the store");
    let err = store.head(&key("avatars/42/a.png")).await.expect_err("bad credentials");
    let StoreError::Upstream(cause) = err else { panic!("expected Upstream, got {err:?}") };
    assert!(format!("{cause:#}").contains("403"), "{cause:#}");

    let err = store.delete(&key("avatars/42/a.png")).await.expect_err("bad credentials");
    let StoreError::Upstream(cause) = err else { panic!("expected Upstream, got {err:?}") };
    let message = format!("{cause:#}");
    assert!(message.contains("403") && message.contains("SignatureDoesNotMatch"), "{message}");
    assert!(!message.contains("X-Amz-Signature"), "errors must not carry signed URLs: {message}");
}

#[tokio::test]
async fn with_the_store_down_requests_are_unavailable() {
    let (server, store) = server_and_store().await;
    let tmp = key("tmp/avatars/42/a.png");
    upload(&store, &tmp, ImageType::Png, png_bytes()).await;
    // The client now holds a pooled connection to the server.
    assert!(store.head(&tmp).await.expect("head").is_some());

    server.stop();
    let started = Instant::now();
    let err = store.head(&tmp).await.expect_err("the store is down");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let err = store.read_range(&tmp, 0..8).await.expect_err("the store is down");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let err = store.delete(&tmp).await.expect_err("the store is down");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "failed fast, not by timeout");
    let StoreError::Unavailable(cause) = err else { unreachable!() };
    assert!(!format!("{cause:#}").contains("X-Amz-Signature"), "{cause:#}");

    // Presigning needs no I/O, so it still works.
    store.presign_put(&tmp, ImageType::Png, Duration::seconds(600)).await.expect("presigning offline");
}
