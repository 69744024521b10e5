//! Reading one layer blob as a stream: compression sniffed from magic bytes (gzip, zstd or
//! plain tar, whatever the media type claims), and a guard that stops decompression bombs —
//! a cap on the total bytes decompressed and on the expansion ratio of each layer.

use std::cell::Cell;
use std::io::{BufRead, BufReader, Read};
use std::rc::Rc;

use super::Limits;

/// Which decompressor a layer needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// Counts the compressed bytes consumed.
pub struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Why the guard stopped a layer (read by the caller after the tar reader fails).
pub type Tripped = Rc<Cell<Option<&'static str>>>;

/// Counts decompressed bytes and fails the read when a limit is crossed.
pub struct Guard<R> {
    inner: R,
    compressed: Rc<Cell<u64>>,
    layer_out: u64,
    total_out: Rc<Cell<u64>>,
    limits: Limits,
    tripped: Tripped,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.layer_out += n as u64;
        self.total_out.set(self.total_out.get() + n as u64);
        let why = if self.total_out.get() > self.limits.max_uncompressed_bytes {
            Some("the image decompresses to more than the limit on total uncompressed bytes")
        } else if self.layer_out > self.limits.ratio_floor
            && self.layer_out / self.compressed.get().max(1) > self.limits.max_ratio
        {
            Some("the layer expands more than the limit on the compression ratio (a decompression bomb)")
        } else {
            None
        };
        if let Some(why) = why {
            self.tripped.set(Some(why));
            return Err(std::io::Error::other(why));
        }
        Ok(n)
    }
}

/// Decodes concatenated zstd frames (ruzstd's decoder reads one frame).
struct ZstdFrames<R: BufRead> {
    decoder: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let Some(decoder) = self.decoder.as_mut() else { return Ok(0) };
            let n = decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // Frame done: another one may follow.
            let Some(done) = self.decoder.take() else { return Ok(0) };
            let mut source = done.into_inner();
            if source.fill_buf()?.is_empty() {
                return Ok(0);
            }
            self.decoder = Some(ruzstd::decoding::StreamingDecoder::new(source).map_err(std::io::Error::other)?);
        }
    }
}

/// Opens a layer blob for reading as tar. `total_out` is shared by all layers of an image.
pub fn open<'a, R: Read + 'a>(
    blob: R,
    limits: &Limits,
    total_out: Rc<Cell<u64>>,
    tripped: Tripped,
) -> std::io::Result<(Box<dyn Read + 'a>, Compression)> {
    let compressed = Rc::new(Cell::new(0));
    let mut buffered = BufReader::with_capacity(64 * 1024, Counting { inner: blob, count: compressed.clone() });
    let head = buffered.fill_buf()?;
    let (inner, kind): (Box<dyn Read + 'a>, Compression) = if head.starts_with(&[0x1f, 0x8b]) {
        (Box::new(flate2::bufread::MultiGzDecoder::new(buffered)), Compression::Gzip)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let decoder = ruzstd::decoding::StreamingDecoder::new(buffered).map_err(std::io::Error::other)?;
        (Box::new(ZstdFrames { decoder: Some(decoder) }), Compression::Zstd)
    } else if head.starts_with(b"BZh") || head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z']) {
        return Err(std::io::Error::other("bzip2/xz layers are not supported (Docker and OCI use gzip or zstd)"));
    } else {
        (Box::new(buffered), Compression::None)
    };
    let guard = Guard { inner, compressed, layer_out: 0, total_out, limits: *limits, tripped };
    Ok((Box::new(guard), kind))
}
