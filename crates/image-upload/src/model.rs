//! Records and rules of the image upload.

use shared_kernel::UserId;
use std::fmt;
use time::{Duration, OffsetDateTime};

shared_kernel::uuid_id!(
    /// An upload ticket's id.
    TicketId
);

/// An accepted image format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageType {
    /// `image/jpeg`
    Jpeg,
    /// `image/png`
    Png,
    /// `image/webp`
    Webp,
}

impl ImageType {
    /// Every accepted format.
    pub const ALL: [Self; 3] = [Self::Jpeg, Self::Png, Self::Webp];

    /// The media type.
    pub const fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }

    /// The file extension used in object keys.
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
        }
    }

    /// The format for a media type (parameters and case ignored).
    pub fn from_mime(content_type: &str) -> Option<Self> {
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|t| t.mime() == essence)
    }

    /// The format for a key's extension.
    pub fn from_extension(ext: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.extension() == ext)
    }

    /// The format the first bytes announce: JPEG `FF D8 FF`, PNG
    /// `89 50 4E 47 0D 0A 1A 0A`, WebP `RIFF....WEBP`.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(Self::Png)
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }
}

/// Pixel dimensions read from the image header alone (never a full decode).
pub fn header_dimensions(bytes: &[u8]) -> Option<(u64, u64)> {
    imagesize::blob_size(bytes).ok().map(|size| (size.width as u64, size.height as u64))
}

/// An object key the server generated: `[a-z0-9]` segments with `.`, `_`,
/// `-`, separated by `/`; no empty, `.` or `..` segment; at most 512 bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(String);

/// Why a string is not an object key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid object key")]
pub struct KeyError;

impl ObjectKey {
    /// Checks a key.
    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
        };
        if raw.is_empty() || raw.len() > 512 || !raw.split('/').all(segment_ok) {
            return Err(KeyError);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a temporary (not yet finalized) object.
    pub fn is_temporary(&self) -> bool {
        self.0.starts_with("tmp/")
    }

    /// Whether this object is private: served only through short-lived
    /// signed URLs (an unreviewed photo), never at a public URL.
    pub fn is_private(&self) -> bool {
        self.0.starts_with(PRIVATE_PREFIX)
    }

    /// The public key a private object is published under when it is
    /// approved (`pending/avatars/…` → `avatars/…`); `None` for a public key.
    pub fn published(&self) -> Option<Self> {
        self.0.strip_prefix(PRIVATE_PREFIX).map(|rest| Self(rest.to_owned()))
    }

    /// The image type named by the key's extension.
    pub fn image_type(&self) -> Option<ImageType> {
        self.0.rsplit_once('.').and_then(|(_, ext)| ImageType::from_extension(ext))
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The prefix of private objects.
pub const PRIVATE_PREFIX: &str = "pending/";

/// Who may see a finalized upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// At its public URL, by anyone.
    Public,
    /// Through short-lived signed URLs only, until it is published.
    Private,
}

/// One kind of image upload: the avatar, or an organization logo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageUpload {
    /// Stored with each ticket (`avatar`, `logo`).
    pub purpose: &'static str,
    /// Key prefix of finalized objects (`avatars`, `logos`); temporary objects
    /// live under `tmp/<prefix>`.
    pub key_prefix: &'static str,
    /// Largest accepted object.
    pub max_bytes: u64,
    /// Largest accepted width and height.
    pub max_dimension: u64,
    /// Tickets per owner per window.
    pub tries_per_window: u32,
    /// The rolling window.
    pub window: Duration,
    /// How long a ticket (and its presigned URL) stays valid.
    pub ticket_ttl: Duration,
}

impl ImageUpload {
    /// The avatar policy of seed 003 with the given rate limit.
    pub fn avatar(tries_per_window: u32, window: Duration) -> Self {
        Self {
            purpose: "avatar",
            key_prefix: "avatars",
            max_bytes: 5 * 1024 * 1024,
            max_dimension: 4096,
            tries_per_window,
            window,
            ticket_ttl: Duration::seconds(600),
        }
    }

    /// `tmp/<prefix>/<owner>/<uuidv7>.<ext>`
    pub fn temporary_key(&self, owner: &str, image: ImageType) -> ObjectKey {
        ObjectKey(format!("tmp/{}/{owner}/{}.{}", self.key_prefix, uuid::Uuid::now_v7(), image.extension()))
    }

    /// `<prefix>/<owner>/<uuidv7>.<ext>`: immutable, so its URL can be
    /// cached forever; private objects live under `pending/` in front of it.
    pub fn final_key(&self, owner: &str, image: ImageType, visibility: Visibility) -> ObjectKey {
        let key = format!("{}/{owner}/{}.{}", self.key_prefix, uuid::Uuid::now_v7(), image.extension());
        match visibility {
            Visibility::Public => ObjectKey(key),
            Visibility::Private => ObjectKey(format!("{PRIVATE_PREFIX}{key}")),
        }
    }

