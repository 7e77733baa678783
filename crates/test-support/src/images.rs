//! Image bytes for upload tests.

/// A PNG header (2×2, as the upload check reads it) followed by `tag`, so
/// that every upload has other bytes.
pub fn png(tag: u32) -> Vec<u8> {
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    out.extend_from_slice(b"IHDR");
    out.extend_from_slice(&2u32.to_be_bytes());
    out.extend_from_slice(&2u32.to_be_bytes());
    out.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&tag.to_be_bytes());
    out
}
