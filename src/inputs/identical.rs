//! Byte-identical files are read once (issue 13): a copy of a log or mailbox beside the
//! original (`mail.log` and `mail.log.bak`, a mailbox saved twice) would otherwise count
//! every message twice. Only files of equal size are compared, first by their first and
//! last 4 KiB, then whole; so the cost is small reads of the few files whose sizes collide,
//! and a full read only for files that are very likely copies. The later path (in input
//! order) is dropped and named. Pairs files are exempt: adding up equal ones is what a merge
//! of hosts that saw the same mail means.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::walk::Input;
use crate::pairs_file::HEADER_PREFIX;

const EDGE: usize = 4096;

/// Splits `inputs` into those to read and the identical copies dropped:
/// (copy, the file it repeats).
pub fn drop_copies(inputs: Vec<Input>) -> (Vec<Input>, Vec<(PathBuf, PathBuf)>) {
    // One stat per file, on every core: a maildir may hold millions.
    let sizes: Vec<Option<u64>> = inputs
        .par_iter()
        .map(|input| match input {
            Input::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            Input::Stdin => None,
        })
        .collect();
    let mut by_size: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, size) in sizes.into_iter().enumerate() {
        if let Some(len) = size.filter(|&len| len > 0) {
            by_size.entry(len).or_default().push(i);
        }
    }
    let state = RandomState::new();
    let path = |i: usize| match &inputs[i] {
        Input::File(p) => p.as_path(),
        Input::Stdin => unreachable!("only files are grouped"),
    };
    let groups: Vec<Vec<usize>> = by_size.into_values().filter(|g| g.len() > 1).collect();
    let mut drop = vec![None; inputs.len()];
    for (copy, first) in groups
        .par_iter()
        .flat_map_iter(|group| copies_in(group, &path, &state))
        .collect::<Vec<_>>()
    {
        drop[copy] = Some(first);
    }
    let mut copies = Vec::new();
    let mut keep = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        match drop[i] {
            Some(f) => {
                if let (Input::File(copy), Input::File(orig)) = (input, &inputs[f]) {
                    copies.push((copy.clone(), orig.clone()));
                }
            }
            None => keep.push(input.clone()),
        }
    }
    (keep, copies)
}

/// The hash of the first and last [`EDGE`] bytes; `None` for a pairs file, whose copies are
/// counted on purpose (two hosts may well write the same small pairs file).
/// The copies among files of one size (indexes in input order): (copy, the first file).
/// Edge fingerprints first; whole-file hashes only where they agree; bytes to confirm.
fn copies_in<'p>(
    group: &[usize],
    path: &impl Fn(usize) -> &'p Path,
    state: &RandomState,
) -> Vec<(usize, usize)> {
    let mut edges: HashMap<u64, Vec<usize>> = HashMap::new();
    for &i in group {
        if let Ok(Some(h)) = edge_hash(path(i), state) {
            edges.entry(h).or_default().push(i);
        }
    }
    let mut copies = Vec::new();
    for candidates in edges.into_values().filter(|c| c.len() > 1) {
        let mut first: HashMap<u128, usize> = HashMap::new();
        for i in candidates {
            let Ok(h) = full_hash(path(i), state) else {
                continue;
            };
            match first.get(&h) {
                Some(&f) if same_bytes(path(f), path(i)).unwrap_or(false) => copies.push((i, f)),
                Some(_) => {}
                None => {
                    first.insert(h, i);
                }
            }
        }
    }
    copies
}

fn edge_hash(path: &Path, state: &RandomState) -> io::Result<Option<u64>> {
    let mut f = File::open(path)?;
    let mut h = state.build_hasher();
    let mut buf = vec![0u8; EDGE];
    let n = read_full(&mut f, &mut buf)?;
    if buf[..n].starts_with(HEADER_PREFIX.as_bytes()) {
        return Ok(None);
    }
    h.write(&buf[..n]);
    let len = f.metadata()?.len();
    if len > EDGE as u64 {
        f.seek(SeekFrom::Start(len.saturating_sub(EDGE as u64)))?;
        let n = read_full(&mut f, &mut buf)?;
        h.write(&buf[..n]);
    }
    Ok(Some(h.finish()))
}

/// Two independently keyed hashes of the whole file.
fn full_hash(path: &Path, state: &RandomState) -> io::Result<u128> {
    let mut f = File::open(path)?;
    let (mut a, mut b) = (state.build_hasher(), state.build_hasher());
    b.write_u8(1);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = read_full(&mut f, &mut buf)?;
        if n == 0 {
            break;
        }
        a.write(&buf[..n]);
        b.write(&buf[..n]);
    }
    Ok(u128::from(a.finish()) << 64 | u128::from(b.finish()))
}

/// The final word: the bytes themselves (hashes only pick the candidates).
fn same_bytes(a: &Path, b: &Path) -> io::Result<bool> {
    let (mut fa, mut fb) = (File::open(a)?, File::open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let na = read_full(&mut fa, &mut ba)?;
        let nb = read_full(&mut fb, &mut bb)?;
        if ba[..na] != bb[..nb] {
            return Ok(false);
        }
        if na == 0 {
            return Ok(true);
        }
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_dropped_and_near_copies_kept() {
        let d = tempfile::tempdir().unwrap();
        let big: String = (0..3000).map(|i| format!("line {i}\n")).collect();
        let mut near = big.clone().into_bytes();
        near[10_000] = b'X';
        let files = [
            ("a", big.as_bytes()),
            ("b", big.as_bytes()),
            ("c", &near[..]),
            ("d", b"small"),
            ("e", b"small"),
            ("f", b""),
            ("p1", b"domain,ip,messages\nx.example,192.0.2.1,1\n"),
            ("p2", b"domain,ip,messages\nx.example,192.0.2.1,1\n"),
            ("g", b""),
        ];
        let mut inputs = Vec::new();
        for (name, bytes) in files {
            std::fs::write(d.path().join(name), bytes).unwrap();
            inputs.push(Input::File(d.path().join(name)));
        }
        inputs.push(Input::Stdin);
        let (keep, copies) = drop_copies(inputs);
        let names: Vec<String> = keep.iter().map(|i| i.name()).collect();
        let base = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(names.len(), 8, "{names:?}");
        let copies: Vec<(String, String)> =
            copies.iter().map(|(c, o)| (base(c), base(o))).collect();
        assert_eq!(
            copies,
            [("b".into(), "a".into()), ("e".into(), "d".into())],
            "empty files hold nothing to count twice"
        );
    }
}
