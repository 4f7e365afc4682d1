//! `propose --from-spf`: the relays a domain's SPF record (RFC 7208) already authorises,
//! as `MAIL-FROM` targets where a target can say the same thing. `a` and `mx` name hosts,
//! which are targets as they are; a single address (`ip4:x`, `ip6:x`, or a /32 or /128) gets
//! a synthesized name. Networks, `include:`, `exists:`, `ptr`, `redirect=` and macros have no
//! MAIL-FROM equivalent (an MX target names hosts, not networks or other policies): they are
//! listed as left out, so the owner sees what the proposal could not carry over. Only
//! mechanisms that pass (`+`, or no qualifier) authorise.

use std::net::IpAddr;

use crate::dns::{Data, Lookup, Outcome, QType};

/// What the SPF record contributes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpfTargets {
    /// Host names (lowercase, no trailing dot) with the mechanism that named each.
    pub hosts: Vec<(String, String)>,
    /// Single addresses with the mechanism that named each.
    pub addresses: Vec<(IpAddr, String)>,
    /// Terms with no MAIL-FROM equivalent, as written.
    pub left_out: Vec<String>,
    /// Why nothing could be read (no record, several records, a failed lookup).
    pub problem: Option<String>,
}

/// Reads `domain`'s SPF record and the MX sets its `mx` mechanisms name.
pub async fn spf_targets<L: Lookup>(dns: &L, domain: &str) -> SpfTargets {
    let mut out = SpfTargets::default();
    let texts = match dns.lookup(domain, QType::Txt).await.outcome {
        Outcome::Found(Data::Txt(texts)) => texts,
        Outcome::Failed(f) => {
            out.problem = Some(format!("TXT {domain}: {f}"));
            return out;
        }
        _ => Vec::new(),
    };
    let records: Vec<&String> = texts.iter().filter(|t| is_spf(t)).collect();
    let record = match records.as_slice() {
        [one] => *one,
        [] => {
            out.problem = Some(format!("{domain} publishes no SPF record"));
            return out;
        }
        _ => {
            out.problem = Some(format!(
                "{domain} publishes several SPF records (permerror)"
            ));
            return out;
        }
    };
    for term in record.split_ascii_whitespace().skip(1) {
        read_term(dns, domain, term, &mut out).await;
    }
    out
}

fn is_spf(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower == "v=spf1" || lower.starts_with("v=spf1 ")
}

async fn read_term<L: Lookup>(dns: &L, domain: &str, term: &str, out: &mut SpfTargets) {
    let (qualifier, body) = match term.as_bytes().first() {
        Some(b'+' | b'-' | b'~' | b'?') => (term.as_bytes()[0], &term[1..]),
        _ => (b'+', term),
    };
    let lower = body.to_ascii_lowercase();
    if qualifier != b'+' || lower == "all" || lower.starts_with("exp=") {
        return;
    }
    let (name, arg) = match lower.split_once([':', '/']) {
        Some((n, _)) => (n.to_string(), lower[n.len()..].to_string()),
        None => (lower.clone(), String::new()),
    };
    let (spec, cidr) = match arg.strip_prefix(':') {
        Some(rest) => match rest.split_once('/') {
            Some((s, c)) => (s.to_string(), Some(c.to_string())),
            None => (rest.to_string(), None),
        },
        None => (String::new(), arg.strip_prefix('/').map(str::to_string)),
    };
    let target_domain = if spec.is_empty() {
        domain.to_string()
    } else {
        spec.trim_end_matches('.').to_string()
    };
    match name.as_str() {
        "a" if host_only(cidr.as_deref()) && !target_domain.contains('%') => {
            out.hosts.push((target_domain, term.to_string()));
        }
        "mx" if host_only(cidr.as_deref()) && !target_domain.contains('%') => {
            match dns.lookup(&target_domain, QType::Mx).await.outcome {
                Outcome::Found(Data::Mx(targets)) => out.hosts.extend(
                    targets
                        .iter()
                        .filter(|t| !t.exchange.is_empty())
                        .map(|t| (t.exchange.clone(), term.to_string())),
                ),
                _ => out.left_out.push(format!("{term} (no MX records found)")),
            }
        }
        "ip4" | "ip6" => match single_address(&spec, cidr.as_deref()) {
            Some(ip) => out.addresses.push((ip, term.to_string())),
            None => out.left_out.push(term.to_string()),
        },
        _ => out.left_out.push(term.to_string()),
    }
}

/// A dual CIDR (`/24//64`) or a prefix narrows `a` and `mx` to networks: not a host.
fn host_only(cidr: Option<&str>) -> bool {
    cidr.is_none_or(|c| {
        c.split('/')
            .all(|p| p.is_empty() || p == "32" || p == "128")
    })
}

/// `ip4:192.0.2.1`, `ip4:192.0.2.1/32`, `ip6:2001:db8::1/128`: one address.
fn single_address(spec: &str, cidr: Option<&str>) -> Option<IpAddr> {
    let ip: IpAddr = spec.parse().ok()?;
    let full = if ip.is_ipv4() { "32" } else { "128" };
    (cidr.is_none() || cidr == Some(full)).then(|| crate::net::canonical(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_addresses_and_host_only_cidrs() {
        assert_eq!(
            single_address("192.0.2.1", None),
            Some("192.0.2.1".parse().unwrap())
        );
        assert!(single_address("192.0.2.1", Some("32")).is_some());
        assert_eq!(single_address("192.0.2.0", Some("24")), None);
        assert!(single_address("2001:db8::1", Some("128")).is_some());
        assert!(host_only(None));
        assert!(host_only(Some("32")));
        assert!(!host_only(Some("24")));
        assert!(!host_only(Some("24//64")));
        assert!(is_spf("v=spf1 -all"));
        assert!(is_spf("V=SPF1"));
        assert!(!is_spf("v=spf10 a"));
    }
}
