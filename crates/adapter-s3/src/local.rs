//! The embedded local-disk object store, used when no S3 is configured.
//!
//! Objects live as plain files under a root directory (`data_dir/objects`),
//! one path segment of the key per directory level. Uploads never write a
//! key's file directly: each writer streams into its own hidden partial file
//! under `root/.partial/` and renames it into place when complete, so readers
//! never see half an object and concurrent writers of one key cannot corrupt
//! it (the last rename wins).
//!
//! The "presigned URL" points at the app's own route,
//! `PUT {app_public_url}/uploads/{key}?expires=…&contentType=…&signature=…`,
//! whose signature is `hex(HMAC-SHA256(signing_key, "PUT\n{key}\n{mime}\n{expires}"))`.
//! The app routes that request to [`LocalObjectStore::verify_put`] and
//! [`LocalObjectStore::begin_write`], and serves finalized objects at
//! `GET {app_public_url}/files/{key}` through [`LocalObjectStore::open`];
//! temporary (`tmp/`) objects are never served, and private (`pending/`)
//! ones only with a signature from `presign_get`
//! (`hex(HMAC-SHA256(signing_key, "GET\n{key}\n{expires}"))`).
//!
//! - [`LocalObjectStore`]: the store and its `ObjectStore` implementation.
//! - [`UploadQuery`], [`LocalPutError`]: the signed query of an upload URL and
//!   why one was refused.
//! - [`LocalUpload`], [`LocalWriteError`]: one upload being written.

use anyhow::Context as _;
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use image_upload::{ImageType, ObjectInfo, ObjectKey, ObjectStore, PresignedPut, StoreError};
use sha2::Sha256;
use shared_kernel::{Clock, SystemClock};
use std::collections::HashSet;
use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

type HmacSha256 = Hmac<Sha256>;

/// Shortest accepted signing key, in bytes (the HMAC-SHA256 output size).
const MIN_SIGNING_KEY_BYTES: usize = 32;

/// Most bytes `read_range` reserves before reading.
const MAX_PREALLOCATION: u64 = 1024 * 1024;

/// Directory under the root holding in-progress writes. Keys with a segment
/// starting with `.` are refused, so no key can reach it.
const PARTIAL_DIR: &str = ".partial";

/// Objects on local disk, uploaded through the app's own signed `PUT` route.
#[derive(Clone)]
pub struct LocalObjectStore {
    /// Absolute, canonical directory holding every object.
    root: PathBuf,
    /// The app's public base URL, without a trailing `/`.
    app_public_url: String,
    /// HMAC-SHA256 keyed with the signing key; cloned for each signature.
    signing_key: HmacSha256,
    /// One slot per upload being written: a bound on partial files, open
    /// descriptors and disk that slow clients can hold.
    upload_slots: Arc<Semaphore>,
    /// The keys being written now: one writer per key.
    writing: Arc<Mutex<HashSet<String>>>,
    /// The clock URLs are signed with; the app checks them with the same one.
    clock: Arc<dyn Clock>,
}

/// How many uploads the embedded store writes at once, unless
/// [`LocalObjectStore::with_upload_limit`] says otherwise.
pub const DEFAULT_CONCURRENT_UPLOADS: usize = 64;

impl fmt::Debug for LocalObjectStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalObjectStore")
            .field("root", &self.root)
            .field("app_public_url", &self.app_public_url)
            .field("signing_key", &"<redacted>")
            .finish()
    }
}

/// Why a local upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum LocalPutError {
    /// The URL's expiry has passed.
    #[error("the upload URL has expired")]
    Expired,
    /// The signature does not match the key, content type and expiry.
    #[error("the upload URL's signature is invalid")]
    BadSignature,
    /// The request's `Content-Type` header differs from the signed one (or is missing).
    #[error("the Content-Type header does not match the content type signed into the upload URL")]
    WrongContentType,
    /// Another upload to the same key is still being written.
    #[error("another upload to this key is in progress")]
    InProgress,
    /// As many uploads as the store takes at once are being written.
    #[error("too many uploads are in progress")]
    Saturated,
    /// The disk failed, or the key cannot be stored.
    #[error("the upload could not be stored")]
    Io(#[from] io::Error),
}

/// The signed query of a local upload URL.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadQuery {
    /// Unix seconds from which the URL is no longer valid.
    pub expires: i64,
    /// The signed media type.
    pub content_type: String,
    /// Hex HMAC-SHA256 over method, key, content type and expiry.
    pub signature: String,
}

/// Why writing an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum LocalWriteError {
    /// The body is larger than the limit; stop reading it.
    #[error("the upload is larger than {limit} bytes")]
    TooLarge {
        /// The limit that was passed.
        limit: u64,
    },
    /// The disk failed.
    #[error("the upload could not be written")]
    Io(#[from] io::Error),
}

