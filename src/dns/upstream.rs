//! The network side: hickory-resolver pointed at `--nameserver`s (or the system
//! configuration), its own cache off because `dns::cache` is the run's single cache, and
//! every error mapped to a typed [`Outcome`] in this one place.
//!
//! No reply is data unless it answers the question asked: every answer record must be of
//! the asked type (or an alias record, CNAME/DNAME) and owned by the asked name or a name
//! its CNAMEs lead to, else the answer is a failure (`tempfail`), never "no records" —
//! an A question answered with an AAAA record must not read as "this relay has no address".
//!
//! A negative answer without an SOA needs a second look, because broken replies come out of
//! hickory looking like that:
//! - a reply to another question, or with answer records for another owner or of another
//!   type: hickory drops the first over UDP but takes it over its TCP retry, then discards
//!   the foreign records, leaving "no records, NOERROR". The question is therefore asked
//!   once more with `dns::exchange`, where the reply is seen whole: if it answers another
//!   question or holds records of another owner or type, the answer is a failure; if it
//!   matches and is still empty, the negative answer stands — a server such as dnsmasq
//!   leaves the SOA out of a real NODATA.
//! - a CNAME chain that hickory stopped following (it gives up after 8 queries when a server
//!   answers one hop per query), or a loop: the chain is followed here, one question per hop,
//!   up to [`MAX_CNAME_HOPS`] names; the end of the chain answers the question, and a loop,
//!   a longer chain or a hop that fails is a failure. The whole chain is one question of the
//!   policy's budget (docs/design.md §2.5).
//!
//! Names the resolver answers itself (RFC 6761: `localhost`, `invalid`, ...) reach no server,
//! so their negative answers are taken as they are.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    NameServerConfig, ProtocolConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::ProtoError;
use hickory_resolver::proto::op::{Message, Query, ResponseCode};
use hickory_resolver::proto::rr::domain::usage::{
    IN_ADDR_ARPA_127, INVALID, IP6_ARPA_1, LOCALHOST, ONION, ResolverUsage,
};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::proto::serialize::binary::{BinDecodable, BinDecoder};

use super::diagnose::{diagnose, io_failure};
use super::exchange::{self, Exchange, ExchangeError};
use super::gate::{Gate, Slot};
use super::wire::Wire;
use super::zones::{name_text, txt_text};
use super::{Answer, Data, Failure, MxTarget, Outcome, QType, Source};

#[derive(Clone, Debug)]
pub struct UpstreamConfig {
    /// Empty: the system configuration (`/etc/resolv.conf`).
    pub nameservers: Vec<SocketAddr>,
    pub timeout: Duration,
    /// Tries per question (hickory counts retries, so it is given `attempts - 1`).
    pub attempts: usize,
}

/// Aliases one question may pass through (hickory itself gives up after 8 queries when a
/// server answers one hop per query): a longer chain is a failure, never "no records".
pub const MAX_CNAME_HOPS: usize = 16;

pub struct Upstream {
    resolver: TokioResolver,
    /// The lean UDP path every question takes first (`None`: hickory only).
    wire: Option<Wire>,
    /// The same nameservers over TCP only, for questions whose UDP reply was truncated.
    tcp: TokioResolver,
    /// The same nameservers, timeout and tries, for asking a question again by hand.
    recheck: Exchange,
}

/// Standard DNS port, for system nameservers configured without a UDP connection.
const DNS_PORT: u16 = 53;

