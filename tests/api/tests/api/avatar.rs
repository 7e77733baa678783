//! The avatar's two-step upload, black-box, on the embedded store and on a
//! signature-checking S3 server, each on SQLite and PostgreSQL.

use reqwest::Method;
use serde_json::{Value, json};
use test_support::s3::S3Server;
use test_support::{Backend, TestApp, assert_problem, json};
use usher_api::settings::{S3Storage, Secret, StorageKind};

/// Which object store a case runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Store {
    Local,
    S3,
}

/// An app plus the S3 server it uses (kept alive as long as the app).
struct Harness {
    app: TestApp,
    s3: Option<S3Server>,
}

async fn harness(backend: Backend, store: Store, configure: impl FnOnce(&mut usher_api::Settings)) -> Harness {
    let s3 = match store {
        Store::Local => None,
        Store::S3 => Some(S3Server::start().await.expect("starting the S3 server")),
    };
    let config = s3.as_ref().map(S3Server::config);
    let app = TestApp::spawn_with(backend, |s| {
        if let Some(c) = config {
            s.storage.kind = StorageKind::S3(S3Storage {
                endpoint: c.endpoint,
                bucket: c.bucket,
                region: c.region,
                access_key_id: c.access_key_id,
                secret_access_key: Secret::new(c.secret_access_key),
                public_base_url: c.public_base_url,
            });
        }
        configure(s);
    })
    .await;
    Harness { app, s3 }
}

/// A valid PNG of `width`×`height` (stored deflate blocks, so no compressor is needed).
pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        out.extend_from_slice(&crc_input);
        out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    }
    let mut raw = Vec::new();
    for _ in 0..height {
        raw.push(0);
        raw.extend(std::iter::repeat_n([0xCC, 0x33, 0x00], width as usize).flatten());
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = u16::try_from(block.len()).unwrap();
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in &raw {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Only a PNG header announcing `width`×`height`: finalize reads no further.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut out = png(1, 1);
    out[16..20].copy_from_slice(&width.to_be_bytes());
    out[20..24].copy_from_slice(&height.to_be_bytes());
    out
}

const JPEG: &[u8] =
    &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xFF, 0xD9];

struct Ticket {
    upload_url: String,
    tmp_key: String,
}

async fn ticket(app: &TestApp, token: &str, content_type: &str) -> Ticket {
    let res = app.post("/user/avatar/upload-ticket", token, &json!({"contentType": content_type})).await;
    assert_eq!(res.status(), 200, "ticket");
    let body = json(res).await;
    assert_eq!(body["expiresInSeconds"], 600);
    assert_eq!(body["requiredHeaders"], json!({"Content-Type": content_type}));
    Ticket {
        upload_url: body["uploadUrl"].as_str().unwrap().to_owned(),
        tmp_key: body["tmpKey"].as_str().unwrap().to_owned(),
    }
}

async fn put(app: &TestApp, url: &str, content_type: &str, bytes: Vec<u8>) -> reqwest::Response {
    app.client.put(url).header("content-type", content_type).body(bytes).send().await.unwrap()
}

async fn finalize(app: &TestApp, token: &str, tmp_key: &str) -> reqwest::Response {
    app.post("/user/avatar/finalize", token, &json!({"tmpKey": tmp_key})).await
}

async fn tries_left(app: &TestApp, token: &str) -> Value {
    json(app.get_user(token).await).await["avatarUploadTriesRemaining"].clone()
}

