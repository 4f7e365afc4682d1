//! Compressed inputs (SPEC §3): gzip (multi-member too, as `cat a.gz b.gz` and some log
//! rotators write), zstd, bzip2 and xz are recognised by their magic bytes, never by file
//! name, and decompressed as a stream so memory does not follow file size. A truncated or
//! corrupt file surfaces as a read error naming the input; what was read before it is kept.

use std::io::{self, Read};

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
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(raw)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(raw)?),
            Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(raw)),
            Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(raw)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    const TEXT: &[u8] = b"Jun  4 10:01:00 mx postfix/smtpd[100]: 4A1B2C3D4E: client=x[192.0.2.1]\n";

    fn compress(c: Compression, data: &[u8]) -> Vec<u8> {
        match c {
            Compression::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Compression::Zstd => zstd::encode_all(data, 1).unwrap(),
            Compression::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Compression::Xz => {
                let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
        }
    }

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