impl Upstream {
    pub fn new(cfg: &UpstreamConfig) -> Result<Upstream, String> {
        let mut opts = ResolverOpts::default();
        opts.timeout = cfg.timeout;
        opts.attempts = cfg.attempts.saturating_sub(1);
        opts.cache_size = 0;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.edns0 = true;
        // Alias records stay in the answer, so its owners can be checked along the chain.
        opts.preserve_intermediates = true;
        let config = if cfg.nameservers.is_empty() {
            // What `TokioResolver::builder_tokio` reads; its options are replaced below anyway.
            let (config, _) = hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| format!("system DNS configuration: {e}"))?;
            config
        } else {
            ResolverConfig::from_name_servers(
                cfg.nameservers
                    .iter()
                    .map(|&sa| server_config(sa))
                    .collect(),
            )
        };
        let recheck = Exchange {
            servers: config.name_servers().iter().map(udp_address).collect(),
            timeout: cfg.timeout,
            attempts: cfg.attempts,
        };
        let tcp = build(tcp_only(&config), opts.clone())?;
        let resolver = build(config, opts)?;
        let wire = Some(Wire::new(
            recheck.servers.clone(),
            recheck.timeout,
            recheck.attempts,
        ));
        Ok(Upstream {
            resolver,
            wire,
            tcp,
            recheck,
        })
    }

    /// The same resolver without the lean UDP path: every question through hickory-resolver
    /// (the path the lean one replaced, kept for comparison and its own tests).
    pub fn hickory_only(mut self) -> Upstream {
        self.wire = None;
        self
    }

    /// As [`Upstream::query_within`], with a permit of its own.
    pub async fn query(&self, name: &str, qtype: QType) -> Answer {
        let mut own = Slot::new(Gate::new(1), false);
        self.query_within(name, qtype, &mut own).await
    }

    /// `slot` holds a `--concurrency` permit while the question is on the network: the
    /// lean path gives it up as the reply is read ([`Wire::ask`]), and any further exchange
    /// (TCP, a probe, a CNAME followed by hand) takes one again.
    pub async fn query_within(&self, name: &str, qtype: QType, slot: &mut Slot) -> Answer {
        let fqdn = match query_name(name) {
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
            QType::Txt => RecordType::TXT,
            QType::Ptr => RecordType::PTR,
        };
        if let Some(wire) = &self.wire
            && !answered_by_resolver(&fqdn)
        {
            let query = Query::query(fqdn.clone(), rtype);
            match wire.ask(&query, slot).await {
                Ok(reply) if !reply.metadata.truncation => {
                    return self.judge(reply, query, qtype, First::Whole, slot).await;
                }
                // Truncated: asked again over TCP, by hickory-resolver.
                Ok(_) => {
                    slot.hold().await;
                    return self.resolve(&self.tcp, fqdn, rtype, qtype, slot).await;
                }
                Err(e) => {
                    slot.hold().await;
                    return self.unanswered(e, query).await;
                }
            }
        }
        slot.hold().await;
        self.resolve(&self.resolver, fqdn, rtype, qtype, slot).await
    }

    /// `fqdn`'s records of type `rtype` as `resolver` (hickory) finds them, checked.
    async fn resolve(
        &self,
        resolver: &TokioResolver,
        fqdn: Name,
        rtype: RecordType,
        qtype: QType,
        slot: &mut Slot,
    ) -> Answer {
        match resolver.lookup(fqdn.clone(), rtype).await {
            Ok(lookup) => {
                let answers = lookup.answers();
                let checked = exchange::stray_owner(answers, &fqdn)
                    .or_else(|| exchange::other_type(answers, rtype))
                    .or_else(|| chain_too_long(answers, &fqdn));
                if let Some(why) = checked {
                    return Answer::failed(Failure::BadAnswer(why), Source::Dns);
                }
                // hickory calls a reply positive when a record of the type sits in any
                // section; only the answer section is an answer.
                found(answers, qtype).unwrap_or_else(|| {
                    Answer::failed(
                        Failure::BadAnswer("no records of the asked type in the answer".into()),
                        Source::Dns,
                    )
                })
            }
            Err(NetError::Dns(DnsError::NoRecordsFound(nr)))
                if nr.soa.is_none() && !answered_by_resolver(&fqdn) =>
            {
                self.recheck_negative(Query::query(fqdn, rtype), qtype, slot)
                    .await
            }
            Err(e) => self.failed(e, Query::query(fqdn, rtype)).await,
        }
    }

    /// The answer for a lookup hickory failed: its error classified, then diagnosed.
    async fn failed(&self, error: NetError, query: Query) -> Answer {
        self.diagnosed(classify(error), query).await
    }

    /// The answer for a question the lean path asked and no reply came back to: classified
    /// and diagnosed as hickory's own errors are.
    async fn unanswered(&self, error: ExchangeError, query: Query) -> Answer {
        self.diagnosed(Answer::failed(exchange_failure(error), Source::Dns), query)
            .await
    }

    /// `answer`, unless it is a failure that does not say what went wrong on the network (a
    /// timeout, "no connections"): then the kind the kernel reports to a probe
    /// ([`super::diagnose`]).
    async fn diagnosed(&self, answer: Answer, query: Query) -> Answer {
        let hickory = match &answer.outcome {
            Outcome::Failed(f @ (Failure::Timeout | Failure::Network(_))) => f.clone(),
            _ => return answer,
        };
        match diagnose(&self.recheck.servers, &query, self.recheck.timeout).await {
            // A reply to the probe explains a timeout (a slow server), not a socket error.
            Some(Failure::Slow) if hickory != Failure::Timeout => answer,
            Some(found) => Answer::failed(found, Source::Dns),
            None => answer,
        }
    }

    /// The nameservers asked, as addresses (for naming them when they fail).
    pub fn servers(&self) -> &[SocketAddr] {
        &self.recheck.servers
    }

    /// A negative answer came without an SOA, so it may have been made of a foreign reply or
    /// be where hickory stopped following a chain: asks `query` again by hand and judges
    /// that reply (see the module doc).
    async fn recheck_negative(&self, query: Query, qtype: QType, slot: &mut Slot) -> Answer {
        match self.recheck.ask(&query).await {
            Ok(reply) => self.judge(reply, query, qtype, First::Recheck, slot).await,
            Err(e) => Answer::failed(exchange_failure(e), Source::Dns),
        }
    }

    /// The answer `reply` gives to `query`, seen whole: it must answer that question with
    /// records of its owner (or of the names its CNAMEs lead to) and of its type; a CNAME
    /// chain that ends without data is followed one question at a time, by hand.
    async fn judge(
        &self,
        mut reply: Message,
        query: Query,
        qtype: QType,
        first: First,
        slot: &mut Slot,
    ) -> Answer {
        let rtype = query.query_type();
        let mut chain = vec![query.name().clone()];
        let mut current = query;
        loop {
            if let Some(why) = exchange::foreign(&reply, &current)
                .or_else(|| exchange::other_type(&reply.answers, rtype))
                .or_else(|| chain_too_long(&reply.answers, current.name()))
            {
                return Answer::failed(Failure::BadAnswer(why), Source::Dns);
            }
            let code = reply.metadata.response_code;
            if code != ResponseCode::NoError && code != ResponseCode::NXDomain {
                return Answer::failed(rcode_failure(code), Source::Dns);
            }
            if let Some(answer) = found(&reply.answers, qtype) {
                if chain.len() == 1 && first == First::Recheck {
                    // The first reply was not this server's answer: which one to believe
                    // is unknown.
                    return Answer::failed(
                        Failure::BadAnswer("records in one reply, none in another".to_owned()),
                        Source::Dns,
                    );
                }
                return answer;
            }
            // A negative answer with its SOA is the server's word for the end of the chain.
            if first == First::Whole
                && let Some(ttl) = negative_ttl(&reply)
            {
                return negative(code, ttl);
            }
            let hops = exchange::cname_hops(&reply.answers, current.name());
            if hops.is_empty() {
                return negative(code, 0);
            }
            for hop in hops {
                let looped = chain.contains(&hop);
                chain.push(hop);
                if looped {
                    let names: Vec<String> = chain.iter().map(name_text).collect();
                    let why = format!("CNAME loop {}", names.join(" -> "));
                    return Answer::failed(Failure::BadAnswer(why), Source::Dns);
                }
                if chain.len() > MAX_CNAME_HOPS + 1 {
                    return Answer::failed(
                        Failure::BadAnswer(too_long(&chain[0], &chain[1])),
                        Source::Dns,
                    );
                }
            }
            current = Query::query(chain[chain.len() - 1].clone(), rtype);
            slot.hold().await;
            reply = match self.recheck.ask(&current).await {
                Ok(reply) => reply,
                Err(e) => return Answer::failed(exchange_failure(e), Source::Dns),
            };
        }
    }
}

