//! The HTML report (`--html`): one self-contained page for people who do not open CSV —
//! totals, a chart of messages by verdict, the sender domains and relays that would be
//! repudiated, DNS statistics and the settings of the run. Inline CSS and an inline SVG
//! chart only: no script, no font, no image fetch, and a Content-Security-Policy that
//! forbids them, so the page can be mailed or opened from disk anywhere. Every piece of
//! data goes through [`escape`]: sender domains come from hostile mail and input file names
//! from anywhere.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::fileio::guard::Kind;
use crate::model::SkipReason;
use crate::model::{SpfResult, Verdict};

use super::by_day::DayRow;
use super::html_days::days_chart;
use super::numbers::{rate, span, thousands};
use super::summary::{Ranked, Totals, pct};

/// Rows in each of the domain and relay tables; the CSVs have all of them.
pub const MAX_LISTED: usize = 50;

/// What `--html` writes, so an existing file of another kind is never replaced: a page this
/// tool wrote carries its title near the top.
pub const KIND: Kind = Kind {
    what: "a repudiate HTML report",
    is_ours: is_report,
    regular_only: false,
};

fn is_report(prefix: &[u8]) -> bool {
    prefix.starts_with(b"<!DOCTYPE html>")
        && memchr::memmem::find(prefix, b"<title>repudiate audit").is_some()
}

pub struct HtmlReport<'a> {
    /// When the run started (RFC 3339, UTC).
    pub run_at: &'a str,
    pub totals: &'a Totals,
    pub domains: &'a [Ranked],
    pub relays: &'a [Ranked],
    pub settings: &'a [(&'static str, String)],
    /// The days of the run, drawn as a chart over time; empty when nothing was dated.
    pub days: &'a [DayRow],
}

/// Text made safe for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn colour(v: Verdict) -> &'static str {
    match v {
        Verdict::Nonrepudiated => "#2e7d32",
        Verdict::Repudiated => "#c62828",
        Verdict::NoPolicy => "#78909c",
        Verdict::Tempfail => "#ef8f00",
        Verdict::Permerror => "#6a1b9a",
        Verdict::NullSender => "#455a64",
        Verdict::Unknown => "#b0bec5",
    }
}

fn meaning(v: Verdict) -> &'static str {
    match v {
        Verdict::Nonrepudiated => "sent by a relay the domain permits",
        Verdict::Repudiated => {
            "the domain has a policy and this relay is not in it: rejected (550)"
        }
        Verdict::NoPolicy => "the domain publishes no MAIL-FROM record: accepted",
        Verdict::Tempfail => "a lookup failed and nothing matched: deferred (450)",
        Verdict::Permerror => "the policy needs more lookups or delegation than allowed",
        Verdict::NullSender => "bounces (MAIL FROM:<>), not evaluated",
        Verdict::Unknown => "no usable sender domain or client IP",
    }
}

