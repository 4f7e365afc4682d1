//! gzip as gzip(1) reads it: members one after the other (`cat a.gz b.gz`), and bytes after
//! the last member that do not start another one are ignored ("trailing garbage ignored"),
//! as some DMARC reporters and log rotators leave padding there. A member that is cut short
//! or corrupt is still an error.

use std::io::{self, BufRead, BufReader, Cursor, Read};

use flate2::bufread::GzDecoder;

const MAGIC: [u8; 2] = [0x1f, 0x8b];

type Source<'a> = Box<dyn BufRead + Send + 'a>;

/// Decodes every gzip member of `raw`, stopping quietly at bytes that start no member.
pub struct GzipMembers<'a> {
    current: Option<GzDecoder<Source<'a>>>,
}

impl<'a> GzipMembers<'a> {
    pub fn new(raw: Box<dyn Read + Send + 'a>) -> GzipMembers<'a> {
        let source: Source<'a> = Box::new(BufReader::new(raw));
        GzipMembers {
            current: Some(GzDecoder::new(source)),
        }
    }
}

impl Read for GzipMembers<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(decoder) = self.current.as_mut() else {
                return Ok(0);
            };
            let n = decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let inner = self.current.take().map(GzDecoder::into_inner);
            if let Some(next) = inner.map(next_member).transpose()?.flatten() {
                self.current = Some(GzDecoder::new(next));
            }
        }
    }
}

/// The input positioned at the next member, or `None` when what follows starts none.
fn next_member(mut inner: Source<'_>) -> io::Result<Option<Source<'_>>> {
    let available = inner.fill_buf()?;
    if available.len() >= MAGIC.len() {
        return Ok(available.starts_with(&MAGIC).then_some(inner));
    }
    // The buffer ends inside the first two bytes: read them, then put them back in front.
    let mut head = Vec::with_capacity(MAGIC.len());
    (&mut inner)
        .take(MAGIC.len() as u64)
        .read_to_end(&mut head)?;
    if head != MAGIC {
        return Ok(None);
    }
    Ok(Some(Box::new(BufReader::new(
        Cursor::new(head).chain(inner),
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode(bytes: Vec<u8>) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        GzipMembers::new(Box::new(Cursor::new(bytes))).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn members_join_and_trailing_bytes_are_ignored() {
        let mut bytes = gz(b"one\n");
        bytes.extend(gz(b"two\n"));
        assert_eq!(decode(bytes.clone()).unwrap(), b"one\ntwo\n");
        bytes.extend(b"\0\0\0\0padding");
        assert_eq!(decode(bytes.clone()).unwrap(), b"one\ntwo\n");
        bytes.push(0x1f);
        assert_eq!(decode(bytes).unwrap(), b"one\ntwo\n");
    }

    #[test]
    fn a_cut_member_is_still_an_error() {
        let mut bytes = gz(&b"line of text\n".repeat(1000));
        bytes.truncate(bytes.len() / 2);
        assert!(decode(bytes).is_err());
        let mut second_cut = gz(b"one\n");
        let two = gz(b"two\n");
        second_cut.extend(&two[..two.len() - 4]);
        assert!(decode(second_cut).is_err());
    }
}
