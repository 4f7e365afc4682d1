//! Hints for a first run whose results look like the resolver, not the mail: said on
//! standard error under the table, never changing a verdict or the exit code.

use std::collections::HashSet;

use crate::model::{PairRow, Sender, SpfResult};

/// Sender domains enough that, on the real Internet, some would publish SPF.
const SPF_SILENT_DOMAINS: usize = 20;

/// When no domain of many has an SPF record, the likelier story is a resolver that answers
/// NXDOMAIN or nothing for everything (a sandbox, a captive or filtering resolver), and every
/// `no-policy` in the report says nothing about the domains. Most mail comes from domains
/// that publish SPF.
pub fn spf_silence(rows: &[PairRow]) -> Option<String> {
    let mut silent = HashSet::new();
    for row in rows {
        let Sender::Domain(domain) = &row.key.sender else {
            continue;
        };
        match row.spf {
            Some(SpfResult::None) => {
                silent.insert(domain.as_str());
            }
            Some(SpfResult::TempError) | None => {}
            Some(_) => return None,
        }
    }
    (silent.len() >= SPF_SILENT_DOMAINS).then(|| {
        format!(
            "note: none of the {} sender domains has an SPF record in this resolver's answers, \
             though most senders publish one: check that the resolver answers for the \
             Internet (dig TXT gmail.com), or name one with --nameserver",
            silent.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PairKey, Verdict};

    fn row(domain: &str, spf: SpfResult) -> PairRow {
        PairRow {
            key: PairKey {
                sender: Sender::Domain(domain.into()),
                ip: "192.0.2.1".parse().ok(),
            },
            messages: 1,
            verdict: Verdict::NoPolicy,
            matched: None,
            relays: Vec::new().into(),
            reason: None,
            authenticated: None,
            spf: Some(spf),
            days: Default::default(),
        }
    }

    #[test]
    fn many_domains_without_spf_get_a_note_and_one_with_spf_none() {
        let mut rows: Vec<PairRow> = (0..20)
            .map(|i| row(&format!("d{i}.example"), SpfResult::None))
            .collect();
        let note = spf_silence(&rows).expect("20 silent domains");
        assert!(note.contains("none of the 20 sender domains"), "{note}");
        rows.push(row("d0.example", SpfResult::Pass));
        assert_eq!(
            spf_silence(&rows),
            None,
            "one domain with SPF: the resolver works"
        );
        assert_eq!(spf_silence(&rows[..19]), None, "too few domains to tell");
    }
}
