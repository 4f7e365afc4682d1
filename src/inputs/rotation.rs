//! Rotation sets: `mail.log`, `mail.log.1`, `mail.log.2.gz` (logrotate's numbered style) or
//! `mail.log-20261128`, `mail.log-20261129.gz` (its `dateext` style) in one folder are one
//! log cut into pieces. They are read one after another, oldest first, through one
//! extractor, so a postfix message whose `client=` line is in `mail.log.1` and whose qmgr
//! line is in `mail.log` is still joined. The order comes from the names, never from the
//! order on the command line, because a shell glob (`mail.log*`) sorts them wrongly.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::walk::Input;

const COMPRESSED_SUFFIXES: [&str; 6] = [".gz", ".bz2", ".xz", ".zst", ".zstd", ".lzma"];

/// Where a file sits in its rotation set; sorts oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Age {
    /// `-YYYYMMDD[HH...]`: older dates first.
    Dated(u64),
    /// `.N`: a higher number is older, so the key is reversed.
    Numbered(std::cmp::Reverse<u32>),
    /// The live file, newest.
    Current,
}

/// Splits a file name into its set's base name and its age, or `None` for a name with no
/// rotation suffix.
fn rotation_suffix(name: &str) -> Option<(&str, Age)> {
    let name = COMPRESSED_SUFFIXES
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name);
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some((base, n)) = name.rsplit_once('.')
        && !base.is_empty()
        && n.len() <= 4
        && all_digits(n)
    {
        return Some((base, Age::Numbered(std::cmp::Reverse(n.parse().ok()?))));
    }
    if let Some((base, date)) = name.rsplit_once('-')
        && !base.is_empty()
        && (8..=14).contains(&date.len())
        && all_digits(date)
    {
        return Some((base, Age::Dated(date.parse().ok()?)));
    }
    None
}

/// Groups inputs into jobs: each rotation set becomes one job in oldest-first order, every
/// other input a job of its own. Jobs keep the order of their first input.
pub fn group(inputs: Vec<Input>) -> Vec<Vec<Input>> {
    let key = |input: &Input| -> Option<(PathBuf, String, Age)> {
        let Input::File(path) = input else {
            return None;
        };
        let name = path.file_name()?.to_str()?;
        let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let (base, age) = rotation_suffix(name)?;
        Some((dir, base.to_string(), age))
    };
    // The sets that have at least one rotated member; a live file joins its set.
    let mut sets: HashMap<(PathBuf, String), Vec<(Age, Input)>> = HashMap::new();
    for input in &inputs {
        if let Some((dir, base, age)) = key(input) {
            sets.entry((dir, base))
                .or_default()
                .push((age, input.clone()));
        }
    }
    for input in &inputs {
        if let Input::File(path) = input
            && let Some(name) = path.file_name().and_then(|n| n.to_str())
            && key(input).is_none()
        {
            let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
            if let Some(set) = sets.get_mut(&(dir, name.to_string())) {
                set.push((Age::Current, input.clone()));
            }
        }
    }
    let mut jobs = Vec::new();
    let mut consumed = HashSet::new();
    for input in inputs {
        if let Some(set_key) = set_key(&input) {
            if consumed.contains(&set_key) {
                continue;
            }
            if let Some(mut set) = sets.remove(&set_key) {
                consumed.insert(set_key);
                set.sort_by_key(|(age, _)| *age);
                set.dedup_by(|a, b| a.1 == b.1);
                jobs.push(set.into_iter().map(|(_, input)| input).collect());
                continue;
            }
        }
        jobs.push(vec![input]);
    }
    jobs
}

/// The (folder, base name) of the rotation set a file would belong to.
fn set_key(input: &Input) -> Option<(PathBuf, String)> {
    let Input::File(path) = input else {
        return None;
    };
    let name = path.file_name()?.to_str()?;
    let base = rotation_suffix(name).map_or(name, |(base, _)| base);
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    Some((dir, base.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Vec<Input> {
        names
            .iter()
            .map(|n| Input::File(PathBuf::from(n)))
            .collect()
    }

    fn names(jobs: Vec<Vec<Input>>) -> Vec<Vec<String>> {
        jobs.into_iter()
            .map(|job| job.iter().map(Input::name).collect())
            .collect()
    }

    #[test]
    fn numbered_sets_read_oldest_first_whatever_the_argument_order() {
        let jobs = group(files(&[
            "/var/log/mail.log",
            "/var/log/mail.log.1",
            "/var/log/mail.log.10.gz",
            "/var/log/mail.log.2.gz",
            "/var/log/other.mbox",
        ]));
        assert_eq!(
            names(jobs),
            vec![
                vec![
                    "/var/log/mail.log.10.gz",
                    "/var/log/mail.log.2.gz",
                    "/var/log/mail.log.1",
                    "/var/log/mail.log"
                ],
                vec!["/var/log/other.mbox"],
            ]
        );
    }

    #[test]
    fn dated_sets_and_separate_folders() {
        let jobs = group(files(&[
            "a/maillog",
            "a/maillog-20261129.xz",
            "a/maillog-20261128",
            "b/maillog",
            "b/maillog.1",
        ]));
        assert_eq!(
            names(jobs),
            vec![
                vec!["a/maillog-20261128", "a/maillog-20261129.xz", "a/maillog"],
                vec!["b/maillog.1", "b/maillog"],
            ]
        );
    }

    #[test]
    fn unrelated_names_stay_alone() {
        let inputs = vec![
            Input::Stdin,
            Input::File("cur/1717495200.V801I3a2bM123456.mx1:2,S".into()),
            Input::File("spam/00001.7c53336b37003a9286aba55d2945844c".into()),
            Input::File("mail.log.1".into()),
        ];
        assert_eq!(group(inputs.clone()).len(), 4);
        assert_eq!(rotation_suffix("mail.log.1.gz").unwrap().0, "mail.log");
        assert_eq!(rotation_suffix("x-2026"), None);
        assert_eq!(rotation_suffix(".1"), None);
    }
}