    /// Whether `key` has the shape of this policy's temporary keys for `owner`.
    pub fn owns_temporary_key(&self, owner: &str, key: &ObjectKey) -> bool {
        key.as_str()
            .strip_prefix(&format!("tmp/{}/{owner}/", self.key_prefix))
            .is_some_and(|rest| !rest.contains('/') && key.image_type().is_some())
    }
}

shared_kernel::stored_enum! {
    /// Where a ticket stands.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum TicketState {
        /// Issued; the upload may be finalized until it expires.
        Issued = "issued",
        /// Finalized successfully.
        Used = "used",
        /// Finalize refused the object (it does not count as a try).
        Rejected = "rejected",
    }
}

/// A ticket: permission to upload one image of one type under one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadTicket {
    /// The ticket id.
    pub id: TicketId,
    /// `avatar`, `logo`, …
    pub purpose: String,
    /// What the image is for: a user id or an organization id, as text.
    pub owner: String,
    /// Who asked for the ticket; only they may finalize it.
    pub requested_by: UserId,
    /// The temporary key the client uploads to.
    pub tmp_key: ObjectKey,
    /// The declared (and signed) content type.
    pub image_type: ImageType,
    /// Current state.
    pub state: TicketState,
    /// When it was issued.
    pub created_at: OffsetDateTime,
    /// When it stops being usable.
    pub expires_at: OffsetDateTime,
}

/// An uploaded image that passed every check and was copied to its final key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedUpload {
    /// The ticket it was uploaded under (still `issued` until the caller commits).
    pub ticket: UploadTicket,
    /// The immutable final key.
    pub key: ObjectKey,
    /// The public URL of the final key.
    pub url: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 (lower-case hex) of the bytes that passed the checks.
    pub sha256: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89,
    ];

    #[test]
    fn formats_are_recognised_by_their_magic_bytes() {
        assert_eq!(ImageType::sniff(PNG_1X1), Some(ImageType::Png));
        assert_eq!(ImageType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some(ImageType::Jpeg));
        assert_eq!(ImageType::sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(ImageType::Webp));
        assert_eq!(ImageType::sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(ImageType::sniff(b"<html>"), None);
        assert_eq!(ImageType::sniff(b""), None);
    }

    #[test]
    fn dimensions_come_from_the_header() {
        assert_eq!(header_dimensions(PNG_1X1), Some((1, 1)));
        assert_eq!(header_dimensions(b"not an image"), None);
    }

    #[test]
    fn media_types_parse_case_insensitively_and_ignore_parameters() {
        assert_eq!(ImageType::from_mime("IMAGE/PNG; charset=binary"), Some(ImageType::Png));
        assert_eq!(ImageType::from_mime("image/gif"), None);
        assert_eq!(ImageType::from_mime("image/svg+xml"), None);
    }

    #[test]
    fn keys_refuse_traversal_and_odd_characters() {
        for bad in
            ["", "/a", "a/", "a//b", "../a", "a/../b", "a/./b", "A/b", "a b", "a\\b", "a%2f", "tmp/avatars/1/x.png?x"]
        {
            assert!(ObjectKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(ObjectKey::parse("tmp/avatars/42/0196f0e0-0000-7000-8000-000000000000.png").is_ok());
    }

    #[test]
    fn a_policy_recognises_only_its_own_temporary_keys() {
        let p = ImageUpload::avatar(5, Duration::days(1));
        let key = p.temporary_key("42", ImageType::Webp);
        assert!(key.as_str().starts_with("tmp/avatars/42/") && key.as_str().ends_with(".webp"));
        assert!(p.owns_temporary_key("42", &key));
        assert!(!p.owns_temporary_key("43", &key));
        assert!(!p.owns_temporary_key("42", &ObjectKey::parse("tmp/avatars/42/x/y.png").unwrap()));
        assert!(!p.owns_temporary_key("42", &p.final_key("42", ImageType::Png, Visibility::Public)));
        assert!(p.final_key("42", ImageType::Png, Visibility::Public).as_str().starts_with("avatars/42/"));
        let private = p.final_key("42", ImageType::Png, Visibility::Private);
        assert!(private.is_private() && private.as_str().starts_with("pending/avatars/42/"));
        let public = private.published().unwrap();
        assert!(!public.is_private() && public.as_str().starts_with("avatars/42/"));
        assert_eq!(public.published(), None);
    }

    proptest! {
        #[test]
        fn sniffing_and_dimension_reading_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = ImageType::sniff(&bytes);
            let _ = header_dimensions(&bytes);
        }

        #[test]
        fn parsed_keys_never_escape_their_prefix(raw in "[a-z0-9./_-]{1,40}") {
            if let Ok(key) = ObjectKey::parse(&raw) {
                prop_assert!(!key.as_str().split('/').any(|s| s == ".." || s == "." || s.is_empty()));
            }
        }
    }
}
