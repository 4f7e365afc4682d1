//! The network side: hickory-resolver pointed at `--nameserver`s (or the system
//! configuration), its own cache off because [`super::cache`] is the run's single cache, and
//! every error mapped to a typed [`Outcome`] in this one place.
//!
//! One hickory behaviour needs a second look: a CNAME loop (or a chain longer than its limit
//! of 8) comes back as "no records, NOERROR" without an SOA, which would read as NODATA and
//! turn a broken answer into `no-policy` or `repudiated`. A negative answer without an SOA is
//! therefore checked by following the CNAMEs of the name one question at a time.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, RecordType};

use super::zones::name_text;
use super::{Answer, Data, Failure, MxTarget, Outcome, QType, Source};

#[derive(Clone, Debug)]
pub struct UpstreamConfig {
    /// Empty: the system configuration (`/etc/resolv.conf`).
    pub nameservers: Vec<SocketAddr>,
    pub timeout: Duration,
    /// Tries per question (hickory counts retries, so it is given `attempts - 1`).
    pub attempts: usize,
}

/// CNAME hops followed when checking a negative answer that came without an SOA; hickory
/// itself gives up after 8, so a longer chain is a failure either way.
const MAX_CNAME_HOPS: usize = 16;

pub struct Upstream {
    resolver: TokioResolver,
}

impl Upstream {
    pub fn new(cfg: &UpstreamConfig) -> Result<Upstream, String> {
        let mut opts = ResolverOpts::default();
        opts.timeout = cfg.timeout;
        opts.attempts = cfg.attempts.saturating_sub(1);
        opts.cache_size = 0;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.edns0 = true;
        let builder = if cfg.nameservers.is_empty() {
            TokioResolver::builder_tokio().map_err(|e| format!("system DNS configuration: {e}"))?
        } else {
            let servers = cfg
                .nameservers
                .iter()
                .map(|sa| {
                    let mut ns = NameServerConfig::udp_and_tcp(sa.ip());
                    for c in ns.connections.iter_mut() {
                        c.port = sa.port();
                    }
                    ns
                })
                .collect();
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(servers),
                TokioRuntimeProvider::default(),
            )
        };
        let resolver = builder
            .with_options(opts)
            .build()
            .map_err(|e| format!("DNS resolver: {e}"))?;
        Ok(Upstream { resolver })
    }

    pub async fn query(&self, name: &str, qtype: QType) -> Answer {
        let fqdn = match Name::from_ascii(format!("{name}.")) {
            Ok(n) => n,
            Err(e) => {
                return Answer::failed(
                    Failure::BadAnswer(format!("name {name}: {e}")),
                    Source::Dns,
                );
            }
        };
        let rtype = match qtype {
            QType::Mx => RecordType::MX,
            QType::A => RecordType::A,
            QType::Aaaa => RecordType::AAAA,
        };
        match self.resolver.lookup(fqdn.clone(), rtype).await {
            Ok(lookup) => {
                let mut mx = Vec::new();
                let mut addrs = Vec::new();
                let mut ttl = u32::MAX;
                // CNAME records of the chain may be in the answers too: keep the asked type.
                for rec in lookup.answers() {
                    match (&rec.data, qtype) {
                        (RData::MX(m), QType::Mx) => mx.push(MxTarget {
                            preference: m.preference,
                            exchange: name_text(&m.exchange),
                        }),
                        (RData::A(a), QType::A) => addrs.push(IpAddr::V4(a.0)),
                        (RData::AAAA(a), QType::Aaaa) => {
                            addrs.push(crate::net::canonical(IpAddr::V6(a.0)))
                        }
                        _ => continue,
                    }
                    ttl = ttl.min(rec.ttl);
                }
                let data = match qtype {
                    QType::Mx if !mx.is_empty() => {
                        mx.sort();
                        mx.dedup();
                        Data::Mx(mx)
                    }
                    QType::A | QType::Aaaa if !addrs.is_empty() => {
                        addrs.sort_by(crate::net::cmp_ip);
                        addrs.dedup();
                        Data::Addrs(addrs)
                    }
                    _ => {
                        return Answer {
                            outcome: Outcome::NoData,
                            ttl: 0,
                            source: Source::Dns,
                        };
                    }
                };
                Answer {
                    outcome: Outcome::Found(data),
                    ttl,
                    source: Source::Dns,
                }
            }
            Err(NetError::Dns(DnsError::NoRecordsFound(nr)))
                if nr.response_code == ResponseCode::NoError && nr.soa.is_none() =>
            {
                match self.cname_trouble(&fqdn).await {
                    Some(why) => Answer::failed(Failure::BadAnswer(why), Source::Dns),
                    None => classify(NetError::Dns(DnsError::NoRecordsFound(nr))),
                }
            }
            Err(e) => classify(e),
        }
    }

    /// Follows the CNAMEs starting at `name` by asking for CNAME records (which servers
    /// answer without chasing). Returns why the chain is unusable — it loops, or it is
    /// longer than [`MAX_CNAME_HOPS`] — or `None` when it ends (or `name` is no alias), in
    /// which case the negative answer stands.
    async fn cname_trouble(&self, name: &Name) -> Option<String> {
        let mut chain = vec![name_text(name)];
        let mut current = name.clone();
        for _ in 0..MAX_CNAME_HOPS {
            let lookup = self
                .resolver
                .lookup(current.clone(), RecordType::CNAME)
                .await
                .ok()?;
            let next = lookup.answers().iter().find_map(|r| match &r.data {
                RData::CNAME(c) if r.name == current => Some(c.0.clone()),
                _ => None,
            })?;
            let text = name_text(&next);
            let looped = chain.contains(&text);
            chain.push(text);
            if looped {
                return Some(format!("CNAME loop {}", chain.join(" -> ")));
            }
            current = next;
        }
        Some(format!(
            "CNAME chain longer than {MAX_CNAME_HOPS}: {} -> ...",
            chain[0]
        ))
    }
}

/// Every hickory error becomes an outcome here and nowhere else.
fn classify(error: NetError) -> Answer {
    let failure = match error {
        NetError::Dns(DnsError::NoRecordsFound(nr)) => {
            let outcome = if nr.response_code == ResponseCode::NXDomain {
                Outcome::NxDomain
            } else {
                Outcome::NoData
            };
            return Answer {
                outcome,
                ttl: nr.negative_ttl.unwrap_or(0),
                source: Source::Dns,
            };
        }
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => Failure::ServFail,
        NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused)) => Failure::Refused,
        NetError::Dns(DnsError::ResponseCode(code)) => Failure::Rcode(code.to_string()),
        NetError::Timeout => Failure::Timeout,
        NetError::Io(e) => Failure::Network(e.to_string()),
        NetError::NoConnections | NetError::Busy => Failure::Network(error.to_string()),
        other => Failure::BadAnswer(other.to_string()),
    };
    Answer::failed(failure, Source::Dns)
}