impl LocalObjectStore {
    /// A store under `root`, whose upload and file URLs start with
    /// `app_public_url` (an `http` or `https` URL). `root` is created if
    /// missing; `signing_key` must be at least 32 bytes. Blocks briefly on the
    /// file system, so call it at startup.
    pub fn new(root: PathBuf, app_public_url: &str, signing_key: Vec<u8>) -> anyhow::Result<Self> {
        anyhow::ensure!(
            signing_key.len() >= MIN_SIGNING_KEY_BYTES,
            "the local object store's signing key must be at least {MIN_SIGNING_KEY_BYTES} bytes, got {}",
            signing_key.len()
        );
        let parsed = url::Url::parse(app_public_url)
            .with_context(|| format!("the app's public URL {app_public_url:?} is not a URL"))?;
        anyhow::ensure!(
            matches!(parsed.scheme(), "http" | "https") && parsed.query().is_none() && parsed.fragment().is_none(),
            "the app's public URL {app_public_url:?} must be an http(s) URL without query or fragment"
        );
        let mac = HmacSha256::new_from_slice(&signing_key).context("keying HMAC-SHA256")?;
        let mut dirs = std::fs::DirBuilder::new();
        dirs.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dirs, PRIVATE_DIR);
        dirs.create(root.join(PARTIAL_DIR))
            .with_context(|| format!("creating the object directory {}", root.display()))?;
        let root = root.canonicalize().with_context(|| format!("resolving the object directory {}", root.display()))?;
        Ok(Self {
            root,
            app_public_url: app_public_url.trim_end_matches('/').to_owned(),
            signing_key: mac,
            upload_slots: Arc::new(Semaphore::new(DEFAULT_CONCURRENT_UPLOADS)),
            writing: Arc::default(),
            clock: Arc::new(SystemClock),
        })
    }

    /// Signs URLs as of `clock`'s now (the app's clock, which also checks
    /// them, so a test steps time instead of waiting for a URL to expire).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Writes at most `limit` uploads at once (at least one).
    #[must_use]
    pub fn with_upload_limit(mut self, limit: usize) -> Self {
        self.upload_slots = Arc::new(Semaphore::new(limit.max(1)));
        self
    }

    /// Checks a `PUT`'s signature, expiry and `Content-Type` header (its
    /// media type essence must equal the signed one, case-insensitively), in
    /// that order; returns the signed image type on success.
    pub fn verify_put(
        &self,
        key: &ObjectKey,
        query: &UploadQuery,
        content_type_header: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<ImageType, LocalPutError> {
        let provided = hex::decode(&query.signature).map_err(|_| LocalPutError::BadSignature)?;
        let expected = self.signature(key, &query.content_type, query.expires);
        // Lengths are public (always 32 bytes when genuine); the bytes are compared in constant time.
        if provided.len() != expected.len() || !bool::from(expected.as_slice().ct_eq(&provided)) {
            return Err(LocalPutError::BadSignature);
        }
        if now.unix_timestamp() >= query.expires {
            return Err(LocalPutError::Expired);
        }
        // We only ever sign our own media types, so this holds for a genuine signature.
        let image = ImageType::from_mime(&query.content_type).ok_or(LocalPutError::BadSignature)?;
        let header_matches = content_type_header
            .is_some_and(|header| essence(header).eq_ignore_ascii_case(essence(&query.content_type)));
        if !header_matches {
            return Err(LocalPutError::WrongContentType);
        }
        Ok(image)
    }

    /// Starts writing `key`, refusing a body of more than `limit` bytes. The
    /// bytes go to a hidden partial file, renamed into place by
    /// [`LocalUpload::finish`]; dropping the upload unfinished removes it.
    ///
    /// Refused with [`LocalPutError::InProgress`] while another upload to
    /// `key` is being written, and with [`LocalPutError::Saturated`] while
    /// the store writes as many uploads as it takes at once: neither waits,
    /// so stalled clients cannot queue more of themselves.
    pub async fn begin_write(&self, key: &ObjectKey, limit: u64) -> Result<LocalUpload, LocalPutError> {
        let target = self.path_of(key).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, UnstorableKey))?;
        let writer = KeyWriter::claim(&self.writing, key.as_str()).ok_or(LocalPutError::InProgress)?;
        let slot = Arc::clone(&self.upload_slots).try_acquire_owned().map_err(|_| LocalPutError::Saturated)?;
        let (file, partial) = self.create_partial().await?;
        Ok(LocalUpload {
            file: Some(file),
            partial,
            target,
            written: 0,
            limit,
            failed: false,
            finished: false,
            _slot: slot,
            _writer: writer,
        })
    }

    /// Whether a `GET` of `key` carries a valid, unexpired signature from
    /// [`ObjectStore::presign_get`] (`expires`, `signature` of its query).
    pub fn verify_get(&self, key: &ObjectKey, expires: i64, signature: &str, now: OffsetDateTime) -> bool {
        let Ok(provided) = hex::decode(signature) else { return false };
        let expected = self.get_signature(key, expires);
        provided.len() == expected.len()
            && bool::from(expected.as_slice().ct_eq(&provided))
            && now.unix_timestamp() < expires
    }

    /// Opens a finalized object for serving: `None` for temporary (`tmp/`)
    /// keys, private keys unless the request was `signed` (see
    /// [`Self::verify_get`]), keys without an image extension, and missing
    /// files. Returns the file, its length and its image type (from the key's extension).
    pub async fn open(&self, key: &ObjectKey, signed: bool) -> io::Result<Option<(tokio::fs::File, u64, ImageType)>> {
        if key.is_temporary() || (key.is_private() && !signed) {
            return Ok(None);
        }
        let (Some(image), Some(path)) = (key.image_type(), self.path_of(key)) else {
            return Ok(None);
        };
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let metadata = file.metadata().await?;
        if !metadata.is_file() {
            return Ok(None);
        }
        Ok(Some((file, metadata.len(), image)))
    }

    /// The file of `key`, joined segment by segment under the root; `None`
    /// for keys that cannot be stored here (a segment starting with `.`,
    /// which would reach the partial directory or hide the file).
    fn path_of(&self, key: &ObjectKey) -> Option<PathBuf> {
        let mut path = self.root.clone();
        for segment in key.as_str().split('/') {
            // `ObjectKey` already forbids empty, `.` and `..` segments and
            // separators; checking the component kind keeps us under the root
            // even if that ever changed.
            let mut components = Path::new(segment).components();
            match (components.next(), components.next()) {
                (Some(Component::Normal(name)), None) if !segment.starts_with('.') => path.push(name),
                _ => return None,
            }
        }
        Some(path)
    }

    /// A fresh, uniquely named partial file, created exclusively.
    async fn create_partial(&self) -> io::Result<(tokio::fs::File, PathBuf)> {
        let dir = self.root.join(PARTIAL_DIR);
        create_private_dir(&dir).await?;
        let partial = dir.join(format!("{}.part", uuid::Uuid::now_v7()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE);
        let file = tokio::fs::OpenOptions::from(options).open(&partial).await?;
        Ok((file, partial))
    }

    /// The raw signature of a `PUT` of `key` with `content_type` until `expires`.
    fn signature(&self, key: &ObjectKey, content_type: &str, expires: i64) -> Vec<u8> {
        let mut mac = self.signing_key.clone();
        mac.update(format!("PUT\n{key}\n{content_type}\n{expires}").as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The raw signature of a `GET` of `key` until `expires`.
    fn get_signature(&self, key: &ObjectKey, expires: i64) -> Vec<u8> {
        let mut mac = self.signing_key.clone();
        mac.update(format!("GET\n{key}\n{expires}").as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The upload URL of `key` for `image`, valid until `expires` (unix seconds).
    fn upload_url(&self, key: &ObjectKey, image: ImageType, expires: i64) -> String {
        let signature = hex::encode(self.signature(key, image.mime(), expires));
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("expires", &expires.to_string())
            .append_pair("contentType", image.mime())
            .append_pair("signature", &signature)
            .finish();
        format!("{}/uploads/{key}?{query}", self.app_public_url)
    }
}

#[async_trait]
impl ObjectStore for LocalObjectStore {
    async fn presign_put(
        &self,
        key: &ObjectKey,
        content_type: ImageType,
        expires_in: Duration,
    ) -> Result<PresignedPut, StoreError> {
        if self.path_of(key).is_none() {
            return Err(StoreError::Upstream(anyhow::Error::new(UnstorableKey).context(format!("presigning {key}"))));
        }
        let expires = self.clock.now().unix_timestamp().saturating_add(expires_in.whole_seconds());
        Ok(PresignedPut {
            url: self.upload_url(key, content_type, expires),
            headers: vec![("Content-Type".to_owned(), content_type.mime().to_owned())],
        })
    }

    async fn head(&self, key: &ObjectKey) -> Result<Option<ObjectInfo>, StoreError> {
        let Some(path) = self.path_of(key) else {
            return Ok(None);
        };
        match tokio::fs::metadata(&path).await {
            Ok(metadata) if metadata.is_file() => Ok(Some(ObjectInfo {
                size: metadata.len(),
                content_type: key.image_type().map(|image| image.mime().to_owned()),
            })),
            Ok(_) => Ok(None),
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(unavailable(e, format!("reading the metadata of {}", path.display()))),
        }
    }

    async fn read_range(&self, key: &ObjectKey, range: Range<u64>) -> Result<Vec<u8>, StoreError> {
        let path = self.path_of(key).ok_or_else(|| not_found(key))?;
        let context = || format!("reading bytes {}..{} of {}", range.start, range.end, path.display());
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if is_missing(&e) => return Err(not_found(key)),
            Err(e) => return Err(unavailable(e, context())),
        };
        let len = file.metadata().await.map_err(|e| unavailable(e, context()))?.len();
        let wanted = range.end.min(len).saturating_sub(range.start);
        if wanted == 0 {
            return Ok(Vec::new());
        }
        file.seek(io::SeekFrom::Start(range.start)).await.map_err(|e| unavailable(e, context()))?;
        // Bounded by the file's length; capped so a huge range cannot reserve memory up front.
        let mut bytes = Vec::with_capacity(usize::try_from(wanted.min(MAX_PREALLOCATION)).unwrap_or(0));
        file.take(wanted).read_to_end(&mut bytes).await.map_err(|e| unavailable(e, context()))?;
        Ok(bytes)
    }

    /// Copies through a partial file renamed into place. The content type is
    /// not stored: this store derives it from the key's extension.
    async fn copy(&self, from: &ObjectKey, to: &ObjectKey, _content_type: ImageType) -> Result<(), StoreError> {
        let source = self.path_of(from).ok_or_else(|| not_found(from))?;
        let target = self.path_of(to).ok_or_else(|| {
            StoreError::Upstream(anyhow::Error::new(UnstorableKey).context(format!("copying {from} to {to}")))
        })?;
        let context = || format!("copying {} to {}", source.display(), target.display());
        let (file, partial) = self.create_partial().await.map_err(|e| unavailable(e, context()))?;
        drop(file);
        // Removes the partial file on every early return.
        let guard = PartialGuard(Some(partial.clone()));
        match tokio::fs::copy(&source, &partial).await {
            Ok(_) => {}
            Err(e) if is_missing(&e) => return Err(not_found(from)),
            Err(e) => return Err(unavailable(e, context())),
        }
        move_into_place(&partial, &target).await.map_err(|e| unavailable(e, context()))?;
        guard.disarm();
        Ok(())
    }

    /// Removes the file. Now-empty parent directories are kept: pruning them
    /// would race a concurrent writer that just created them, and there is
    /// at most one per owner and prefix.
    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        let Some(path) = self.path_of(key) else {
            return Ok(());
        };
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if is_missing(&e) => Ok(()),
            Err(e) => Err(unavailable(e, format!("deleting {}", path.display()))),
        }
    }

    fn public_url(&self, key: &ObjectKey) -> String {
        format!("{}/files/{key}", self.app_public_url)
    }

    async fn presign_get(&self, key: &ObjectKey, expires_in: Duration) -> Result<String, StoreError> {
        let expires = self.clock.now().unix_timestamp().saturating_add(expires_in.whole_seconds());
        let signature = hex::encode(self.get_signature(key, expires));
        Ok(format!("{}/files/{key}?expires={expires}&signature={signature}", self.app_public_url))
    }
}

/// One upload being written by [`LocalObjectStore::begin_write`].
#[derive(Debug)]
pub struct LocalUpload {
    /// Open until `finish`.
    file: Option<tokio::fs::File>,
    /// This writer's own partial file.
    partial: PathBuf,
    /// Where `finish` moves it.
    target: PathBuf,
    /// Bytes appended so far.
    written: u64,
    /// Largest accepted size.
    limit: u64,
    /// An append failed; the partial file is incomplete.
    failed: bool,
    /// Moved into place; nothing to clean up.
    finished: bool,
    /// Held until the upload is finished or dropped.
    _slot: OwnedSemaphorePermit,
    /// Held until the upload is finished or dropped.
    _writer: KeyWriter,
}

/// The claim of one key's single writer, released on drop.
#[derive(Debug)]
struct KeyWriter {
    keys: Arc<Mutex<HashSet<String>>>,
    key: String,
}

impl KeyWriter {
    /// Claims `key`, or `None` when another writer holds it.
    fn claim(keys: &Arc<Mutex<HashSet<String>>>, key: &str) -> Option<Self> {
        let mut held = keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        held.insert(key.to_owned()).then(|| Self { keys: Arc::clone(keys), key: key.to_owned() })
    }
}

impl Drop for KeyWriter {
    fn drop(&mut self) {
        self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.key);
    }
}

