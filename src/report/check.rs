//! `repudiate check`'s explanation of one verdict (docs/design.md §5): the verdict, the rule that
//! decided, and every DNS question the evaluation asked — its answer or error, TTL, where the
//! answer came from (zone file, cache, DNS), its delegation depth and its number against
//! `--max-lookups`.
//!
//! For people the questions form a tree: a relay's address question sits under the MX answer
//! that named the relay, and `MAIL-FROM.<relay>` under that relay, so delegation reads as
//! indentation. The policy asks breadth-first, so the tree is rebuilt from the steps
//! (each step's `#N` keeps the order they were asked in). For machines, `--format csv` gives
//! one row per question with the verdict columns repeated, and the parent's number.
//!
//! SPF's evaluation of the same client (docs/design.md §2b) follows as a second tree: each record,
//! each term in the order evaluated, the lookups a term made with their answers, and the
//! term that decided, indented by `include`/`redirect` level. The CSV carries its result in
//! the `spf` column of every row.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::IpAddr;

use crate::dns::{Answer, Data, Outcome, QType, Source};
use crate::model::Sender;
use crate::pairs_file::csv_writer;
use crate::pairs_file::sender_column;
use crate::policy::spf::{SpfEvaluation, StepKind};
use crate::policy::{Evaluation, Step};

/// How `check` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// The verdict, then the questions as a tree indented by delegation.
    Text,
    /// CSV, one row per DNS question, each with the verdict columns (README: "check").
    Csv,
}

pub const CSV_HEADER: [&str; 19] = [
    "domain",
    "ip",
    "verdict",
    "matched",
    "relays",
    "reason",
    "rule",
    "lookups",
    "max_lookups",
    "step",
    "parent",
    "depth",
    "name",
    "type",
    "outcome",
    "data",
    "ttl",
    "source",
    "spf",
];

/// Columns of [`CSV_HEADER`] given on the first row only.
const RELAYS_COLUMN: usize = 4;
const REASON_COLUMN: usize = 5;

/// Everything the explanation shows.
pub struct CheckReport<'a> {
    pub sender: &'a Sender,
    /// Canonical (an IPv4-mapped address as IPv4).
    pub ip: IpAddr,
    pub evaluation: &'a Evaluation,
    /// The evaluation's rule in words, its limits spelled as flags by the command layer.
    pub rule: String,
    pub max_lookups: u32,
    pub max_depth: u32,
    pub spf: &'a SpfEvaluation,
    /// The identity SPF checked (`postmaster@helo.example` for `<>`), `None` when there
    /// was none (`<>` without `--helo`).
    pub spf_identity: Option<String>,
    pub helo: Option<&'a str>,
}

pub fn write_check(
    out: &mut dyn Write,
    report: &CheckReport,
    format: CheckFormat,
) -> io::Result<()> {
    match format {
        CheckFormat::Text => out.write_all(render_text(report).as_bytes()),
        CheckFormat::Csv => write_csv(out, report),
    }
}

/// The explanation for a person.
pub fn render_text(report: &CheckReport) -> String {
    let e = report.evaluation;
    let mut lines = vec![
        field("domain", &domain_text(report.sender)),
        field("client", &report.ip.to_string()),
        field("verdict", e.verdict.as_str()),
    ];
    if let Some(m) = &e.matched {
        lines.push(field("matched", m));
    }
    if !e.relays.is_empty() {
        lines.push(field("relays", &e.relays.join(" ")));
    }
    if let Some(r) = &e.reason {
        lines.push(field("reason", r));
    }
    lines.push(field("rule", &rule_text(report)));
    lines.push(field(
        "lookups",
        &format!(
            "{} of at most {} (--max-lookups); {} (--max-depth)",
            e.lookups,
            report.max_lookups,
            match report.max_depth {
                0 => "no delegation".to_string(),
                1 => "delegation up to 1 level".to_string(),
                n => format!("delegation up to {n} levels"),
            }
        ),
    ));
    let mut text = lines.join("\n");
    text.push('\n');
    if !e.steps.is_empty() {
        text.push('\n');
        let tree = Tree::of(&e.steps);
        for root in tree.roots() {
            render_node(&mut text, &tree, root, 0, report);
        }
    }
    text.push('\n');
    render_spf(&mut text, report);
    text
}

