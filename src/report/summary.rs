//! The short human table on standard error at the end of a run: messages by verdict with
//! percentages, skipped records by reason, and the inputs that failed.

use std::fmt::Write;

use crate::extract::SkipReason;
use crate::policy::Verdict;

/// Counts behind the table.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    /// Messages per verdict (indexed by [`Verdict::index`]); unused by `scan`.
    pub messages: [u64; Verdict::ALL.len()],
    pub pairs: [u64; Verdict::ALL.len()],
    pub skipped: [u64; SkipReason::ALL.len()],
    pub inputs_ok: usize,
    pub inputs_failed: usize,
}

impl Totals {
    pub fn total_messages(&self) -> u64 {
        crate::aggregate::saturating_sum(self.messages.iter().copied())
    }

    /// Share of repudiated messages among all messages with a verdict, in percent.
    pub fn repudiated_pct(&self) -> f64 {
        pct(
            self.messages[Verdict::Repudiated.index()],
            self.total_messages(),
        )
    }
}

fn pct(n: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        n as f64 * 100.0 / total as f64
    }
}

pub fn render_audit(t: &Totals) -> String {
    let total = t.total_messages();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "repudiate audit: {} messages in {} pairs from {} inputs",
        total,
        t.pairs.iter().sum::<u64>(),
        t.inputs_ok + t.inputs_failed
    );
    let _ = writeln!(
        s,
        "  {:<15} {:>10} {:>7} {:>8}",
        "verdict", "messages", "%", "pairs"
    );
    for v in Verdict::ALL {
        let n = t.messages[v.index()];
        let _ = writeln!(
            s,
            "  {:<15} {:>10} {:>6.1}% {:>8}",
            v.as_str(),
            n,
            pct(n, total),
            t.pairs[v.index()]
        );
    }
    render_skipped(&mut s, t);
    s
}

pub fn render_scan(t: &Totals, messages: u64, pairs: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "repudiate scan: {} messages in {} pairs from {} inputs",
        messages,
        pairs,
        t.inputs_ok + t.inputs_failed
    );
    render_skipped(&mut s, t);
    s
}

fn render_skipped(s: &mut String, t: &Totals) {
    let _ = writeln!(
        s,
        "  {:<15} {:>10}",
        "skipped",
        t.skipped.iter().sum::<u64>()
    );
    for r in SkipReason::ALL {
        let n = t.skipped[r.index()];
        if n > 0 {
            let _ = writeln!(s, "    {:<13} {:>10}", r.as_str(), n);
        }
    }
    if t.inputs_failed > 0 {
        let _ = writeln!(
            s,
            "  {} input(s) failed: see the errors above",
            t.inputs_failed
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_table_has_every_verdict_and_percentages() {
        let mut t = Totals::default();
        t.messages[Verdict::Repudiated.index()] = 1;
        t.messages[Verdict::Nonrepudiated.index()] = 3;
        t.skipped[SkipReason::Local.index()] = 2;
        t.inputs_ok = 1;
        let s = render_audit(&t);
        let line = |name: &str| {
            s.lines()
                .find(|l| l.split_whitespace().next() == Some(name))
                .unwrap()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(line("repudiated"), "repudiated 1 25.0% 0");
        assert_eq!(line("nonrepudiated"), "nonrepudiated 3 75.0% 0");
        assert_eq!(line("local"), "local 2");
        assert!(s.contains("null-sender"));
        assert_eq!(t.repudiated_pct(), 25.0);
    }
}