/// Where the first reply [`Upstream::judge`] sees comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum First {
    /// Asked again by hand after hickory read "no records" without an SOA: records here
    /// contradict that first reply.
    Recheck,
    /// The lean path's own reply ([`super::wire`]): the only one there is.
    Whole,
}

/// How long a negative answer may be kept (RFC 2308 §5: the SOA's TTL, at most its
/// MINIMUM field), or `None` when the reply carries no SOA.
fn negative_ttl(reply: &Message) -> Option<u32> {
    reply.authorities.iter().find_map(|r| match &r.data {
        RData::SOA(soa) => Some(r.ttl.min(soa.minimum)),
        _ => None,
    })
}

/// Why the CNAMEs in `answers`, followed from `qname`, are unusable as one answer: longer
/// than [`MAX_CNAME_HOPS`] (a loop within one reply never reaches data, so hickory does not
/// call it positive).
fn chain_too_long(answers: &[Record], qname: &Name) -> Option<String> {
    let hops = exchange::cname_hops(answers, qname);
    (hops.len() > MAX_CNAME_HOPS).then(|| too_long(qname, &hops[0]))
}

fn too_long(first: &Name, second: &Name) -> String {
    format!(
        "CNAME chain longer than {MAX_CNAME_HOPS}: {} -> {} -> ...",
        name_text(first),
        name_text(second)
    )
}