/// SPF's half of the explanation: the result, the identity, the limits, then the steps.
fn render_spf(text: &mut String, report: &CheckReport) {
    let spf = report.spf;
    let mut result = spf.result.as_str().to_string();
    if let Some(term) = &spf.decided_by {
        result.push_str(&format!(" (decided by {term})"));
    }
    let mut lines = vec![field("spf", &result)];
    lines.push(field(
        "checked",
        &format!(
            "{}; HELO {}",
            report
                .spf_identity
                .as_deref()
                .unwrap_or("none (<> without --helo)"),
            report.helo.unwrap_or("unknown")
        ),
    ));
    if let Some(why) = &spf.error {
        lines.push(field("error", why));
    }
    lines.push(field(
        "limits",
        &format!(
            "{} of 10 DNS-querying terms, {} of 2 void lookups (RFC 7208, fixed)",
            spf.terms, spf.voids
        ),
    ));
    text.push_str(&lines.join("\n"));
    text.push('\n');
    if spf.steps.is_empty() {
        return;
    }
    text.push('\n');
    for step in &spf.steps {
        // A record and its TXT lookup at the level of the term that led there (none at
        // the top), its terms one deeper, what a term asked or came to one deeper still.
        let base = 1 + 2 * step.depth as usize;
        let (indent, line) = match &step.kind {
            StepKind::Record { domain, record } => (
                base,
                match record {
                    Some(r) => format!("record at {domain}: {r}"),
                    None => format!("no SPF record at {domain}"),
                },
            ),
            StepKind::Term(term) => (base + 1, term.clone()),
            StepKind::Lookup {
                name,
                qtype,
                answer,
            } => (
                if *qtype == QType::Txt { base } else { base + 2 },
                lookup_text(name, *qtype, answer),
            ),
            StepKind::Note(note) => (base + 2, format!("=> {note}")),
        };
        text.push_str(&format!("{:indent$}{line}\n", "", indent = 2 * indent));
    }
}

fn lookup_text(name: &str, qtype: QType, answer: &Answer) -> String {
    let (outcome, data) = answer_parts(answer);
    let shown = match answer.outcome {
        Outcome::Found(_) => data.replace(';', ", "),
        Outcome::Failed(_) => format!("error: {data}"),
        _ => outcome.to_uppercase(),
    };
    let mut line = format!(
        "{name} {}: {shown}  ({}",
        qtype.as_str(),
        source_text(answer.source)
    );
    if !matches!(answer.outcome, Outcome::Failed(_)) {
        line.push_str(&format!(", ttl {}", answer.ttl));
    }
    line.push(')');
    line
}

fn field(label: &str, value: &str) -> String {
    format!("{:<9}{value}", format!("{label}:"))
}

/// The rule with the policy name spelled out: the rules say `MAIL-FROM.D` (the draft's
/// notation, shared by every pair), which a person checking one domain reads as a typo.
fn rule_text(report: &CheckReport) -> String {
    match report.sender {
        Sender::Domain(d) => report
            .rule
            .replace("MAIL-FROM.D", &format!("MAIL-FROM.{d}")),
        _ => report.rule.clone(),
    }
}

fn domain_text(sender: &Sender) -> String {
    match sender {
        Sender::Domain(d) => d.clone(),
        Sender::Null => "<> (the null sender)".into(),
        Sender::Missing => "(none)".into(),
        Sender::Malformed(t) => format!("{t:?} (not a valid domain)"),
    }
}

fn render_node(text: &mut String, tree: &Tree, index: usize, level: usize, report: &CheckReport) {
    let step = &tree.steps[index];
    let (outcome, data) = answer_parts(&step.answer);
    let shown = match step.answer.outcome {
        Outcome::Found(_) => data.replace(';', ", "),
        Outcome::Failed(_) => format!("error: {data}"),
        _ => outcome.to_uppercase(),
    };
    text.push_str(&format!(
        "{:indent$}#{} {} {}: {shown}  ({}",
        "",
        step.count,
        step.name,
        step.qtype.as_str(),
        source_text(step.answer.source),
        indent = 2 * level,
    ));
    if !matches!(step.answer.outcome, Outcome::Failed(_)) {
        text.push_str(&format!(", ttl {}", step.answer.ttl));
    }
    text.push_str(&format!(", depth {})", step.depth));
    if is_the_match(step, report) {
        text.push_str(&format!("  <- {} matches", report.ip));
    }
    text.push('\n');
    for &child in &tree.children[index] {
        render_node(text, tree, child, level + 1, report);
    }
}