impl LocalUpload {
    /// Appends a chunk. Fails with [`LocalWriteError::TooLarge`], writing
    /// nothing, as soon as the total would pass the limit: stop reading then.
    /// After any error the upload can only be dropped.
    pub async fn append(&mut self, chunk: &[u8]) -> Result<(), LocalWriteError> {
        if self.failed {
            return Err(io::Error::other("an earlier append failed").into());
        }
        let total = u64::try_from(chunk.len()).ok().and_then(|len| self.written.checked_add(len));
        let Some(total) = total.filter(|total| *total <= self.limit) else {
            self.failed = true;
            self.discard();
            return Err(LocalWriteError::TooLarge { limit: self.limit });
        };
        let Some(file) = self.file.as_mut() else {
            return Err(io::Error::other("the upload is already closed").into());
        };
        if let Err(e) = file.write_all(chunk).await {
            self.failed = true;
            return Err(e.into());
        }
        self.written = total;
        Ok(())
    }

    /// Flushes the file to disk and moves it into place atomically (replacing
    /// any previous object); returns its size.
    pub async fn finish(mut self) -> Result<u64, LocalWriteError> {
        if self.failed {
            return Err(io::Error::other("an earlier append failed").into());
        }
        let Some(mut file) = self.file.take() else {
            return Err(io::Error::other("the upload is already closed").into());
        };
        // tokio writes in the background: flush waits for the last write,
        // sync_all makes the bytes durable before the rename publishes them.
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        move_into_place(&self.partial, &self.target).await?;
        self.finished = true;
        Ok(self.written)
    }

