//! Compressed inputs (docs/design.md §3): gzip (multi-member too, as `cat a.gz b.gz` and some log
//! rotators write; bytes after the last member ignored, as gzip does), zstd, bzip2 and xz
//! are recognised by their magic bytes, never by file name, and decompressed as a stream so
//! memory does not follow file size. A truncated or corrupt file surfaces as a read error
//! naming the input; what was read before it is kept.
//!
//! Decoding runs on a thread of its own ([`on_own_thread`]) that hands blocks to the reader
//! through a bounded channel (docs/design.md §7), so decompressing and parsing overlap and a parser
//! thread never waits on a slow decoder more than the channel allows.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

impl Compression {
    /// Recognises a compressed stream from its first bytes.
    pub fn sniff(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else if head.starts_with(b"BZh") && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b))
        {
            Some(Compression::Bzip2)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Some(Compression::Xz)
        } else {
            None
        }
    }

    pub fn decoder<'a>(
        self,
        raw: Box<dyn Read + Send + 'a>,
    ) -> io::Result<Box<dyn Read + Send + 'a>> {
        Ok(match self {
            Compression::Gzip => Box::new(super::gzip::GzipMembers::new(raw)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(raw)?),
            Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(raw)),
            Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(raw)),
        })
    }
}

/// Bytes per block handed over by the decoding thread.
const BLOCK: usize = 1 << 20;
/// Blocks decoded ahead of the reader: memory is bounded by `(IN_FLIGHT + 2) * BLOCK`.
const IN_FLIGHT: usize = 4;

/// What the decoding thread sends.
enum Block {
    Data(Vec<u8>),
    Failed(io::Error),
    /// The stream ended normally. A channel that closes without it means the thread died.
    End,
}

