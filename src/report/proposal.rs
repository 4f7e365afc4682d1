//! `propose`'s outputs: the RFC 1035 zone fragment holding the proposed `MAIL-FROM` MX sets
//! (loadable as it is by `audit --zone`, so the owner's loop is two commands), each record
//! with a comment saying its evidence, and the coverage on standard error.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::fileio::guard::Kind;
use crate::policy::propose::{Flow, Naming, Proposal, Target};
use crate::report::numbers::counted;
use crate::report::summary::pct;

/// The first line of every fragment; it is how an existing one is recognised.
const FIRST_LINE: &str =
    "; MAIL-FROM records proposed by `repudiate propose` (Vixie, \"Repudiating MAIL FROM\").";

/// What `propose -o` writes, so an existing file of another kind is never replaced.
pub const KIND: Kind = Kind {
    what: "a zone fragment written by `repudiate propose`",
    is_ours: is_proposal,
    regular_only: false,
};

fn is_proposal(prefix: &[u8]) -> bool {
    prefix.starts_with(FIRST_LINE.as_bytes())
}

/// TTL of the proposed records: an hour, short enough to correct a proposal quickly.
const TTL: u32 = 3600;
/// Flows listed one by one on standard error and in the fragment's comments.
const LISTED: usize = 10;

/// Writes the fragment. Each domain's section sets `$ORIGIN MAIL-FROM.<domain>.`, so an audit
/// loading it answers the names under each (the synthesized relays, their own `MAIL-FROM`
/// names) from the file, for every domain of a multi-domain proposal; every other name stays
/// with DNS.
pub fn write_zone(w: &mut dyn Write, proposals: &[Proposal]) -> io::Result<()> {
    let mut out = String::new();
    let _ = writeln!(out, "{FIRST_LINE}");
    let _ = writeln!(
        out,
        "; Try them before publishing: repudiate audit --zone THIS-FILE <the same inputs>"
    );
    let _ = writeln!(out, "$TTL {TTL}");
    for p in proposals {
        domain_section(&mut out, p);
    }
    w.write_all(out.as_bytes())
}

fn domain_section(out: &mut String, p: &Proposal) {
    let c = &p.coverage;
    let owner = format!("MAIL-FROM.{}.", p.domain);
    let _ = writeln!(out, "\n; {}", p.domain);
    let _ = writeln!(out, "$ORIGIN {owner}");
    let _ = writeln!(
        out,
        "; observed: {} messages, {} authenticated; this set makes nonrepudiated {} ({:.1} %) \
         and {} of the authenticated ({:.1} %)",
        c.messages,
        c.authenticated,
        c.covered,
        pct(c.covered, c.messages),
        c.authenticated_covered,
        pct(c.authenticated_covered, c.authenticated)
    );
    if p.targets.is_empty() {
        let _ = writeln!(
            out,
            "; no relay qualifies (authenticated mail, or --min-messages), so no record is \
             proposed.\n; If {} sends no mail at all, RFC 7505's null MX says so:\n; {owner} IN MX 0 .",
            p.domain
        );
    }
    for target in &p.targets {
        target_records(out, &owner, target);
    }
    for flow in p.left_out.iter().take(LISTED) {
        let _ = writeln!(out, "; left out: {}", describe(flow));
    }
    if p.left_out.len() > LISTED {
        let _ = writeln!(out, "; left out: {} more relays", p.left_out.len() - LISTED);
    }
    for term in &p.spf_left_out {
        let _ = writeln!(
            out,
            "; SPF term with no MAIL-FROM equivalent, left out: {term}"
        );
    }
    if let Some(problem) = &p.spf_problem {
        let _ = writeln!(out, "; --from-spf: {problem}");
    }
}

fn target_records(out: &mut String, owner: &str, target: &Target) {
    let how = match target.naming {
        Naming::Logged => "the name its log recorded, whose addresses hold it",
        Naming::Confirmed => "forward-confirmed reverse DNS",
        Naming::Synthesized(_) => "no forward-confirmed name: synthesized, with its address",
        Naming::Spf => "named by the SPF record",
    };
    for flow in &target.flows {
        let _ = writeln!(out, "; {}; {how}", describe(flow));
    }
    for term in &target.spf {
        let _ = writeln!(out, "; authorised by SPF: {term}");
    }
    let _ = writeln!(out, "{owner} IN MX 10 {}.", target.name);
    if let Naming::Synthesized(ip) = target.naming {
        let rtype = if ip.is_ipv4() { "A" } else { "AAAA" };
        let _ = writeln!(out, "{}. IN {rtype} {ip}", target.name);
    }
}