    /// Closes and removes the partial file (best effort).
    fn discard(&mut self) {
        drop(self.file.take());
        let _ = std::fs::remove_file(&self.partial);
    }
}

impl Drop for LocalUpload {
    fn drop(&mut self) {
        if !self.finished {
            // A quick unlink; blocking briefly in drop beats leaking the file.
            self.discard();
        }
    }
}

/// A key with a segment this store cannot hold (one starting with `.`).
#[derive(Debug, thiserror::Error)]
#[error("the key cannot be stored on local disk")]
struct UnstorableKey;

/// Removes a partial file when dropped, unless disarmed.
struct PartialGuard(Option<PathBuf>);

impl PartialGuard {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for PartialGuard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Renames `partial` to `target`, creating the target's parent directories.
async fn move_into_place(partial: &Path, target: &Path) -> io::Result<()> {
    if let Some(parent) = target.parent() {
        create_private_dir(parent).await?;
    }
    tokio::fs::rename(partial, target).await
}

/// The mode of the store's directories and files: this user's only, since
/// the objects include photos waiting for review.
const PRIVATE_DIR: u32 = 0o700;
/// See [`PRIVATE_DIR`].
const PRIVATE_FILE: u32 = 0o600;

/// Creates a directory and its missing parents with [`PRIVATE_DIR`].
async fn create_private_dir(path: &Path) -> io::Result<()> {
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(PRIVATE_DIR);
    builder.create(path).await
}

/// The media type without parameters.
fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
}

