//! The site's own relays (`--perimeter`) and the forwarders it trusts (`--forwarder`), given
//! as addresses, networks or host names, turned into the always-permitted part of every
//! policy (docs/design.md §2.3). Host names are resolved once, through the same lookup as the policy
//! (zone files first): a name that does not resolve is an error, because every verdict would
//! silently depend on it.

use std::fmt;

use super::Trusted;
use crate::dns::{Data, Failure, Lookup, Outcome, QType};
use crate::model::Sender;
use crate::model::address::normalize_domain;
use crate::net::IpNet;

/// A relay as the user gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RelaySpec {
    Net(IpNet),
    /// A host name, resolved once at start-up.
    Host(String),
}

impl RelaySpec {
    pub fn parse(text: &str) -> Result<RelaySpec, String> {
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(RelaySpec::Net(net));
        }
        match normalize_domain(text) {
            Sender::Domain(d) if !text.contains('/') => Ok(RelaySpec::Host(d)),
            _ => Err(format!(
                "{text:?} is not an IP address, a CIDR network or a host name"
            )),
        }
    }

    pub fn net(&self) -> Option<IpNet> {
        match self {
            RelaySpec::Net(n) => Some(*n),
            RelaySpec::Host(_) => None,
        }
    }
}

impl fmt::Display for RelaySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelaySpec::Net(net) => write!(f, "{net}"),
            RelaySpec::Host(host) => f.write_str(host),
        }
    }
}

/// Which list a relay came from; it is also the `matched` column's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayRole {
    Perimeter,
    Forwarder,
}

impl RelayRole {
    pub fn as_str(self) -> &'static str {
        match self {
            RelayRole::Perimeter => "perimeter",
            RelayRole::Forwarder => "forwarder",
        }
    }
}

/// A host name among the relays that could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayError {
    pub role: RelayRole,
    pub host: String,
    pub problem: RelayProblem,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RelayProblem {
    LookupFailed(QType, Failure),
    NoAddresses,
}

impl fmt::Display for RelayProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelayProblem::LookupFailed(qtype, failure) => {
                write!(f, "{} lookup failed: {failure}", qtype.as_str())
            }
            RelayProblem::NoAddresses => f.write_str("the name has no addresses"),
        }
    }
}

/// The resolved relays: every one is trusted by the policy, and the perimeter's networks are
/// also hops inside the site for extraction.
#[derive(Clone, Debug, Default)]
pub struct ResolvedRelays {
    pub trusted: Vec<Trusted>,
    pub perimeter_nets: Vec<IpNet>,
}

/// Resolves both lists; the first name that cannot be resolved is the error.
pub async fn resolve<L: Lookup>(
    lookup: &L,
    perimeter: &[RelaySpec],
    forwarders: &[RelaySpec],
) -> Result<ResolvedRelays, RelayError> {
    let mut out = ResolvedRelays::default();
    for (specs, role) in [
        (perimeter, RelayRole::Perimeter),
        (forwarders, RelayRole::Forwarder),
    ] {
        for spec in specs {
            for (label, net) in resolve_one(lookup, spec, role).await? {
                if role == RelayRole::Perimeter {
                    out.perimeter_nets.push(net);
                }
                out.trusted.push(Trusted { label, net });
            }
        }
    }
    Ok(out)
}

async fn resolve_one<L: Lookup>(
    lookup: &L,
    spec: &RelaySpec,
    role: RelayRole,
) -> Result<Vec<(String, IpNet)>, RelayError> {
    let kind = role.as_str();
    let host = match spec {
        RelaySpec::Net(net) => return Ok(vec![(format!("{kind}:{net}"), *net)]),
        RelaySpec::Host(host) => host,
    };
    let error = |problem| RelayError {
        role,
        host: host.clone(),
        problem,
    };
    let mut out = Vec::new();
    for qtype in [QType::A, QType::Aaaa] {
        match lookup.lookup(host, qtype).await.outcome {
            Outcome::Found(Data::Addrs(addrs)) => out.extend(
                addrs
                    .into_iter()
                    .map(|ip| (format!("{kind}:{host}"), IpNet::host(ip))),
            ),
            Outcome::Failed(f) => return Err(error(RelayProblem::LookupFailed(qtype, f))),
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(error(RelayProblem::NoAddresses));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{Answer, Source};

    struct Fixed;

    impl Lookup for Fixed {
        async fn lookup(&self, name: &str, qtype: QType) -> Answer {
            let outcome = match (name, qtype) {
                ("mx.site.example", QType::A) => {
                    Outcome::Found(Data::Addrs(vec!["192.0.2.7".parse().unwrap()]))
                }
                ("broken.example", _) => Outcome::Failed(Failure::ServFail),
                _ => Outcome::NxDomain,
            };
            Answer {
                outcome,
                ttl: 0,
                source: Source::Zone,
            }
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn names_resolve_to_labelled_hosts_and_networks_stay_as_given() {
        let perimeter = [
            RelaySpec::parse("198.51.100.0/28").unwrap(),
            RelaySpec::parse("MX.site.example.").unwrap(),
        ];
        let forwarders = [RelaySpec::parse("2001:db8::/48").unwrap()];
        let r = block_on(resolve(&Fixed, &perimeter, &forwarders)).unwrap();
        let labels: Vec<&str> = r.trusted.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "perimeter:198.51.100.0/28",
                "perimeter:mx.site.example",
                "forwarder:2001:db8::/48"
            ]
        );
        assert_eq!(r.perimeter_nets.len(), 2);
        assert!(r.perimeter_nets[1].contains("192.0.2.7".parse().unwrap()));
    }

    #[test]
    fn unresolvable_names_are_typed_errors() {
        let e = block_on(resolve(
            &Fixed,
            &[],
            &[RelaySpec::Host("broken.example".into())],
        ))
        .unwrap_err();
        assert_eq!(e.role, RelayRole::Forwarder);
        assert_eq!(
            e.problem,
            RelayProblem::LookupFailed(QType::A, Failure::ServFail)
        );
        let e = block_on(resolve(
            &Fixed,
            &[RelaySpec::Host("none.example".into())],
            &[],
        ))
        .unwrap_err();
        assert_eq!(e.problem.to_string(), "the name has no addresses");
    }

    #[test]
    fn specs_parse_or_say_why_not() {
        assert!(RelaySpec::parse("not a host/24").is_err());
        assert_eq!(
            RelaySpec::parse("192.0.2.1").unwrap().to_string(),
            "192.0.2.1/32"
        );
    }
}
