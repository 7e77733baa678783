//! Reading an image's pixel dimensions from its header with bounded ranged
//! reads, never a full decode.
//!
//! PNG and WebP say their size in the first bytes. A JPEG says it in its
//! start-of-frame segment, which follows every APPn segment (EXIF, ICC
//! profiles, XMP: up to 64 KiB each, several of them in a phone photo), so
//! it can sit well past the first window. The probe walks the segment
//! markers and asks the caller for the next window it needs; the caller
//! reads it from the store. Both the number of reads and the bytes read are
//! bounded, so a crafted file cannot make finalize read forever.

use crate::model::{ImageType, header_dimensions};
use std::ops::Range;

/// Bytes read per window.
pub const WINDOW: u64 = 64 * 1024;

/// The most windows a probe reads (the first one included).
pub const MAX_READS: u32 = 16;

/// What the probe needs next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Read these bytes of the object and [`DimensionProbe::feed`] them.
    Read(Range<u64>),
    /// The dimensions, or `None` when the header does not say them (a
    /// corrupt or truncated file, or one that needs more reads than allowed).
    Done(Option<(u64, u64)>),
}

/// A dimension probe over an object of `size` bytes.
#[derive(Clone, Debug)]
pub struct DimensionProbe {
    image: ImageType,
    size: u64,
    /// The bytes held and the offset of their first byte.
    window: Vec<u8>,
    window_start: u64,
    /// The JPEG marker position being read.
    cursor: u64,
    reads: u32,
}

impl DimensionProbe {
    /// A probe of an `image` of `size` bytes whose first bytes are `head`
    /// (read from offset 0, typically [`WINDOW`] of them).
    pub fn new(image: ImageType, size: u64, head: Vec<u8>) -> Self {
        Self { image, size, window: head, window_start: 0, cursor: 2, reads: 1 }
    }

    /// Hands over the bytes of the range [`Step::Read`] asked for.
    pub fn feed(&mut self, start: u64, bytes: Vec<u8>) {
        self.window_start = start;
        self.window = bytes;
        self.reads += 1;
    }

    /// The next step.
    pub fn next_step(&mut self) -> Step {
        match self.image {
            ImageType::Png | ImageType::Webp => Step::Done(header_dimensions(&self.window)),
            ImageType::Jpeg => self.jpeg(),
        }
    }

    /// `len` bytes at `at`, when the window holds them.
    fn bytes(&self, at: u64, len: u64) -> Option<&[u8]> {
        let start = usize::try_from(at.checked_sub(self.window_start)?).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.window.get(start..end)
    }

    /// Asks for the window starting at `at`, or gives up.
    fn read_at(&self, at: u64) -> Step {
        if self.reads >= MAX_READS || at >= self.size {
            return Step::Done(None);
        }
        Step::Read(at..(at + WINDOW).min(self.size))
    }

    fn jpeg(&mut self) -> Step {
        loop {
            let Some(marker) = self.bytes(self.cursor, 2) else { return self.read_at(self.cursor) };
            if marker[0] != 0xFF {
                return Step::Done(None);
            }
            match marker[1] {
                // Fill bytes before a marker.
                0xFF => {
                    self.cursor += 1;
                    continue;
                }
                // Markers without a length: TEM, RSTn, SOI; EOI ends the image.
                0x01 | 0xD0..=0xD8 => {
                    self.cursor += 2;
                    continue;
                }
                0xD9 | 0xDA => return Step::Done(None),
                _ => {}
            }
            let Some(header) = self.bytes(self.cursor, 4) else { return self.read_at(self.cursor) };
            let length = u64::from(u16::from_be_bytes([header[2], header[3]]));
            if length < 2 {
                return Step::Done(None);
            }
            // Start of frame (baseline, progressive, lossless, arithmetic): not DHT (C4), JPG (C8), DAC (CC).
            if matches!(marker[1], 0xC0..=0xCF) && !matches!(marker[1], 0xC4 | 0xC8 | 0xCC) {
                let Some(frame) = self.bytes(self.cursor, 9) else { return self.read_at(self.cursor) };
                let height = u64::from(u16::from_be_bytes([frame[5], frame[6]]));
                let width = u64::from(u16::from_be_bytes([frame[7], frame[8]]));
                return Step::Done(Some((width, height)));
            }
            self.cursor += 2 + length;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG with `app_segments` APP1 segments of 60 000 bytes before its
    /// start-of-frame, as a phone writes EXIF and ICC data.
    fn jpeg(app_segments: usize, width: u16, height: u16) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8];
        for _ in 0..app_segments {
            bytes.extend_from_slice(&[0xFF, 0xE1]);
            bytes.extend_from_slice(&60_002u16.to_be_bytes());
            bytes.extend(std::iter::repeat_n(0u8, 60_000));
        }
        bytes.extend_from_slice(&[0xFF, 0xFF, 0xC0, 0x00, 0x11, 0x08]);
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
        bytes.extend_from_slice(&[0xFF, 0xD9]);
        bytes
    }

    /// Runs a probe against `bytes` as the store would serve them; the dimensions and the reads made.
    fn probe(image: ImageType, bytes: &[u8]) -> (Option<(u64, u64)>, u32) {
        let size = bytes.len() as u64;
        let head = bytes[..bytes.len().min(WINDOW as usize)].to_vec();
        let mut probe = DimensionProbe::new(image, size, head);
        let mut reads = 1;
        loop {
            match probe.next_step() {
                Step::Done(d) => return (d, reads),
                Step::Read(range) => {
                    reads += 1;
                    let chunk = bytes[range.start as usize..range.end as usize].to_vec();
                    probe.feed(range.start, chunk);
                }
            }
        }
    }

    #[test]
    fn a_start_of_frame_past_the_first_window_is_found_with_a_few_reads() {
        let photo = jpeg(3, 4032, 3024);
        assert!(photo.len() > 170_000);
        let (dimensions, reads) = probe(ImageType::Jpeg, &photo);
        assert_eq!(dimensions, Some((4032, 3024)));
        assert!(reads <= 4, "{reads} reads");
        assert_eq!(probe(ImageType::Jpeg, &jpeg(0, 640, 480)), (Some((640, 480)), 1));
    }

    #[test]
    fn a_corrupt_or_endless_jpeg_gives_up_within_its_bounds() {
        let mut truncated = jpeg(1, 10, 10);
        truncated.truncate(60_003);
        assert_eq!(probe(ImageType::Jpeg, &truncated).0, None);
        assert_eq!(probe(ImageType::Jpeg, &[0xFF, 0xD8, 0x00, 0x00]).0, None);
        let (dimensions, reads) = probe(ImageType::Jpeg, &jpeg(40, 10, 10));
        assert_eq!(dimensions, None, "more segments than the reads allow");
        assert!(reads <= MAX_READS);
    }

    #[test]
    fn png_and_webp_need_no_more_than_the_first_window() {
        let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R'];
        png.extend_from_slice(&300u32.to_be_bytes());
        png.extend_from_slice(&200u32.to_be_bytes());
        png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(probe(ImageType::Png, &png), (Some((300, 200)), 1));
    }
}