async fn uploads_end_to_end_and_replace_the_previous_avatar(backend: Backend, store: Store) {
    let h = harness(backend, store, |_| {}).await;
    let app = &h.app;
    let token = app.token("ada@example.com");
    let user_id = json(app.get_user(&token).await).await["id"].as_str().unwrap().to_owned();
    assert_eq!(tries_left(app, &token).await, 5);

    let first = ticket(app, &token, "image/png").await;
    assert!(first.tmp_key.starts_with(&format!("tmp/avatars/{user_id}/")) && first.tmp_key.ends_with(".png"));
    let bytes = png(8, 8);
    assert!(put(app, &first.upload_url, "image/png", bytes.clone()).await.status().is_success());
    let res = finalize(app, &token, &first.tmp_key).await;
    assert_eq!(res.status(), 200);
    let body = json(res).await;
    assert_eq!(body["pendingVerification"], Value::Null);
    let avatar_url = body["avatarUrl"].as_str().unwrap().to_owned();
    assert!(avatar_url.contains(&format!("avatars/{user_id}/")) && !avatar_url.contains("tmp/"));
    assert_eq!(stored(&h, &avatar_url).await, Some(bytes), "the avatar URL serves the uploaded bytes");

    let user = json(app.get_user(&token).await).await;
    assert_eq!(user["avatarUrl"], avatar_url);
    assert_eq!(user["avatarUploadTriesRemaining"], 4);
    // The temporary object is gone.
    if let Some(s3) = &h.s3 {
        assert!(!s3.object_path(&first.tmp_key).exists());
    } else {
        assert!(!app.data_dir().join("objects").join(&first.tmp_key).exists());
    }

    // A second avatar replaces the first, whose object is deleted.
    let second = ticket(app, &token, "image/png").await;
    put(app, &second.upload_url, "image/png", png(16, 16)).await;
    let new_url = json(finalize(app, &token, &second.tmp_key).await).await["avatarUrl"].as_str().unwrap().to_owned();
    assert_ne!(new_url, avatar_url);
    assert_eq!(stored(&h, &avatar_url).await, None, "the old object is deleted");

    // Remove: 204, the avatar is null and the object gone.
    let res = app.request(Method::POST, "/user/avatar/remove", Some(&token), None).await;
    assert_eq!(res.status(), 204);
    assert_eq!(json(app.get_user(&token).await).await["avatarUrl"], Value::Null);
    assert_eq!(stored(&h, &new_url).await, None);
    let res = app.request(Method::POST, "/user/avatar/remove", Some(&token), None).await;
    assert_eq!(res.status(), 204, "removing nothing is fine");
}

/// The bytes behind a public avatar URL: fetched from the embedded store's
/// `/files` route, or read from the S3 server's disk (its public base URL is
/// a CDN in production; the test server refuses anonymous reads).
async fn stored(h: &Harness, url: &str) -> Option<Vec<u8>> {
    match &h.s3 {
        None => {
            let res = h.app.client.get(url).send().await.unwrap();
            if res.status() == 404 {
                return None;
            }
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers().get("content-type").unwrap(), "image/png");
            assert!(res.headers().get("cache-control").unwrap().to_str().unwrap().contains("immutable"));
            Some(res.bytes().await.unwrap().to_vec())
        }
        Some(s3) => {
            let prefix = format!("{}/", s3.config().public_base_url);
            let key = url.strip_prefix(&prefix).unwrap_or_else(|| panic!("{url} is not under {prefix}"));
            std::fs::read(s3.object_path(key)).ok()
        }
    }
}

async fn every_refusal_has_its_code_and_costs_no_try(backend: Backend, store: Store) {
    let h = harness(backend, store, |_| {}).await;
    let app = &h.app;
    let token = app.token("ada@example.com");

    let res = app.post("/user/avatar/upload-ticket", &token, &json!({"contentType": "image/gif"})).await;
    assert_problem(res, 415, "upload.unsupported_type").await;
    let res = app.post("/user/avatar/upload-ticket", &token, &json!({"contentType": "image/png", "x": 1})).await;
    assert_problem(res, 422, "request.validation").await;
    assert_eq!(tries_left(app, &token).await, 5);

    // Finalize before the upload: 409, and the ticket stays usable.
    let t = ticket(app, &token, "image/png").await;
    assert_problem(finalize(app, &token, &t.tmp_key).await, 409, "upload.not_found").await;

    // Another content type than the signed one is refused by the store.
    let res = put(app, &t.upload_url, "image/jpeg", JPEG.to_vec()).await;
    assert!(res.status().is_client_error(), "{}", res.status());

    // JPEG bytes under a PNG ticket: 415, the object deleted, the try given back.
    assert!(put(app, &t.upload_url, "image/png", JPEG.to_vec()).await.status().is_success());
    assert_eq!(tries_left(app, &token).await, 4);
    assert_problem(finalize(app, &token, &t.tmp_key).await, 415, "upload.content_mismatch").await;
    assert_eq!(tries_left(app, &token).await, 5, "a failed finalize consumes no try");
    assert_problem(finalize(app, &token, &t.tmp_key).await, 409, "upload.ticket_invalid").await;

    // Wider than 4096 px: 422.
    let t = ticket(app, &token, "image/png").await;
    put(app, &t.upload_url, "image/png", png_header(5000, 10)).await;
    assert_problem(finalize(app, &token, &t.tmp_key).await, 422, "upload.dimensions").await;

    // Over 5 MiB: the embedded store stops reading at the limit; S3 stores it and finalize refuses it.
    let t = ticket(app, &token, "image/png").await;
    let mut big = png(8, 8);
    big.resize(5 * 1024 * 1024 + 1, 0);
    let res = put(app, &t.upload_url, "image/png", big).await;
    match store {
        Store::Local => assert_problem(res, 413, "upload.too_large").await,
        Store::S3 => {
            assert!(res.status().is_success());
            assert_problem(finalize(app, &token, &t.tmp_key).await, 413, "upload.too_large").await
        }
    };

    // Someone else's key, a forged key, a key never issued: 404.
    let mallory = app.token("mallory@example.com");
    let t = ticket(app, &token, "image/png").await;
    put(app, &t.upload_url, "image/png", png(4, 4)).await;
    assert_problem(finalize(app, &mallory, &t.tmp_key).await, 404, "upload.ticket_invalid").await;
    for forged in [
        "../../etc/passwd",
        "tmp/avatars/../../x.png",
        "avatars/1/x.png",
        "tmp/avatars/1/01a200aa-0000-7000-8000-000000000000.png",
    ] {
        assert_problem(finalize(app, &token, forged).await, 404, "upload.ticket_invalid").await;
    }
    // The rightful owner can still use it, once.
    assert_eq!(finalize(app, &token, &t.tmp_key).await.status(), 200);
    assert_problem(finalize(app, &token, &t.tmp_key).await, 409, "upload.ticket_invalid").await;
}