/// Decodes `decoder` on a new thread; the returned reader yields the same bytes and the
/// same error at the same place. Dropping the reader stops the thread at its next block.
pub fn on_own_thread(mut decoder: Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> {
    let (blocks, received) = mpsc::sync_channel(IN_FLIGHT);
    let (recycle, recycled) = mpsc::sync_channel::<Vec<u8>>(IN_FLIGHT + 2);
    std::thread::Builder::new()
        .name("decompress".into())
        .spawn(move || decode_blocks(&mut decoder, &blocks, &recycled))?;
    Ok(Box::new(BlockReader {
        received,
        recycle,
        current: Vec::new(),
        pos: 0,
        finished: false,
    }))
}

/// The thread's loop: fills blocks (reusing those the reader returns, so nothing is zeroed
/// or allocated per block once it runs) until the stream ends, fails or nobody listens.
fn decode_blocks(decoder: &mut dyn Read, blocks: &SyncSender<Block>, recycled: &Receiver<Vec<u8>>) {
    loop {
        let mut block = match recycled.try_recv() {
            Ok(block) => block,
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => vec![0; BLOCK],
        };
        block.resize(BLOCK, 0);
        let mut filled = 0;
        let mut failure = None;
        while filled < BLOCK {
            match decoder.read(&mut block[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let at_end = filled < BLOCK;
        block.truncate(filled);
        if filled > 0 && blocks.send(Block::Data(block)).is_err() {
            return;
        }
        if let Some(e) = failure {
            let _ = blocks.send(Block::Failed(e));
            return;
        }
        if at_end {
            let _ = blocks.send(Block::End);
            return;
        }
    }
}

/// The reading end of [`on_own_thread`].
struct BlockReader {
    received: Receiver<Block>,
    recycle: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    finished: bool,
}

impl Read for BlockReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            if self.finished {
                return Ok(0);
            }
            match self.received.recv() {
                Ok(Block::Data(block)) => {
                    let used = std::mem::replace(&mut self.current, block);
                    // A full recycle channel only means the thread has blocks enough.
                    let _ = self.recycle.try_send(used);
                    self.pos = 0;
                }
                Ok(Block::End) => self.finished = true,
                Ok(Block::Failed(e)) => {
                    self.finished = true;
                    return Err(e);
                }
                Err(mpsc::RecvError) => {
                    self.finished = true;
                    return Err(io::Error::other("the decompression thread stopped"));
                }
            }
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

// The integration tests' compressor, so each format is written one way only.
#[cfg(test)]
#[path = "../../tests/integration/support/compress.rs"]
mod compress;

#[cfg(test)]
mod tests {
    use super::compress::compress;
    use super::*;
    use std::io::Cursor;

    const TEXT: &[u8] = b"Jun  4 10:01:00 mx postfix/smtpd[100]: 4A1B2C3D4E: client=x[192.0.2.1]\n";

    fn decompress(bytes: Vec<u8>) -> io::Result<Vec<u8>> {
        let c = Compression::sniff(&bytes).expect("recognised");
        let mut out = Vec::new();
        c.decoder(Box::new(Cursor::new(bytes)))?
            .read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn every_format_round_trips_and_is_sniffed() {
        for c in [
            Compression::Gzip,
            Compression::Zstd,
            Compression::Bzip2,
            Compression::Xz,
        ] {
            let packed = compress(c, TEXT);
            assert_eq!(Compression::sniff(&packed), Some(c));
            assert_eq!(decompress(packed).unwrap(), TEXT, "{c:?}");
        }
        assert_eq!(Compression::sniff(TEXT), None);
        assert_eq!(
            Compression::sniff(b"From a@b Tue Jun  4 10:00:00 2024"),
            None
        );
        assert_eq!(Compression::sniff(b"BZ"), None);
    }

    #[test]
    fn concatenated_members_are_all_read() {
        for c in [
            Compression::Gzip,
            Compression::Zstd,
            Compression::Bzip2,
            Compression::Xz,
        ] {
            let mut two = compress(c, TEXT);
            two.extend(compress(c, TEXT));
            assert_eq!(decompress(two).unwrap(), [TEXT, TEXT].concat(), "{c:?}");
        }
    }

    /// What the threaded reader yields: the bytes before an error, then the error.
    fn through_thread(bytes: Vec<u8>) -> (Vec<u8>, Option<io::Error>) {
        let c = Compression::sniff(&bytes).expect("recognised");
        let mut reader = on_own_thread(c.decoder(Box::new(Cursor::new(bytes))).unwrap()).unwrap();
        let mut out = Vec::new();
        let mut buf = vec![0u8; 70_001];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn the_decoding_thread_yields_the_same_bytes_and_errors() {
        // Several blocks, so blocks are recycled; and a stream cut in the middle.
        let big: Vec<u8> = TEXT
            .iter()
            .cycle()
            .take(3 * BLOCK + 12_345)
            .copied()
            .collect();
        for c in [Compression::Gzip, Compression::Zstd] {
            let (out, err) = through_thread(compress(c, &big));
            assert!(err.is_none(), "{c:?}: {err:?}");
            assert!(out == big, "{c:?}: {} bytes of {}", out.len(), big.len());
            let mut cut = compress(c, &big);
            cut.truncate(cut.len() / 2);
            let direct = {
                let mut out = Vec::new();
                let mut d = c.decoder(Box::new(Cursor::new(cut.clone()))).unwrap();
                let e = d.read_to_end(&mut out).expect_err("cut");
                (out, e.kind())
            };
            let (out, err) = through_thread(cut);
            assert_eq!(err.map(|e| e.kind()), Some(direct.1), "{c:?}");
            assert!(
                out.len() <= direct.0.len() && big.starts_with(&out),
                "{c:?}"
            );
        }
        let (out, err) = through_thread(compress(Compression::Xz, b""));
        assert!(out.is_empty() && err.is_none());
    }

    /// A reader that raises a flag when it is dropped, i.e. when its thread has ended.
    struct Watched(
        Box<dyn Read + Send>,
        std::sync::Arc<std::sync::atomic::AtomicBool>,
    );

    impl Read for Watched {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.0.read(out)
        }
    }

    impl Drop for Watched {
        fn drop(&mut self) {
            self.1.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn dropping_the_reader_stops_the_thread() {
        let big: Vec<u8> = TEXT.iter().cycle().take(20 * BLOCK).copied().collect();
        let packed = compress(Compression::Zstd, &big);
        let ended = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let decoder = Compression::Zstd
            .decoder(Box::new(Cursor::new(packed)))
            .unwrap();
        let mut reader = on_own_thread(Box::new(Watched(decoder, ended.clone()))).unwrap();
        let mut first = [0u8; 10];
        reader.read_exact(&mut first).unwrap();
        assert_eq!(&first, &big[..10]);
        // The thread is ahead, blocked on the full channel; the closed channel ends it.
        drop(reader);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !ended.load(std::sync::atomic::Ordering::SeqCst) {
            assert!(
                std::time::Instant::now() < deadline,
                "the thread is still running"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn truncated_streams_are_errors_not_silence() {
        let big: Vec<u8> = TEXT.iter().cycle().take(200_000).copied().collect();
        for c in [
            Compression::Gzip,
            Compression::Zstd,
            Compression::Bzip2,
            Compression::Xz,
        ] {
            let mut packed = compress(c, &big);
            packed.truncate(packed.len() / 2);
            assert!(
                decompress(packed).is_err(),
                "{c:?}: a cut file must not look complete"
            );
        }
    }
}
