//! The packings reports travel in: gzip (`.xml.gz`) and zip (`.zip`, one report inside as
//! a rule, every one read), recognised by their magic bytes. Each decompression stops at a
//! size cap, so a bomb is an error naming the entry, never memory exhaustion.

use std::io::{Cursor, Read};

use super::{DmarcError, Report, xml};

/// Packings inside packings (a zip holding a `.xml.gz`) are unwrapped this deep at most.
const MAX_DEPTH: usize = 3;

pub(super) fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

pub(super) fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
}

/// Every report in `bytes`, unwrapping gzip and zip by content.
pub(super) fn read_packed(
    bytes: &[u8],
    limit: u64,
    depth: usize,
) -> Result<Vec<Report>, DmarcError> {
    if depth > MAX_DEPTH && (is_gzip(bytes) || is_zip(bytes)) {
        return Err(DmarcError("packings nested too deep".into()));
    }
    if is_gzip(bytes) {
        let xml = gunzip(bytes, limit)?;
        read_packed(&xml, limit, depth + 1).map_err(|e| e.within("gzip"))
    } else if is_zip(bytes) {
        unzip(bytes, limit, depth)
    } else {
        Ok(vec![xml::parse_report(bytes)?])
    }
}

/// Decompresses gzip members one after the other, as gzip(1) does, and ignores what follows
/// the last member (some reporters append padding).
pub(super) fn gunzip(bytes: &[u8], limit: u64) -> Result<Vec<u8>, DmarcError> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while is_gzip(rest) {
        let mut decoder = flate2::bufread::GzDecoder::new(rest);
        let room = limit.saturating_sub(out.len() as u64);
        (&mut decoder)
            .take(room.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| DmarcError(format!("gzip: {e}")))?;
        check_cap(out.len() as u64, limit, "gzip stream")?;
        rest = decoder.into_inner();
    }
    Ok(out)
}

fn check_cap(size: u64, limit: u64, what: &str) -> Result<(), DmarcError> {
    if size > limit {
        return Err(DmarcError(format!(
            "{what} decompresses to more than {} MiB (a zip bomb?); refused",
            limit >> 20
        )));
    }
    Ok(())
}

fn unzip(bytes: &[u8], limit: u64, depth: usize) -> Result<Vec<Report>, DmarcError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| DmarcError(format!("zip: {e}")))?;
    let mut reports = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| DmarcError(format!("zip entry {i}: {e}")))?;
        if entry.is_dir() {
            continue;
        }
        let name = format!("zip entry {}", entry.name().unwrap_or_default());
        // The declared size may lie; the cap holds on the bytes actually produced.
        let mut data = Vec::new();
        (&mut entry)
            .take(limit.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|e| DmarcError(format!("{name}: {e}")))?;
        check_cap(data.len() as u64, limit, &name)?;
        let inner = read_packed(&data, limit, depth + 1).map_err(|e| e.within(&name))?;
        reports.extend(inner);
    }
    if reports.is_empty() {
        return Err(DmarcError("zip archive holds no report".into()));
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_members_join_and_trailing_bytes_are_ignored() {
        let mut bytes = gz(b"abc");
        bytes.extend(gz(b"def"));
        bytes.extend(b"\0\0garbage");
        assert_eq!(gunzip(&bytes, 100).unwrap(), b"abcdef");
    }

    #[test]
    fn gzip_over_the_cap_is_refused() {
        let bytes = gz(&vec![0u8; 5000]);
        let err = gunzip(&bytes, 4096).unwrap_err();
        assert!(err.0.contains("zip bomb"), "{err}");
        assert_eq!(gunzip(&bytes, 5000).unwrap().len(), 5000);
    }

    #[test]
    fn a_zip_entry_over_the_cap_is_refused_by_name() {
        let mut zipped = Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut zipped);
        w.start_file("big.xml", zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(&vec![b' '; 9000]).unwrap();
        w.finish().unwrap();
        let err = read_packed(zipped.get_ref(), 8192, 0).unwrap_err();
        assert!(err.0.contains("zip entry big.xml"), "{err}");
        assert!(err.0.contains("zip bomb"), "{err}");
    }
}