async fn the_sixth_ticket_in_a_window_is_429_with_retry_after(backend: Backend, store: Store) {
    let h = harness(backend, store, |_| {}).await;
    let app = &h.app;
    let token = app.token("ada@example.com");
    for _ in 0..5 {
        ticket(app, &token, "image/webp").await;
    }
    assert_eq!(tries_left(app, &token).await, 0);
    let res = app.post("/user/avatar/upload-ticket", &token, &json!({"contentType": "image/png"})).await;
    let retry_after: u64 = res.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((86_000..=86_400).contains(&retry_after), "{retry_after}");
    assert_problem(res, 429, "avatar.upload_tries_exhausted").await;
    // Another user is unaffected.
    ticket(app, &app.token("bob@example.com"), "image/png").await;
}

async fn concurrent_tickets_never_exceed_the_limit(backend: Backend) {
    let h = harness(backend, Store::Local, |_| {}).await;
    let app = &h.app;
    let token = app.token("ada@example.com");
    app.get_user(&token).await;
    let body = json!({"contentType": "image/png"});
    let requests = (0..12).map(|_| app.post("/user/avatar/upload-ticket", &token, &body));
    let statuses: Vec<u16> =
        futures_util::future::join_all(requests).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 7, "{statuses:?}");
}

/// A baseline JPEG of `width`×`height` as phones write them: two maximal
/// APP1 (EXIF) segments and an APP2 (ICC) one before the frame header, so
/// the size sits about 140 KiB in.
fn phone_jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    for marker in [0xE1, 0xE1, 0xE2] {
        out.extend_from_slice(&[0xFF, marker, 0xFF, 0xFF]);
        out.extend(std::iter::repeat_n(0x20, 0xFFFF - 2));
    }
    out.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 8]);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

async fn a_phone_jpeg_with_large_metadata_is_accepted(backend: Backend, store: Store) {
    let h = harness(backend, store, |_| {}).await;
    let app = &h.app;
    let token = app.token("ada@example.com");
    let bytes = phone_jpeg(800, 600);
    assert!(bytes.len() > 3 * 64 * 1024, "the frame header sits past the first 64 KiB windows");
    let t = ticket(app, &token, "image/jpeg").await;
    assert!(put(app, &t.upload_url, "image/jpeg", bytes).await.status().is_success());
    let res = finalize(app, &token, &t.tmp_key).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // Its dimensions are still checked, however deep they sit.
    let t = ticket(app, &token, "image/jpeg").await;
    put(app, &t.upload_url, "image/jpeg", phone_jpeg(8000, 600)).await;
    assert_problem(finalize(app, &token, &t.tmp_key).await, 422, "upload.dimensions").await;
}