/// Whether an I/O error means the object is not there (a key under another
/// object's file yields `NotADirectory`).
fn is_missing(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}

fn unavailable(e: io::Error, context: String) -> StoreError {
    StoreError::Unavailable(anyhow::Error::new(e).context(context))
}

fn not_found(key: &ObjectKey) -> StoreError {
    StoreError::Missing(key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4, 5, 6, 7, 8];
    const NOW: OffsetDateTime = datetime!(2025-01-01 12:00 UTC);

    fn store() -> (tempfile::TempDir, LocalObjectStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalObjectStore::new(dir.path().join("objects"), "https://usher.test/", KEY.to_vec()).unwrap();
        (dir, store)
    }

    fn key(raw: &str) -> ObjectKey {
        ObjectKey::parse(raw).unwrap()
    }

    fn tmp_key() -> ObjectKey {
        key("tmp/avatars/42/0196f0e0-0000-7000-8000-000000000000.png")
    }

    /// The signed query of an upload URL, as the app's route would parse it.
    fn query_of(url: &str) -> UploadQuery {
        let url = url::Url::parse(url).unwrap();
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        UploadQuery {
            expires: pairs["expires"].parse().unwrap(),
            content_type: pairs["contentType"].clone(),
            signature: pairs["signature"].clone(),
        }
    }

    fn signed_query(store: &LocalObjectStore, key: &ObjectKey, image: ImageType) -> UploadQuery {
        query_of(&store.upload_url(key, image, (NOW + Duration::minutes(10)).unix_timestamp()))
    }

    fn partial_files(store: &LocalObjectStore) -> usize {
        std::fs::read_dir(store.root.join(PARTIAL_DIR)).unwrap().count()
    }

    async fn put(store: &LocalObjectStore, key: &ObjectKey, bytes: &[u8]) -> u64 {
        let mut upload = store.begin_write(key, 1024).await.unwrap();
        upload.append(bytes).await.unwrap();
        upload.finish().await.unwrap()
    }

    #[test]
    fn a_short_signing_key_or_odd_url_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(LocalObjectStore::new(dir.path().into(), "https://usher.test", vec![7; 31]).is_err());
        assert!(LocalObjectStore::new(dir.path().into(), "ftp://usher.test", KEY.to_vec()).is_err());
        assert!(LocalObjectStore::new(dir.path().into(), "not a url", KEY.to_vec()).is_err());
    }

    #[test]
    fn debug_does_not_print_the_signing_key() {
        let (_dir, store) = store();
        let printed = format!("{store:?}");
        assert!(printed.contains("<redacted>"));
        assert!(!printed.contains("0123456789abcdef"));
    }

    #[tokio::test]
    async fn a_presigned_url_verifies_with_its_own_content_type() {
        let (_dir, store) = store();
        let key = tmp_key();
        let presigned = store.presign_put(&key, ImageType::Png, Duration::minutes(10)).await.unwrap();
        assert!(presigned.url.starts_with(&format!("https://usher.test/uploads/{key}?expires=")));
        assert!(presigned.url.contains("contentType=image%2Fpng"));
        assert_eq!(presigned.headers, vec![("Content-Type".to_owned(), "image/png".to_owned())]);

        let query = query_of(&presigned.url);
        let now = OffsetDateTime::now_utc();
        assert_eq!(store.verify_put(&key, &query, Some("image/png"), now).unwrap(), ImageType::Png);
        assert_eq!(store.verify_put(&key, &query, Some("IMAGE/PNG; charset=binary"), now).unwrap(), ImageType::Png);
    }

    #[test]
    fn a_tampered_signature_is_refused() {
        let (_dir, store) = store();
        let key = tmp_key();
        let mut query = signed_query(&store, &key, ImageType::Png);
        let mut flipped = hex::decode(&query.signature).unwrap();
        flipped[0] ^= 1;
        query.signature = hex::encode(flipped);
        assert!(matches!(store.verify_put(&key, &query, Some("image/png"), NOW), Err(LocalPutError::BadSignature)));
        for garbage in ["", "zz", "00", &"0".repeat(64)] {
            query.signature = garbage.to_owned();
            assert!(matches!(store.verify_put(&key, &query, Some("image/png"), NOW), Err(LocalPutError::BadSignature)));
        }
    }

    #[test]
    fn a_signature_for_another_key_is_refused() {
        let (_dir, store) = store();
        let query = signed_query(&store, &tmp_key(), ImageType::Png);
        let other = key("tmp/avatars/43/0196f0e0-0000-7000-8000-000000000000.png");
        assert!(matches!(store.verify_put(&other, &query, Some("image/png"), NOW), Err(LocalPutError::BadSignature)));
    }

    #[test]
    fn a_signature_for_another_content_type_is_refused() {
        let (_dir, store) = store();
        let key = tmp_key();
        let mut query = signed_query(&store, &key, ImageType::Png);
        query.content_type = "image/jpeg".to_owned();
        assert!(matches!(store.verify_put(&key, &query, Some("image/jpeg"), NOW), Err(LocalPutError::BadSignature)));
    }

    #[test]
    fn a_moved_expiry_is_refused() {
        let (_dir, store) = store();
        let key = tmp_key();
        let mut query = signed_query(&store, &key, ImageType::Png);
        query.expires += 3600;
        assert!(matches!(store.verify_put(&key, &query, Some("image/png"), NOW), Err(LocalPutError::BadSignature)));
    }

    #[test]
    fn an_expired_url_is_refused() {
        let (_dir, store) = store();
        let key = tmp_key();
        let query = signed_query(&store, &key, ImageType::Png);
        let just_before = NOW + Duration::minutes(10) - Duration::SECOND;
        assert!(store.verify_put(&key, &query, Some("image/png"), just_before).is_ok());
        for late in [NOW + Duration::minutes(10), NOW + Duration::days(1)] {
            assert!(matches!(store.verify_put(&key, &query, Some("image/png"), late), Err(LocalPutError::Expired)));
        }
    }

    #[test]
    fn a_content_type_header_other_than_the_signed_one_is_refused() {
        let (_dir, store) = store();
        let key = tmp_key();
        let query = signed_query(&store, &key, ImageType::Png);
        for header in [Some("image/jpeg"), Some("image/png2"), Some("text/html"), Some(""), None] {
            assert!(
                matches!(store.verify_put(&key, &query, header, NOW), Err(LocalPutError::WrongContentType)),
                "{header:?}"
            );
        }
    }

    #[test]
    fn another_signing_key_does_not_verify() {
        let (_dir, store) = store();
        let dir = tempfile::tempdir().unwrap();
        let other = LocalObjectStore::new(dir.path().into(), "https://usher.test", vec![9; 32]).unwrap();
        let key = tmp_key();
        let query = signed_query(&other, &key, ImageType::Png);
        assert!(matches!(store.verify_put(&key, &query, Some("image/png"), NOW), Err(LocalPutError::BadSignature)));
    }

    #[tokio::test]
    async fn a_finished_upload_can_be_headed_read_copied_and_deleted() {
        let (_dir, store) = store();
        let tmp = tmp_key();
        let mut upload = store.begin_write(&tmp, PNG.len() as u64).await.unwrap();
        upload.append(&PNG[..5]).await.unwrap();
        assert_eq!(store.head(&tmp).await.unwrap(), None, "nothing is visible before finish");
        upload.append(&PNG[5..]).await.unwrap();
        assert_eq!(upload.finish().await.unwrap(), PNG.len() as u64);
        assert_eq!(partial_files(&store), 0);

        let info = store.head(&tmp).await.unwrap().unwrap();
        assert_eq!(info, ObjectInfo { size: PNG.len() as u64, content_type: Some("image/png".to_owned()) });
        assert_eq!(store.read_range(&tmp, 0..8).await.unwrap(), &PNG[..8]);
        assert_eq!(store.read_range(&tmp, 8..1000).await.unwrap(), &PNG[8..]);
        assert_eq!(store.read_range(&tmp, 100..200).await.unwrap(), Vec::<u8>::new());
        assert_eq!(store.read_range(&tmp, Range { start: 4, end: 2 }).await.unwrap(), Vec::<u8>::new());

        let fin = key("avatars/42/0196f0e0-0000-7000-8000-000000000001.png");
        store.copy(&tmp, &fin, ImageType::Png).await.unwrap();
        assert_eq!(partial_files(&store), 0);
        store.delete(&tmp).await.unwrap();
        assert_eq!(store.head(&tmp).await.unwrap(), None);
        assert_eq!(store.read_range(&fin, 0..1000).await.unwrap(), PNG);

        store.delete(&fin).await.unwrap();
        store.delete(&fin).await.unwrap();
        assert_eq!(store.head(&fin).await.unwrap(), None);
        assert!(store.read_range(&fin, 0..8).await.is_err());
    }

    #[tokio::test]
    async fn copying_a_missing_object_fails_and_leaves_nothing() {
        let (_dir, store) = store();
        let fin = key("avatars/42/x.png");
        assert!(matches!(store.copy(&tmp_key(), &fin, ImageType::Png).await, Err(StoreError::Missing(_))));
        assert_eq!(store.head(&fin).await.unwrap(), None);
        assert_eq!(partial_files(&store), 0);
    }

    #[tokio::test]
    async fn private_objects_are_served_only_with_an_unexpired_signature() {
        let (_dir, store) = store();
        let private = key("pending/avatars/42/x.png");
        put(&store, &tmp_key(), PNG).await;
        store.copy(&tmp_key(), &private, ImageType::Png).await.unwrap();
        assert!(store.open(&private, false).await.unwrap().is_none(), "not at its public URL");
        let url = store.presign_get(&private, Duration::minutes(5)).await.unwrap();
        let query: std::collections::HashMap<String, String> =
            url::Url::parse(&url).unwrap().query_pairs().into_owned().collect();
        let expires: i64 = query["expires"].parse().unwrap();
        let now = OffsetDateTime::now_utc();
        assert!(store.verify_get(&private, expires, &query["signature"], now));
        assert!(!store.verify_get(&private, expires, &query["signature"], now + Duration::minutes(6)), "expired");
        assert!(!store.verify_get(&key("pending/avatars/43/x.png"), expires, &query["signature"], now), "another key");
        assert!(!store.verify_get(&private, expires + 60, &query["signature"], now), "a moved expiry");
        assert!(store.open(&private, true).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn writing_past_the_limit_stops_and_leaves_no_file() {
        let (_dir, store) = store();
        let tmp = tmp_key();
        let mut upload = store.begin_write(&tmp, 10).await.unwrap();
        upload.append(&[0; 6]).await.unwrap();
        assert!(matches!(upload.append(&[0; 5]).await, Err(LocalWriteError::TooLarge { limit: 10 })));
        assert_eq!(partial_files(&store), 0, "the partial file is removed at once");
        assert!(upload.append(&[0; 1]).await.is_err());
        assert!(upload.finish().await.is_err());
        assert_eq!(store.head(&tmp).await.unwrap(), None);
        assert_eq!(partial_files(&store), 0);
    }

    #[tokio::test]
    async fn exactly_the_limit_is_accepted() {
        let (_dir, store) = store();
        let tmp = tmp_key();
        let mut upload = store.begin_write(&tmp, 10).await.unwrap();
        upload.append(&[0; 4]).await.unwrap();
        upload.append(&[0; 6]).await.unwrap();
        assert_eq!(upload.finish().await.unwrap(), 10);
    }

    #[tokio::test]
    async fn dropping_an_unfinished_upload_leaves_no_partial_file() {
        let (_dir, store) = store();
        let tmp = tmp_key();
        let mut upload = store.begin_write(&tmp, 1024).await.unwrap();
        upload.append(PNG).await.unwrap();
        assert_eq!(partial_files(&store), 1);
        drop(upload);
        assert_eq!(partial_files(&store), 0);
        assert_eq!(store.head(&tmp).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_key_takes_one_writer_at_a_time_and_the_store_a_bounded_number() {
        let (_dir, store) = store();
        let store = store.with_upload_limit(2);
        let tmp = tmp_key();
        let mut first = store.begin_write(&tmp, 1024).await.unwrap();
        assert!(matches!(store.begin_write(&tmp, 1024).await, Err(LocalPutError::InProgress)));
        let other = key("tmp/avatars/42/0196f0e0-0000-7000-8000-00000000000b.png");
        let third = key("tmp/avatars/42/0196f0e0-0000-7000-8000-00000000000c.png");
        let busy = store.begin_write(&other, 1024).await.unwrap();
        assert!(matches!(store.begin_write(&third, 1024).await, Err(LocalPutError::Saturated)));
        drop(busy);
        first.append(b"first-writer").await.unwrap();
        first.finish().await.unwrap();
        assert_eq!(store.read_range(&tmp, 0..100).await.unwrap(), b"first-writer");
        // Finished or dropped, a writer frees its key and its slot.
        let mut again = store.begin_write(&tmp, 1024).await.unwrap();
        again.append(b"again").await.unwrap();
        again.finish().await.unwrap();
        assert!(store.begin_write(&third, 1024).await.is_ok());
    }

    #[tokio::test]
    async fn open_serves_finalized_objects_only() {
        let (_dir, store) = store();
        let tmp = tmp_key();
        put(&store, &tmp, PNG).await;
        assert!(store.open(&tmp, false).await.unwrap().is_none(), "temporary objects are never served");

        let fin = key("avatars/42/0196f0e0-0000-7000-8000-000000000001.png");
        assert!(store.open(&fin, false).await.unwrap().is_none(), "missing");
        store.copy(&tmp, &fin, ImageType::Png).await.unwrap();
        let (mut file, len, image) = store.open(&fin, false).await.unwrap().unwrap();
        assert_eq!((len, image), (PNG.len() as u64, ImageType::Png));
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).await.unwrap();
        assert_eq!(bytes, PNG);

        assert!(store.open(&key("avatars/42"), false).await.unwrap().is_none(), "directories are not objects");
        assert!(
            store
                .open(&key("avatars/42/0196f0e0-0000-7000-8000-000000000001.png/x.png"), false)
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn keys_cannot_reach_the_partial_directory() {
        let (_dir, store) = store();
        let mut upload = store.begin_write(&tmp_key(), 1024).await.unwrap();
        upload.append(PNG).await.unwrap();
        let partial_name = upload.partial.file_name().unwrap().to_str().unwrap().to_owned();
        let hidden = key(&format!(".partial/{partial_name}"));
        assert!(store.head(&hidden).await.unwrap().is_none());
        assert!(store.open(&hidden, false).await.unwrap().is_none());
        assert!(store.read_range(&hidden, 0..8).await.is_err());
        assert!(store.presign_put(&hidden, ImageType::Png, Duration::minutes(1)).await.is_err());
        assert!(matches!(store.begin_write(&hidden, 10).await, Err(LocalPutError::Io(_))));
        store.delete(&hidden).await.unwrap();
        assert!(upload.finish().await.is_ok(), "the partial file survived");
    }

    #[test]
    fn public_urls_point_at_the_files_route() {
        let (_dir, store) = store();
        let fin = key("avatars/42/0196f0e0-0000-7000-8000-000000000001.webp");
        assert_eq!(store.public_url(&fin), format!("https://usher.test/files/{fin}"));
        let dir = tempfile::tempdir().unwrap();
        let prefixed = LocalObjectStore::new(dir.path().into(), "http://localhost:8080/api", KEY.to_vec()).unwrap();
        assert_eq!(prefixed.public_url(&fin), format!("http://localhost:8080/api/files/{fin}"));
    }
}