fn source_text(source: Source) -> &'static str {
    match source {
        Source::Zone => "zone file",
        Source::Cache => "cache",
        Source::Dns => "DNS",
        Source::None => "not asked",
    }
}

/// The address question whose answer holds the client, for the relay that matched.
fn is_the_match(step: &Step, report: &CheckReport) -> bool {
    report.evaluation.matched.as_deref() == Some(step.name.as_str())
        && matches!(&step.answer.outcome,
            Outcome::Found(Data::Addrs(addrs)) if addrs.contains(&report.ip))
}

/// `(outcome, data)` as the CSV spells them: `found` with `;`-separated MX targets
/// (`PREFERENCE EXCHANGE`, `.` for the root) or addresses; `nxdomain`, `nodata` with no
/// data; `error` with the failure.
pub fn answer_parts(answer: &Answer) -> (&'static str, String) {
    match &answer.outcome {
        Outcome::Found(Data::Mx(targets)) => (
            "found",
            targets
                .iter()
                .map(|t| {
                    let exchange = if t.exchange.is_empty() {
                        "."
                    } else {
                        &t.exchange
                    };
                    format!("{} {exchange}", t.preference)
                })
                .collect::<Vec<_>>()
                .join(";"),
        ),
        Outcome::Found(Data::Addrs(addrs)) => (
            "found",
            addrs
                .iter()
                .map(IpAddr::to_string)
                .collect::<Vec<_>>()
                .join(";"),
        ),
        Outcome::Found(Data::Txt(texts)) => (
            "found",
            texts
                .iter()
                .map(|t| format!("{t:?}"))
                .collect::<Vec<_>>()
                .join(";"),
        ),
        Outcome::Found(Data::Ptr(names)) => ("found", names.join(";")),
        Outcome::NxDomain => ("nxdomain", String::new()),
        Outcome::NoData => ("nodata", String::new()),
        Outcome::Failed(f) => ("error", f.to_string()),
    }
}

/// The explanation for a machine: one row per question (one row with empty question
/// columns when none was asked), the verdict columns on each — except the relay list and
/// the reason, which can run to thousands of names and are on the first row only (repeated,
/// a policy of N relays made a CSV of N × N names).
pub fn write_csv(out: &mut dyn Write, report: &CheckReport) -> io::Result<()> {
    let e = report.evaluation;
    let mut w = csv_writer(out);
    w.write_record(CSV_HEADER)?;
    let verdict_columns = [
        sender_column(report.sender).to_string(),
        report.ip.to_string(),
        e.verdict.as_str().to_string(),
        e.matched.clone().unwrap_or_default(),
        e.relays.join(";"),
        e.reason.clone().unwrap_or_default(),
        report.rule.clone(),
        e.lookups.to_string(),
        report.max_lookups.to_string(),
    ];
    let spf = [report.spf.result.as_str().to_string()];
    if e.steps.is_empty() {
        let empty = std::iter::repeat_n(
            String::new(),
            CSV_HEADER.len() - verdict_columns.len() - spf.len(),
        );
        w.write_record(verdict_columns.iter().cloned().chain(empty).chain(spf))?;
        return w.flush();
    }
    let tree = Tree::of(&e.steps);
    let mut later_rows = verdict_columns.clone();
    later_rows[RELAYS_COLUMN].clear();
    later_rows[REASON_COLUMN].clear();
    for (i, step) in e.steps.iter().enumerate() {
        let (outcome, data) = answer_parts(&step.answer);
        let ttl = match step.answer.outcome {
            Outcome::Failed(_) => String::new(),
            _ => step.answer.ttl.to_string(),
        };
        let step_columns = [
            step.count.to_string(),
            tree.parent[i]
                .map(|p| e.steps[p].count.to_string())
                .unwrap_or_default(),
            step.depth.to_string(),
            step.name.clone(),
            step.qtype.as_str().to_string(),
            outcome.to_string(),
            data,
            ttl,
            step.answer.source.as_str().to_string(),
        ];
        let verdict = if i == 0 {
            &verdict_columns
        } else {
            &later_rows
        };
        w.write_record(verdict.iter().chain(step_columns.iter()).chain(spf.iter()))?;
    }
    w.flush()
}

/// Parent links between the steps of one evaluation, derived from how the policy makes its
/// questions: the address of relay T comes from the MX answer (at its depth) that named T;
/// `MAIL-FROM.T` comes from relay T. A step with no such source is a root.
struct Tree<'a> {
    steps: &'a [Step],
    parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
}