/// The records of the asked type in `answers` as a positive answer (the smallest TTL of
/// the records and the aliases that led to them), or `None` when there are none. Owners
/// and types are checked before.
fn found(answers: &[Record], qtype: QType) -> Option<Answer> {
    let mut mx = Vec::new();
    let mut addrs = Vec::new();
    let mut texts = Vec::new();
    let mut ttl = u32::MAX;
    for rec in answers {
        match (&rec.data, qtype) {
            (RData::MX(m), QType::Mx) => mx.push(MxTarget {
                preference: m.preference,
                exchange: name_text(&m.exchange),
            }),
            (RData::A(a), QType::A) => addrs.push(IpAddr::V4(a.0)),
            (RData::AAAA(a), QType::Aaaa) => addrs.push(crate::net::canonical(IpAddr::V6(a.0))),
            (RData::TXT(t), QType::Txt) => texts.push(txt_text(&t.txt_data)),
            (RData::PTR(p), QType::Ptr) => texts.push(name_text(&p.0)),
            (RData::CNAME(_), _) => {}
            _ => continue,
        }
        ttl = ttl.min(rec.ttl);
    }
    let data = match qtype {
        QType::Mx if !mx.is_empty() => {
            mx.sort();
            mx.dedup();
            Data::Mx(mx.into())
        }
        QType::A | QType::Aaaa if !addrs.is_empty() => {
            addrs.sort_by(crate::net::cmp_ip);
            addrs.dedup();
            Data::Addrs(addrs)
        }
        // TXT keeps the server's order and repeats: SPF counts its records.
        QType::Txt if !texts.is_empty() => Data::Txt(texts),
        QType::Ptr if !texts.is_empty() => {
            texts.sort();
            texts.dedup();
            Data::Ptr(texts)
        }
        _ => return None,
    };
    Some(Answer {
        outcome: Outcome::Found(data),
        ttl,
        source: Source::Dns,
    })
}

fn build(config: ResolverConfig, opts: ResolverOpts) -> Result<TokioResolver, String> {
    TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
        .with_options(opts)
        .build()
        .map_err(|e| format!("DNS resolver: {e}"))
}

/// `config` with each nameserver's TCP connections only.
fn tcp_only(config: &ResolverConfig) -> ResolverConfig {
    let servers = config.name_servers().iter().map(|server| {
        let mut server = server.clone();
        server
            .connections
            .retain(|c| matches!(c.protocol, ProtocolConfig::Tcp));
        server
    });
    ResolverConfig::from_name_servers(servers.collect())
}

/// A `--nameserver` as hickory wants it: UDP and TCP on the address's port.
fn server_config(address: SocketAddr) -> NameServerConfig {
    let mut server = NameServerConfig::udp_and_tcp(address.ip());
    for connection in server.connections.iter_mut() {
        connection.port = address.port();
    }
    server
}

/// Where hickory sends UDP queries for `server` (TCP goes to the same port here).
fn udp_address(server: &NameServerConfig) -> SocketAddr {
    let port = server
        .connections
        .iter()
        .find(|c| matches!(c.protocol, ProtocolConfig::Udp))
        .map_or(DNS_PORT, |c| c.port);
    SocketAddr::new(server.ip, port)
}

/// Names under the RFC 6761 zones that hickory answers without asking any server.
fn answered_by_resolver(name: &Name) -> bool {
    [
        &*LOCALHOST,
        &*IN_ADDR_ARPA_127,
        &*IP6_ARPA_1,
        &*INVALID,
        &*ONION,
    ]
    .iter()
    .any(|zone| {
        zone.zone_of(name)
            && matches!(
                zone.resolver(),
                ResolverUsage::Loopback | ResolverUsage::NxDomain
            )
    })
}