/// Whether `bytes` is the small PNG this test uploads first (not the huge one).
fn is_small_png(bytes: &[u8]) -> bool {
    bytes.len() > 24 && bytes[16..20] == 8u32.to_be_bytes() && bytes[20..24] == 8u32.to_be_bytes()
}

async fn what_finalize_checked_is_what_is_published(backend: Backend, store: Store) {
    let h = harness(backend, store, |s| s.avatar.tries_per_window = 100).await;
    let app = &h.app;
    let token = app.token("ada@example.com");

    // After finalize, the upload URL takes nothing more on the embedded store;
    // on S3 it may, but the published object is the checked copy.
    let t = ticket(app, &token, "image/png").await;
    put(app, &t.upload_url, "image/png", png(8, 8)).await;
    let url = json(finalize(app, &token, &t.tmp_key).await).await["avatarUrl"].as_str().unwrap().to_owned();
    let late = put(app, &t.upload_url, "image/png", png_header(60_000, 60_000)).await;
    if store == Store::Local {
        assert_problem(late, 409, "upload.ticket_invalid").await;
    }
    assert!(is_small_png(&stored(&h, &url).await.unwrap()), "the published bytes changed after finalize");

    // A PUT racing the finalize: whichever bytes the copy took were checked.
    for round in 0..8 {
        let t = ticket(app, &token, "image/png").await;
        put(app, &t.upload_url, "image/png", png(8, 8)).await;
        let (fin, _) = futures_util::join!(
            finalize(app, &token, &t.tmp_key),
            put(app, &t.upload_url, "image/png", png_header(60_000, 60_000))
        );
        match fin.status().as_u16() {
            200 => {
                let url = json(fin).await["avatarUrl"].as_str().unwrap().to_owned();
                let published = stored(&h, &url).await.expect("the avatar exists");
                assert!(is_small_png(&published), "round {round}: unchecked bytes were published");
            }
            _ => {
                assert_problem(fin, 422, "upload.dimensions").await;
            }
        }
    }
}

async fn concurrent_finalizes_of_one_key_give_one_200(backend: Backend, store: Store) {
    let h = harness(backend, store, |_| {}).await;
    let app = &h.app;
    let token = app.token("ada@example.com");
    let t = ticket(app, &token, "image/png").await;
    put(app, &t.upload_url, "image/png", png(8, 8)).await;
    let results = futures_util::future::join_all((0..6).map(|_| finalize(app, &token, &t.tmp_key))).await;
    let mut ok = 0;
    for res in results {
        if res.status() == 200 {
            ok += 1;
        } else {
            assert_problem(res, 409, "upload.ticket_invalid").await;
        }
    }
    assert_eq!(ok, 1, "a double click publishes once");
    assert_eq!(tries_left(app, &token).await, 4, "and costs one try");
    let url = json(app.get_user(&token).await).await["avatarUrl"].as_str().unwrap().to_owned();
    assert!(is_small_png(&stored(&h, &url).await.unwrap()));
}

macro_rules! on_every_store_and_database {
    ($($case:ident),*) => {
        $(
            mod $case {
                use super::*;
                #[tokio::test] async fn local_sqlite() { super::$case(Backend::Sqlite, Store::Local).await }
                #[tokio::test] async fn local_postgres() { super::$case(Backend::Postgres, Store::Local).await }
                #[tokio::test] async fn s3_sqlite() { super::$case(Backend::Sqlite, Store::S3).await }
                #[tokio::test] async fn s3_postgres() { super::$case(Backend::Postgres, Store::S3).await }
            }
        )*
    };
}

on_every_store_and_database!(
    uploads_end_to_end_and_replace_the_previous_avatar,
    every_refusal_has_its_code_and_costs_no_try,
    the_sixth_ticket_in_a_window_is_429_with_retry_after,
    a_phone_jpeg_with_large_metadata_is_accepted,
    what_finalize_checked_is_what_is_published,
    concurrent_finalizes_of_one_key_give_one_200
);

test_support::on_both_backends!(
    the_object_store_down_at_finalize_is_503_and_costs_nothing,
    the_sweeper_deletes_abandoned_uploads
);