const STYLE: &str = "\
body{margin:0;background:#f5f6f8;color:#1f2328;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}
main{max-width:1040px;margin:0 auto;padding:24px 28px 40px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:32px 0 10px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.sub{color:#57606a;margin:0 0 20px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px 16px;min-width:130px}
.card .n{display:block;font-size:26px;font-weight:600;font-variant-numeric:tabular-nums}
.card.alert{border-color:#c62828;background:#fdecea}
.card.alert .n{color:#c62828}
table{border-collapse:collapse;background:#fff;border:1px solid #d0d7de;width:100%}
th,td{padding:5px 10px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
th{background:#f0f3f6;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.name{word-break:break-all;font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:13.5px}
.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.chart{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:10px;margin-bottom:12px}
.chart svg{display:block;width:100%;height:auto}
.note{color:#57606a;font-size:13.5px}
.two{display:grid;grid-template-columns:1fr 1fr;gap:20px}
@media (max-width:800px){.two{grid-template-columns:1fr}}
";

pub fn write_html(out: &mut dyn Write, r: &HtmlReport) -> io::Result<()> {
    out.write_all(render(r).as_bytes())
}

pub fn render(r: &HtmlReport) -> String {
    let t = r.totals;
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>repudiate audit {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(r.run_at)
    );
    let _ = writeln!(
        s,
        "<h1>What the Repudiating MAIL FROM check would have done</h1>\n\
         <p class=\"sub\">repudiate audit, run at {} — {} in {} from {}</p>",
        escape(r.run_at),
        many(t.total_messages(), "messages"),
        many(t.total_pairs(), "pairs"),
        many(t.inputs() as u64, "inputs")
    );
    period(&mut s, t);
    cards(&mut s, t);
    s.push_str("<h2>Messages by verdict</h2>\n");
    chart(&mut s, t);
    verdict_table(&mut s, t);
    days_chart(&mut s, r.days);
    evidence_table(&mut s, t);
    spf_table(&mut s, t);
    s.push_str("<div class=\"two\">\n<div>\n");
    skipped_table(&mut s, t);
    s.push_str("</div>\n<div>\n");
    dns_table(&mut s, t);
    s.push_str("</div>\n</div>\n");
    ranked_table(
        &mut s,
        "Sender domains that would be repudiated",
        "domain",
        "client IPs",
        r.domains,
    );
    ranked_table(
        &mut s,
        "Client IPs whose messages would be repudiated",
        "client IP",
        "domains",
        r.relays,
    );
    settings_table(&mut s, r.settings);
    s.push_str(
        "<p class=\"note\">Written by repudiate. The pairs CSV (<code>-o</code>) and the domain \
         summary (<code>--summary</code>) hold every row.</p>\n</main>\n</body>\n</html>\n",
    );
    s
}

/// The period the mail covers, and what could not be dated.
fn period(s: &mut String, t: &Totals) {
    let p = &t.period;
    let covered = match (p.first, p.last) {
        (Some(f), Some(l)) => format!("Mail from {} to {} (UTC)", f.rfc3339(), l.rfc3339()),
        _ => "No message carried a usable date".to_string(),
    };
    let undated = if p.undated() > 0 {
        format!(
            "; {} messages without a usable date ({} unparseable, {} absent)",
            thousands(p.undated()),
            thousands(p.unparseable),
            thousands(p.absent)
        )
    } else {
        String::new()
    };
    let _ = writeln!(s, "<p class=\"sub\">{}{}.</p>", escape(&covered), undated);
}

fn cards(s: &mut String, t: &Totals) {
    let repudiated = t.of(Verdict::Repudiated);
    let class = if repudiated > 0 { "card alert" } else { "card" };
    let _ = writeln!(
        s,
        "<section class=\"cards\">\n\
         <div class=\"{class}\"><span class=\"n\">{:.1} %</span>repudiated ({} messages)</div>\n\
         <div class=\"card\"><span class=\"n\">{}</span>messages</div>\n\
         <div class=\"card\"><span class=\"n\">{}</span>pairs</div>\n\
         <div class=\"card\"><span class=\"n\">{}</span>skipped records</div>\n\
         <div class=\"card\"><span class=\"n\">{}</span>inputs{}</div>\n</section>",
        t.repudiated_pct(),
        thousands(repudiated),
        thousands(t.total_messages()),
        thousands(t.total_pairs()),
        thousands(t.total_skipped()),
        thousands(t.inputs() as u64),
        if t.inputs_failed > 0 {
            format!(" ({} failed)", t.inputs_failed)
        } else {
            String::new()
        }
    );
}

/// `1,234 messages`, `1 input`: the count with separators, the noun singular for one.
fn many(n: u64, plural: &str) -> String {
    let noun = if n == 1 {
        plural.strip_suffix('s').unwrap_or(plural)
    } else {
        plural
    };
    format!("{} {noun}", thousands(n))
}

/// Horizontal bars, one per verdict, scaled to the largest.
fn chart(s: &mut String, t: &Totals) {
    const ROW: u32 = 34;
    const LABEL_W: u32 = 150;
    const BAR_W: f64 = 560.0;
    const WIDTH: u32 = 960;
    let height = ROW * Verdict::ALL.len() as u32 + 8;
    let total = t.total_messages();
    let max = t.messages.iter().copied().max().unwrap_or(0).max(1);
    let _ = writeln!(
        s,
        "<div class=\"chart\"><svg viewBox=\"0 0 {WIDTH} {height}\" \
         role=\"img\" aria-label=\"Messages by verdict\" font-family=\"system-ui,sans-serif\" font-size=\"15\">"
    );
    for (i, v) in Verdict::ALL.iter().enumerate() {
        let n = t.of(*v);
        let y = 4 + ROW * i as u32;
        let w = if n == 0 {
            0.0
        } else {
            (n as f64 / max as f64 * BAR_W).max(2.0)
        };
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#1f2328\">{}</text>\
             <rect x=\"{LABEL_W}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" rx=\"3\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{}\" fill=\"#57606a\">{} ({:.1} %)</text>",
            LABEL_W - 10,
            y + 21,
            v.as_str(),
            y + 5,
            ROW - 10,
            colour(*v),
            f64::from(LABEL_W) + w + 8.0,
            y + 21,
            thousands(n),
            pct(n, total)
        );
    }
    s.push_str("</svg></div>\n");
}

fn verdict_table(s: &mut String, t: &Totals) {
    let total = t.total_messages();
    s.push_str(
        "<table>\n<tr><th>verdict</th><th class=\"num\">messages</th><th class=\"num\">%</th>\
         <th class=\"num\">pairs</th><th>meaning</th></tr>\n",
    );
    for v in Verdict::ALL {
        let n = t.of(v);
        let _ = writeln!(
            s,
            "<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{:.1}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            colour(v),
            v.as_str(),
            thousands(n),
            pct(n, total),
            thousands(t.pairs[v.index()]),
            escape(meaning(v))
        );
    }
    let _ = writeln!(
        s,
        "<tr><th>total</th><th class=\"num\">{}</th><th class=\"num\">100.0</th>\
         <th class=\"num\">{}</th><th></th></tr>\n</table>",
        thousands(total),
        thousands(t.total_pairs())
    );
}

/// MAIL-FROM verdict × SPF result in messages (docs/spf.md says how to read it).
fn spf_table(s: &mut String, t: &Totals) {
    if !t.has_spf() {
        return;
    }
    s.push_str(
        "<h2>MAIL-FROM verdict × SPF result</h2>\n<p class=\"note\">Messages; SPF (RFC 7208) \
         evaluated for the same pairs. A row is what the MAIL-FROM check says, a column what \
         SPF says.</p>\n<table>\n<tr><th>verdict</th>",
    );
    for r in SpfResult::ALL {
        let _ = write!(s, "<th class=\"num\">{}</th>", r.as_str());
    }
    s.push_str("</tr>\n");
    for v in Verdict::ALL {
        let row = &t.spf[v.index()];
        if row.iter().all(|&n| n == 0) {
            continue;
        }
        let _ = write!(s, "<tr><td>{}</td>", v.as_str());
        for n in row {
            let _ = write!(s, "<td class=\"num\">{n}</td>");
        }
        s.push_str("</tr>\n");
    }
    s.push_str("<tr><th>all</th>");
    for r in SpfResult::ALL {
        let _ = write!(s, "<th class=\"num\">{}</th>", t.of_spf(r));
    }
    s.push_str("</tr>\n</table>\n");
}

/// Only when some input knew which mail was authenticated (DMARC reports).
fn evidence_table(s: &mut String, t: &Totals) {
    let e = &t.evidence;
    if e.messages == 0 {
        return;
    }
    let _ = writeln!(
        s,
        "<h2>Repudiated mail by authentication</h2>\n<p class=\"note\">Of the {} messages \
         whose input knew whether they were authenticated (DKIM-aligned in DMARC reports).</p>\n\
         <table>\n<tr><th>repudiated</th><th class=\"num\">messages</th><th>meaning</th></tr>\n\
         <tr><td>authenticated</td><td class=\"num\">{}</td><td>legitimate mail the check would lose</td></tr>\n\
         <tr><td>not authenticated</td><td class=\"num\">{}</td><td>forgery stopped (or mail whose signature broke on the way)</td></tr>\n\
         </table>",
        e.messages, e.repudiated_authenticated, e.repudiated_unauthenticated
    );
}

fn skipped_table(s: &mut String, t: &Totals) {
    s.push_str(
        "<h2>Skipped records</h2>\n<table>\n<tr><th>reason</th><th class=\"num\">records</th></tr>\n",
    );
    for r in SkipReason::ALL {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
            r.as_str(),
            thousands(t.skipped[r.index()])
        );
    }
    let _ = writeln!(
        s,
        "<tr><th>total</th><th class=\"num\">{}</th></tr>\n</table>",
        thousands(t.total_skipped())
    );
}

fn dns_table(s: &mut String, t: &Totals) {
    let d = &t.dns;
    let failed = if d.offline > 0 {
        format!("failed ({} offline)", thousands(d.offline))
    } else {
        "failed".to_string()
    };
    let _ = writeln!(
        s,
        "<h2>DNS</h2>\n<table>\n<tr><th>questions</th><th class=\"num\">number</th></tr>\n\
         <tr><td>sent to a server</td><td class=\"num\">{}</td></tr>\n\
         <tr><td>answered by the --cache file</td><td class=\"num\">{}</td></tr>\n\
         <tr><td>answered by zone files</td><td class=\"num\">{}</td></tr>\n\
         <tr><td>{failed}</td><td class=\"num\">{}</td></tr>\n\
         <tr><td>answers reused within the run</td><td class=\"num\">{}</td></tr>\n\
         <tr><td>resolution time</td><td class=\"num\">{} ({})</td></tr>\n</table>",
        thousands(d.queries),
        thousands(d.file_answers),
        thousands(d.zone_answers),
        thousands(d.failures),
        thousands(d.reused),
        span(d.elapsed),
        rate(d.queries, d.elapsed)
    );
}

fn ranked_table(s: &mut String, title: &str, name: &str, pairs_are: &str, ranked: &[Ranked]) {
    let _ = writeln!(s, "<h2>{}</h2>", escape(title));
    if ranked.is_empty() {
        s.push_str("<p>None: no message would have been repudiated.</p>\n");
        return;
    }
    let _ = writeln!(
        s,
        "<table>\n<tr><th>{}</th><th class=\"num\">repudiated</th><th class=\"num\">of messages</th>\
         <th class=\"num\">%</th><th class=\"num\">{}</th></tr>",
        escape(name),
        escape(pairs_are)
    );
    for r in ranked.iter().take(MAX_LISTED) {
        let label = if r.name.is_empty() { "(none)" } else { &r.name };
        let _ = writeln!(
            s,
            "<tr><td class=\"name\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{:.1}</td><td class=\"num\">{}</td></tr>",
            escape(label),
            thousands(r.repudiated),
            thousands(r.messages),
            pct(r.repudiated, r.messages),
            thousands(r.repudiated_pairs)
        );
    }
    s.push_str("</table>\n");
    if ranked.len() > MAX_LISTED {
        let _ = writeln!(
            s,
            "<p class=\"note\">… and {} more; the CSV reports list them all.</p>",
            thousands((ranked.len() - MAX_LISTED) as u64)
        );
    }
}

fn settings_table(s: &mut String, settings: &[(&'static str, String)]) {
    s.push_str("<h2>Settings of this run</h2>\n<table>\n");
    for (name, value) in settings {
        let _ = writeln!(
            s,
            "<tr><th>{}</th><td class=\"name\">{}</td></tr>",
            escape(name),
            escape(value)
        );
    }
    s.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::tests::row;
    use crate::report::summary::{rank_domains, rank_relays};

    #[test]
    fn headline_counts_are_separated_and_singular_for_one() {
        assert_eq!(many(1, "inputs"), "1 input");
        assert_eq!(many(12_345, "messages"), "12,345 messages");
    }

    fn page(rows: &[crate::model::PairRow], settings: &[(&'static str, String)]) -> String {
        let mut t = Totals::default();
        t.count_rows(rows);
        t.inputs_ok = 1;
        render(&HtmlReport {
            run_at: "2026-11-28T02:15:00Z",
            totals: &t,
            domains: &rank_domains(rows),
            relays: &rank_relays(rows),
            settings,
            days: &[],
        })
    }

    #[test]
    fn hostile_data_is_escaped() {
        let rows = vec![row(
            "<script>alert(1)</script>.example",
            "192.0.2.1",
            2,
            Verdict::Repudiated,
        )];
        let html = page(
            &rows,
            &[(
                "inputs",
                "/var/mail/\"><img src=x onerror=alert(1)>&'.mbox".into(),
            )],
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.example"));
        assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;&#39;.mbox"));
    }

    #[test]
    fn the_cross_table_shows_spf_beside_the_verdicts() {
        let mut rows = vec![
            row("forged.example", "203.0.113.9", 3, Verdict::NoPolicy),
            row("ok.example", "192.0.2.10", 9, Verdict::Nonrepudiated),
        ];
        assert!(!page(&rows, &[]).contains("SPF result"), "no SPF, no table");
        rows[0].spf = Some(SpfResult::Fail);
        rows[1].spf = Some(SpfResult::Pass);
        let html = page(&rows, &[]);
        assert!(
            html.contains("<h2>MAIL-FROM verdict × SPF result</h2>"),
            "{html}"
        );
        assert!(
            html.contains("<tr><td>no-policy</td><td class=\"num\">0</td><td class=\"num\">3</td>")
        );
        assert!(html.contains("<tr><th>all</th><th class=\"num\">9</th><th class=\"num\">3</th>"));
    }

    #[test]
    fn totals_chart_and_lists() {
        let rows = vec![
            row("forged.example", "203.0.113.9", 3, Verdict::Repudiated),
            row("ok.example", "192.0.2.10", 9, Verdict::Nonrepudiated),
        ];
        let html = page(&rows, &[("perimeter", "192.0.2.0/28".into())]);
        assert!(html.contains("<span class=\"n\">25.0 %</span>repudiated (3 messages)"));
        assert_eq!(
            html.matches("<rect ").count(),
            Verdict::ALL.len(),
            "a bar per verdict"
        );
        assert!(html.contains("<td class=\"name\">forged.example</td>"));
        assert!(html.contains("<td class=\"name\">203.0.113.9</td>"));
        assert!(
            !html.contains("<td class=\"name\">ok.example</td>"),
            "not repudiated"
        );
        assert!(html.contains("<th>perimeter</th><td class=\"name\">192.0.2.0/28</td>"));
        assert!(
            !html.contains("<script") && !html.contains("http://") && !html.contains("https://"),
            "self-contained: nothing to run or fetch"
        );
    }

    #[test]
    fn long_lists_are_cut_with_a_note() {
        let rows: Vec<_> = (0..60)
            .map(|i| {
                row(
                    &format!("d{i:02}.example"),
                    "192.0.2.1",
                    1,
                    Verdict::Repudiated,
                )
            })
            .collect();
        let html = page(&rows, &[]);
        assert!(html.contains("d49.example") && !html.contains("d50.example"));
        assert!(html.contains("… and 10 more"));
    }

    #[test]
    fn counts_have_thousands_separators() {
        let rows = vec![
            row("big.example", "203.0.113.9", 1_234_567, Verdict::Repudiated),
            row("ok.example", "192.0.2.10", 12_000, Verdict::Nonrepudiated),
        ];
        let html = page(&rows, &[]);
        assert!(html.contains("— 1,246,567 messages in 2 pairs"), "{html}");
        assert!(html.contains("repudiated (1,234,567 messages)"), "{html}");
        assert!(html.contains("<td class=\"num\">12,000</td>"), "{html}");
        assert!(html.contains(">1,234,567 (99.0 %)</text>"), "{html}");
        assert!(!html.contains("1234567"), "{html}");
    }
}