impl<'a> Tree<'a> {
    fn of(steps: &'a [Step]) -> Tree<'a> {
        let parent = parents(steps);
        let mut children = vec![Vec::new(); steps.len()];
        for (i, p) in parent.iter().enumerate() {
            if let Some(p) = p {
                children[*p].push(i);
            }
        }
        Tree {
            steps,
            parent,
            children,
        }
    }

    fn roots(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.steps.len()).filter(|&i| self.parent[i].is_none())
    }
}

/// Each step's parent, in one pass with maps of what the earlier steps said, so a policy of
/// thousands of relays is explained in time linear in its answers (a scan of the earlier
/// steps per step was quadratic). `MAIL-FROM.T` comes from the latest earlier address
/// question of T; an address question of T from the first earlier MX answer naming T at
/// its own depth, else at any depth.
fn parents(steps: &[Step]) -> Vec<Option<usize>> {
    let mut latest_address: HashMap<&str, usize> = HashMap::new();
    let mut first_naming_at: HashMap<(&str, u32), usize> = HashMap::new();
    let mut first_naming: HashMap<&str, usize> = HashMap::new();
    let mut parent = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        match step.qtype {
            QType::Mx => {
                let relay = step.name.strip_prefix("mail-from.");
                parent.push(relay.and_then(|r| latest_address.get(r).copied()));
                if let Outcome::Found(Data::Mx(targets)) = &step.answer.outcome {
                    for t in targets.iter() {
                        first_naming_at
                            .entry((&t.exchange, step.depth))
                            .or_insert(i);
                        first_naming.entry(&t.exchange).or_insert(i);
                    }
                }
            }
            QType::A | QType::Aaaa => {
                let name = step.name.as_str();
                parent.push(
                    first_naming_at
                        .get(&(name, step.depth))
                        .or_else(|| first_naming.get(name))
                        .copied(),
                );
                latest_address.insert(name, i);
            }
            // The MAIL-FROM check never asks these.
            QType::Txt | QType::Ptr => parent.push(None),
        }
    }
    parent
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{Failure, MxTarget};
    use crate::model::{SpfResult, Verdict};

    fn step(count: u32, depth: u32, name: &str, qtype: QType, outcome: Outcome) -> Step {
        Step {
            depth,
            name: name.into(),
            qtype,
            answer: Answer {
                outcome,
                ttl: 300,
                source: if count == 2 {
                    Source::Cache
                } else {
                    Source::Dns
                },
            },
            count,
        }
    }

    fn mx(targets: &[(u16, &str)]) -> Outcome {
        Outcome::Found(Data::Mx(
            targets
                .iter()
                .map(|(p, e)| MxTarget {
                    preference: *p,
                    exchange: (*e).into(),
                })
                .collect(),
        ))
    }

    fn addrs(list: &[&str]) -> Outcome {
        Outcome::Found(Data::Addrs(
            list.iter().map(|a| a.parse().unwrap()).collect(),
        ))
    }

    /// Two relays at the first level, one of which delegates to a provider whose relay
    /// matches: the breadth-first order of the steps is not the tree's order.
    fn delegated() -> Evaluation {
        Evaluation {
            verdict: Verdict::Nonrepudiated,
            matched: Some("out.provider.example".into()),
            relays: vec![
                "a.example.org".into(),
                "b.example.org".into(),
                "out.provider.example".into(),
            ],
            reason: None,
            rule: "the client is an address of a permitted relay".into(),
            lookups: 6,
            steps: vec![
                step(
                    1,
                    0,
                    "mail-from.example.org",
                    QType::Mx,
                    mx(&[(10, "a.example.org"), (20, "b.example.org")]),
                ),
                step(2, 0, "a.example.org", QType::A, addrs(&["192.0.2.1"])),
                step(3, 0, "b.example.org", QType::A, Outcome::NoData),
                step(
                    4,
                    1,
                    "mail-from.a.example.org",
                    QType::Mx,
                    Outcome::NxDomain,
                ),
                step(
                    5,
                    1,
                    "mail-from.b.example.org",
                    QType::Mx,
                    mx(&[(5, "out.provider.example")]),
                ),
                step(
                    6,
                    1,
                    "out.provider.example",
                    QType::A,
                    addrs(&["198.51.100.7", "198.51.100.8"]),
                ),
            ],
        }
    }

    fn report<'a>(
        sender: &'a Sender,
        e: &'a Evaluation,
        ip: &str,
        spf: &'a SpfEvaluation,
    ) -> CheckReport<'a> {
        CheckReport {
            sender,
            ip: ip.parse().unwrap(),
            evaluation: e,
            rule: e.rule.render(|_| "--a-limit"),
            max_lookups: 100,
            max_depth: 10,
            spf,
            spf_identity: Some("postmaster@example.org".into()),
            helo: None,
        }
    }

    /// `v=spf1 include:spf.example.net -all` at example.org, the include not matching.
    fn spf_fail() -> SpfEvaluation {
        use crate::policy::spf::SpfStep;
        let at = |depth, kind| SpfStep { depth, kind };
        let txt = |name: &str, text: &str| StepKind::Lookup {
            name: name.into(),
            qtype: QType::Txt,
            answer: Answer {
                outcome: Outcome::Found(Data::Txt(vec![text.into()])),
                ttl: 300,
                source: Source::Dns,
            },
        };
        let record = |domain: &str, text: &str| StepKind::Record {
            domain: domain.into(),
            record: Some(text.into()),
        };
        SpfEvaluation {
            result: SpfResult::Fail,
            decided_by: Some("-all at example.org".into()),
            error: None,
            needs_sender: false,
            terms: 1,
            voids: 0,
            steps: vec![
                at(0, txt("example.org", "v=spf1 include:spf.example.net -all")),
                at(
                    0,
                    record("example.org", "v=spf1 include:spf.example.net -all"),
                ),
                at(0, StepKind::Term("include:spf.example.net".into())),
                at(1, txt("spf.example.net", "v=spf1 ip4:192.0.2.0/24 -all")),
                at(1, record("spf.example.net", "v=spf1 ip4:192.0.2.0/24 -all")),
                at(1, StepKind::Term("ip4:192.0.2.0/24".into())),
                at(1, StepKind::Term("-all".into())),
                at(1, StepKind::Note("-all matches: fail".into())),
                at(0, StepKind::Term("-all".into())),
                at(0, StepKind::Note("-all matches: fail".into())),
            ],
        }
    }

    #[test]
    fn the_rule_names_the_domains_policy_record() {
        let sender = Sender::Domain("example.org".into());
        let e = Evaluation {
            verdict: Verdict::NoPolicy,
            matched: None,
            relays: vec![],
            rule: "MAIL-FROM.D has no MX records".into(),
            lookups: 1,
            steps: vec![],
            ..delegated()
        };
        let text = render_text(&report(&sender, &e, "198.51.100.8", &spf_fail()));
        assert!(
            text.contains("rule:    MAIL-FROM.example.org has no MX records\n"),
            "{text}"
        );
    }

    #[test]
    fn text_is_a_tree_indented_by_delegation() {
        let sender = Sender::Domain("example.org".into());
        let e = delegated();
        let text = render_text(&report(&sender, &e, "198.51.100.8", &spf_fail()));
        let expected = "\
domain:  example.org
client:  198.51.100.8
verdict: nonrepudiated
matched: out.provider.example
relays:  a.example.org b.example.org out.provider.example
rule:    the client is an address of a permitted relay
lookups: 6 of at most 100 (--max-lookups); delegation up to 10 levels (--max-depth)

#1 mail-from.example.org MX: 10 a.example.org, 20 b.example.org  (DNS, ttl 300, depth 0)
  #2 a.example.org A: 192.0.2.1  (cache, ttl 300, depth 0)
    #4 mail-from.a.example.org MX: NXDOMAIN  (DNS, ttl 300, depth 1)
  #3 b.example.org A: NODATA  (DNS, ttl 300, depth 0)
    #5 mail-from.b.example.org MX: 5 out.provider.example  (DNS, ttl 300, depth 1)
      #6 out.provider.example A: 198.51.100.7, 198.51.100.8  (DNS, ttl 300, depth 1)  <- 198.51.100.8 matches

spf:     fail (decided by -all at example.org)
checked: postmaster@example.org; HELO unknown
limits:  1 of 10 DNS-querying terms, 0 of 2 void lookups (RFC 7208, fixed)

  example.org TXT: \"v=spf1 include:spf.example.net -all\"  (DNS, ttl 300)
  record at example.org: v=spf1 include:spf.example.net -all
    include:spf.example.net
      spf.example.net TXT: \"v=spf1 ip4:192.0.2.0/24 -all\"  (DNS, ttl 300)
      record at spf.example.net: v=spf1 ip4:192.0.2.0/24 -all
        ip4:192.0.2.0/24
        -all
          => -all matches: fail
    -all
      => -all matches: fail
";
        assert_eq!(text, expected);
    }

    #[test]
    fn csv_has_one_row_per_question_with_its_parent() {
        let sender = Sender::Domain("example.org".into());
        let e = delegated();
        let mut out = Vec::new();
        write_csv(&mut out, &report(&sender, &e, "198.51.100.8", &spf_fail())).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], CSV_HEADER.join(","));
        assert_eq!(lines.len(), 7, "{text}");
        let verdict = "example.org,198.51.100.8,nonrepudiated,out.provider.example,\
                       a.example.org;b.example.org;out.provider.example,,\
                       the client is an address of a permitted relay,6,100";
        // Later rows leave the relay list (and the reason) to the first.
        let later = "example.org,198.51.100.8,nonrepudiated,out.provider.example,,,\
                     the client is an address of a permitted relay,6,100";
        assert_eq!(
            (CSV_HEADER[RELAYS_COLUMN], CSV_HEADER[REASON_COLUMN]),
            ("relays", "reason")
        );
        assert_eq!(
            lines[1],
            format!(
                "{verdict},1,,0,mail-from.example.org,MX,found,10 a.example.org;20 b.example.org,300,dns,fail"
            )
        );
        assert_eq!(
            lines[2],
            format!("{later},2,1,0,a.example.org,A,found,192.0.2.1,300,cache,fail")
        );
        assert_eq!(
            lines[4],
            format!("{later},4,2,1,mail-from.a.example.org,MX,nxdomain,,300,dns,fail")
        );
        assert_eq!(
            lines[6],
            format!(
                "{later},6,5,1,out.provider.example,A,found,198.51.100.7;198.51.100.8,300,dns,fail"
            )
        );
    }

    #[test]
    fn failures_null_mx_and_unevaluated_senders() {
        let sender = Sender::Domain("example.net".into());
        let e = Evaluation {
            verdict: Verdict::Tempfail,
            matched: None,
            relays: vec!["down.example.net".into()],
            reason: Some("down.example.net AAAA: SERVFAIL".into()),
            rule: "no match, and a lookup on the way failed".into(),
            lookups: 2,
            steps: vec![
                step(
                    1,
                    0,
                    "mail-from.example.net",
                    QType::Mx,
                    mx(&[(0, "down.example.net")]),
                ),
                Step {
                    answer: Answer::failed(Failure::ServFail, Source::Dns),
                    ..step(3, 0, "down.example.net", QType::Aaaa, Outcome::NoData)
                },
            ],
        };
        let text = render_text(&report(&sender, &e, "2001:db8::1", &spf_fail()));
        assert!(
            text.contains("\nreason:  down.example.net AAAA: SERVFAIL\n"),
            "{text}"
        );
        assert!(
            text.contains("\n  #3 down.example.net AAAA: error: SERVFAIL  (DNS, depth 0)\n"),
            "{text}"
        );

        let null_mx = mx(&[(0, "")]);
        assert_eq!(
            answer_parts(&Answer {
                outcome: null_mx,
                ttl: 1,
                source: Source::Zone
            })
            .1,
            "0 ."
        );

        let null = Sender::Null;
        let e = Evaluation {
            verdict: Verdict::NullSender,
            matched: None,
            relays: Vec::new(),
            reason: None,
            rule: "the null sender (MAIL FROM:<>, a bounce) is not evaluated".into(),
            lookups: 0,
            steps: Vec::new(),
        };
        let r = e;
        let text = render_text(&report(&null, &r, "192.0.2.1", &spf_fail()));
        assert!(
            text.starts_with("domain:  <> (the null sender)\n"),
            "{text}"
        );
        assert!(text.contains("\nverdict: null-sender\n"), "{text}");
        assert!(
            text.contains("(--max-depth)\n\nspf:"),
            "no lookups listed: {text}"
        );
        let mut out = Vec::new();
        write_csv(&mut out, &report(&null, &r, "192.0.2.1", &spf_fail())).unwrap();
        let csv = String::from_utf8(out).unwrap();
        assert_eq!(
            csv.lines().nth(1).unwrap(),
            r#"<>,192.0.2.1,null-sender,,,,"the null sender (MAIL FROM:<>, a bounce) is not evaluated",0,100,,,,,,,,,,fail"#
        );
    }
}