#[tokio::test]
async fn concurrent_tickets_never_exceed_the_limit_on_sqlite() {
    concurrent_tickets_never_exceed_the_limit(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_tickets_never_exceed_the_limit_on_postgres() {
    concurrent_tickets_never_exceed_the_limit(Backend::Postgres).await;
}

// SQLite only: checks the S3 presigned URL's query string, which no database touches.
#[tokio::test]
async fn s3_presigned_urls_sign_the_content_type_and_carry_no_checksum() {
    let h = harness(Backend::Sqlite, Store::S3, |_| {}).await;
    let t = ticket(&h.app, &h.app.token("ada@example.com"), "image/png").await;
    let url = reqwest::Url::parse(&t.upload_url).unwrap();
    let query: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let signed = query.iter().find(|(k, _)| k == "X-Amz-SignedHeaders").map(|(_, v)| v.clone()).unwrap();
    assert!(signed.split(';').any(|h| h == "content-type"), "{signed}");
    assert!(!query.iter().any(|(k, _)| k.to_ascii_lowercase().starts_with("x-amz-checksum")), "{query:?}");
    let expires = query.iter().find(|(k, _)| k == "X-Amz-Expires").map(|(_, v)| v.clone()).unwrap();
    assert_eq!(expires, "600");
}

async fn the_object_store_down_at_finalize_is_503_and_costs_nothing(backend: Backend) {
    let h = harness(backend, Store::S3, |_| {}).await;
    let app = &h.app;
    let token = app.token("ada@example.com");
    let t = ticket(app, &token, "image/png").await;
    put(app, &t.upload_url, "image/png", png(8, 8)).await;
    let s3 = h.s3.as_ref().unwrap();
    s3.stop();
    let res = finalize(app, &token, &t.tmp_key).await;
    assert!(res.headers().get("retry-after").is_some());
    assert_problem(res, 503, "storage.unavailable").await;
    assert_eq!(tries_left(app, &token).await, 4, "only the ticket's own try is counted");
}

// SQLite only: checks the embedded store's URL signatures and expiry, which no database touches.
#[tokio::test]
async fn a_local_upload_with_a_tampered_or_expired_url_is_refused() {
    let h = harness(Backend::Sqlite, Store::Local, |_| {}).await;
    let app = &h.app;
    let token = app.token("ada@example.com");
    let t = ticket(app, &token, "image/png").await;
    let tampered = t.upload_url.replace("signature=", "signature=0");
    assert_problem(put(app, &tampered, "image/png", png(2, 2)).await, 403, "upload.signature_invalid").await;
    let other_key = t.upload_url.replace(".png?", "x.png?");
    assert_problem(put(app, &other_key, "image/png", png(2, 2)).await, 403, "upload.signature_invalid").await;
    let unsigned = t.upload_url.split('?').next().unwrap().to_owned();
    assert_problem(put(app, &unsigned, "image/png", png(2, 2)).await, 403, "upload.signature_invalid").await;
    assert_problem(
        put(app, &t.upload_url, "text/html", b"<script>".to_vec()).await,
        415,
        "upload.content_type_mismatch",
    )
    .await;
    let res = app.client.get(format!("{}/files/{}", app.address, t.tmp_key)).send().await.unwrap();
    assert_problem(res, 404, "http.not_found").await;
    // The untouched URL, once past its lifetime (the app's clock signs and checks it).
    app.clock.advance(time::Duration::seconds(601));
    assert_problem(put(app, &t.upload_url, "image/png", png(2, 2)).await, 403, "upload.url_expired").await;
}

async fn the_sweeper_deletes_abandoned_uploads(backend: Backend) {
    let h = harness(backend, Store::Local, |_| {}).await;
    let app = &h.app;
    let token = app.token("ada@example.com");
    let res = app.post("/user/avatar/upload-ticket", &token, &json!({"contentType": "image/png"})).await;
    let body = json(res).await;
    let (url, key) = (body["uploadUrl"].as_str().unwrap(), body["tmpKey"].as_str().unwrap());
    assert!(put(app, url, "image/png", png(2, 2)).await.status().is_success());
    let path = app.data_dir().join("objects").join(key);
    app.run_jobs().await;
    assert!(path.exists(), "a live ticket's upload is kept");
    // Past the ticket's lifetime, one run of the jobs deletes it: no waiting.
    app.clock.advance(time::Duration::seconds(601));
    app.run_jobs().await;
    assert!(!path.exists(), "the abandoned upload was swept");
    assert_problem(finalize(app, &token, key).await, 410, "upload.ticket_invalid").await;
}