/// `192.0.2.10: 111 messages, 51 authenticated (45.9 %)`.
fn describe(flow: &Flow) -> String {
    match flow.authenticated {
        Some(a) => format!(
            "{}: {}, {a} authenticated ({:.1} %)",
            flow.ip,
            counted(flow.messages, "messages"),
            pct(a, flow.messages)
        ),
        None => format!(
            "{}: {}, authentication unknown",
            flow.ip,
            counted(flow.messages, "messages")
        ),
    }
}

/// The coverage of every proposal, for standard error; `also_seen` lists subdomains of a
/// proposed domain that sent mail too, with their messages.
pub fn render_coverage(proposals: &[Proposal], also_seen: &[(String, u64)]) -> String {
    let mut out = String::new();
    for p in proposals {
        let c = &p.coverage;
        let relays: usize = p.targets.iter().map(|t| t.flows.len()).sum();
        let _ = writeln!(
            out,
            "repudiate propose: {}: {} MX target(s) for {relays} relay(s)",
            p.domain,
            p.targets.len()
        );
        let _ = writeln!(
            out,
            "  observed       {:>14} messages, nonrepudiated with this set {:>14} ({:.1} %)",
            c.messages,
            c.covered,
            pct(c.covered, c.messages)
        );
        let _ = writeln!(
            out,
            "  authenticated  {:>14} messages, nonrepudiated with this set {:>14} ({:.1} %)",
            c.authenticated,
            c.authenticated_covered,
            pct(c.authenticated_covered, c.authenticated)
        );
        if !p.left_out.is_empty() {
            let _ = writeln!(
                out,
                "  left out (repudiated with this set): {} relay(s)",
                p.left_out.len()
            );
            for flow in p.left_out.iter().take(LISTED) {
                let _ = writeln!(out, "    {}", describe(flow));
            }
            if p.left_out.len() > LISTED {
                let _ = writeln!(out, "    ... {} more", p.left_out.len() - LISTED);
            }
        }
        if !p.spf_left_out.is_empty() {
            let _ = writeln!(
                out,
                "  SPF terms with no MAIL-FROM equivalent: {}",
                p.spf_left_out.join(" ")
            );
        }
        if let Some(problem) = &p.spf_problem {
            let _ = writeln!(out, "  --from-spf: {problem}");
        }
    }
    for (domain, messages) in also_seen {
        let _ = writeln!(
            out,
            "repudiate propose: {domain} sent {messages} messages too; MAIL-FROM is per \
             envelope domain: add --domain {domain} to propose for it"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::propose::Coverage;

    #[test]
    fn the_fragment_names_each_record_and_its_evidence() {
        let p = Proposal {
            domain: "owner.example".into(),
            targets: vec![
                Target {
                    name: "mail.owner.example".into(),
                    naming: Naming::Confirmed,
                    flows: vec![Flow {
                        ip: "192.0.2.10".parse().unwrap(),
                        messages: 10,
                        logged_name: None,
                        authenticated: Some(5),
                    }],
                    spf: vec!["a:mail.owner.example".into()],
                },
                Target {
                    name: "relay-2001-db8.mail-from.owner.example".into(),
                    naming: Naming::Synthesized("2001:db8::1".parse().unwrap()),
                    flows: vec![],
                    spf: vec![],
                },
            ],
            left_out: vec![Flow {
                ip: "203.0.113.1".parse().unwrap(),
                messages: 3,
                authenticated: None,
                logged_name: None,
            }],
            coverage: Coverage {
                messages: 13,
                covered: 10,
                authenticated: 5,
                authenticated_covered: 5,
            },
            spf_left_out: vec!["include:_spf.esp.example".into()],
            spf_problem: None,
        };
        let mut out = Vec::new();
        write_zone(&mut out, &[p]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("$ORIGIN MAIL-FROM.owner.example.\n"),
            "{text}"
        );
        assert!(text.contains("; 192.0.2.10: 10 messages, 5 authenticated (50.0 %); forward-confirmed reverse DNS\n; authorised by SPF: a:mail.owner.example\nMAIL-FROM.owner.example. IN MX 10 mail.owner.example.\n"), "{text}");
        assert!(
            text.contains("relay-2001-db8.mail-from.owner.example. IN AAAA 2001:db8::1\n"),
            "{text}"
        );
        assert!(
            text.contains("; left out: 203.0.113.1: 3 messages, authentication unknown\n"),
            "{text}"
        );
        let mut zones = crate::dns::zones::Zones::default();
        zones
            .add_text(&text, None)
            .expect("the fragment loads as a zone");
    }
}