/// Every hickory error becomes an outcome here and nowhere else.
fn classify(error: NetError) -> Answer {
    let failure = match error {
        NetError::Dns(DnsError::NoRecordsFound(nr)) => {
            return negative(nr.response_code, nr.negative_ttl.unwrap_or(0));
        }
        NetError::Dns(DnsError::ResponseCode(code)) => rcode_failure(code),
        NetError::Timeout => Failure::Timeout,
        NetError::Io(e) => io_failure(&e),
        NetError::NoConnections | NetError::Busy => Failure::Network(error.to_string()),
        other => Failure::BadAnswer(other.to_string()),
    };
    Answer::failed(failure, Source::Dns)
}

/// A negative answer: NXDOMAIN, or NODATA for any other code it came with.
fn negative(code: ResponseCode, ttl: u32) -> Answer {
    let outcome = if code == ResponseCode::NXDomain {
        Outcome::NxDomain
    } else {
        Outcome::NoData
    };
    Answer {
        outcome,
        ttl,
        source: Source::Dns,
    }
}

/// An error response code.
fn rcode_failure(code: ResponseCode) -> Failure {
    match code {
        ResponseCode::ServFail => Failure::ServFail,
        ResponseCode::Refused => Failure::Refused,
        code => Failure::Rcode(code.to_string()),
    }
}

/// A hand-made exchange that brought no reply to judge.
fn exchange_failure(error: ExchangeError) -> Failure {
    match error {
        ExchangeError::Timeout => Failure::Timeout,
        ExchangeError::Network(why) => Failure::Network(why),
        ExchangeError::Unusable(why) => Failure::BadAnswer(why),
    }
}

/// `name` as the fully qualified name asked for, label by label as raw bytes: SPF names may
/// hold any visible character (`:`, `/`, `=` from macros), which `Name::from_ascii` refuses
/// but DNS carries. A name whose labels all fit is decoded from its wire form, half the
/// instructions of `Name::from_labels` (which collects and partitions the labels, and builds
/// a new name per label: 2,000 a question, callgrind); any other is left to `from_labels`,
/// for its error.
fn query_name(name: &str) -> Result<Name, ProtoError> {
    let mut wire = [0u8; Name::MAX_LENGTH];
    let mut len = 0;
    for label in name.split('.').map(str::as_bytes) {
        let end = len + 1 + label.len();
        // The root's zero byte must fit after the label too.
        if label.is_empty() || label.len() > 63 || end >= wire.len() {
            return Name::from_labels(name.split('.').map(str::as_bytes));
        }
        wire[len] = label.len() as u8;
        wire[len + 1..end].copy_from_slice(label);
        len = end;
    }
    // The rest of `wire` is zeros: the root label ends the name.
    Ok(Name::read(&mut BinDecoder::new(&wire[..=len]))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_names_are_those_from_labels_gives() {
        let long_label = "a".repeat(63);
        // 3 x 64 + (1 + n) + 1 bytes with the root: up to 255 for n = 61, too long beyond.
        let near_limit: Vec<String> = (59..=63)
            .map(|n| [long_label.as_str(); 3].join(".") + "." + &"b".repeat(n))
            .collect();
        let names = [
            "mail-from.example.org",
            "a",
            "Mixed.Case.Example",
            "_spf.example.com",
            "x:y/z=w.example",
            "1.2.0.192.in-addr.arpa",
            long_label.as_str(),
            "",
            "a..b",
            "trailing.",
            ".leading",
            &format!("{}b.example", long_label),
        ];
        let mut outcomes = Vec::new();
        for name in names
            .iter()
            .copied()
            .chain(near_limit.iter().map(String::as_str))
        {
            outcomes.push(query_name(name).is_ok());
            let reference = Name::from_labels(name.split('.').map(str::as_bytes));
            match (query_name(name), reference) {
                (Ok(ours), Ok(theirs)) => {
                    // Byte for byte, case included (`Name`'s equality ignores case).
                    let labels = |n: &Name| n.iter().map(<[u8]>::to_vec).collect::<Vec<_>>();
                    assert_eq!(labels(&ours), labels(&theirs), "{name:?}");
                    assert_eq!(ours.to_string(), theirs.to_string(), "{name:?}");
                    assert_eq!(ours.is_fqdn(), theirs.is_fqdn(), "{name:?}");
                }
                (Err(ours), Err(theirs)) => {
                    assert_eq!(ours.to_string(), theirs.to_string(), "{name:?}")
                }
                (ours, theirs) => panic!("{name:?}: {ours:?} against {theirs:?}"),
            }
        }
        // the boundary was met: the last two of the near-limit names are too long
        assert_eq!(
            outcomes[outcomes.len() - 5..],
            [true, true, true, false, false]
        );
    }
}
