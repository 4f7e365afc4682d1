//! In-process authoritative DNS server for integration tests (hickory-server 0.26.3).
//!
//! Why: DNS-dependent code must be tested against real UDP/TCP traffic with exact,
//! reproducible answers and failures, without touching the network or the system resolver.
//! The server listens on 127.0.0.1 only, UDP and TCP on the same ephemeral port, serves
//! zones given as master-file text, counts every query and the most it handled at once, and
//! can inject faults per name (SERVFAIL, REFUSED, no answer, UDP truncation, truncation on
//! every transport, delays, answers for the wrong owner or the wrong question, a NODATA
//! without its SOA).
//!
//! Use from an integration test module (`tests/integration/foo.rs`):
//! ```ignore
//! use crate::support::dns_server::{Faults, TestDns};
//!
//! #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
//! async fn t() {
//!     let dns = TestDns::start(&[("test.", ZONE_TEXT)], Faults::default().servfail("bad.test")).await;
//!     // point the code under test at dns.addr ("127.0.0.1:PORT") ...
//!     dns.stop().await;
//! }
//! ```
//! (`#[path]` rather than `tests/integration/support/mod.rs`, so every test binary pulls in only this file.)
//!
//! Names in fault rules and in `queries_for` are normalised: ASCII-lowercased, trailing dot
//! removed (`"MX.Test."` == `"mx.test"`). A rule matches that exact owner name only, not
//! subdomains. Record types are mnemonics (`"A"`, `"AAAA"`, `"MX"`, ...), case-insensitive.
//!
//! How hickory-resolver 0.26.3 reports each fault (measured in `tests/dns_server_smoke.rs`):
//! - servfail    → `NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail))`
//! - refused     → `NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused))`
//!   (both are retried: `attempts + 1` queries reach the server, all over UDP)
//! - blackhole   → `NetError::Timeout` after `attempts + 1` UDP tries (no TCP fallback)
//! - truncate_udp→ success: one UDP query answered with TC=1 and no records, then one TCP query
//! - wrong_answer→ `NetError::Dns(DnsError::NoRecordsFound(NoRecords { response_code: NoError, .. }))`:
//!   the resolver drops answer records whose owner is not the queried name (it treats the reply
//!   as NODATA). See [`Faults::wrong_answer`] for why not a wrong message ID.
//! - wrong_question, truncate_always, nodata_without_soa: see their builder methods
//!   (measured in `tests/dns_verdicts.rs` and `tests/dns_faults.rs`).

// Each test binary compiles this module and uses only part of it; without this, every binary
// would warn (and `clippy -D warnings` fail) about the helpers it does not call.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hickory_proto::op::Query;
use hickory_proto::rr::rdata::{A, AAAA, MX, TXT};
use hickory_proto::rr::{LowerName, Name, RData, Record, RecordSet, RecordType, RrKey};
use hickory_proto::serialize::binary::{BinDecoder, BinEncodable};
use hickory_proto::serialize::txt::Parser;
use hickory_server::Server;
use hickory_server::net::runtime::{Time, TokioRuntimeProvider};
use hickory_server::net::xfer::Protocol;
use hickory_server::proto::op::{Header, HeaderCounts, Metadata, ResponseCode};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{
    AxfrPolicy, Catalog, MessageResponseBuilder, Queries, ZoneType,
};
use tokio::net::{TcpListener, UdpSocket};

/// Idle timeout for server-side TCP connections.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Per-connection buffer of outgoing TCP responses.
const TCP_RESPONSE_BUFFER: usize = 64;
/// Bind attempts when the TCP side of the ephemeral UDP port is already taken.
const BIND_ATTEMPTS: usize = 20;
/// Label prepended to the query name to build the owner of a [`Faults::wrong_answer`] record.
pub const WRONG_ANSWER_LABEL: &str = "wrong-answer";
/// Label prepended to the query name in the question of a [`Faults::wrong_question`] reply.
pub const WRONG_QUESTION_LABEL: &str = "wrong-question";

/// A fault to inject for queries matching a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with RCODE SERVFAIL and no records.
    ServFail,
    /// Answer with RCODE REFUSED and no records.
    Refused,
    /// Send nothing: the client times out.
    Blackhole,
    /// Over UDP answer with TC=1 and no records; over TCP serve the real answer.
    TruncateUdp,
    /// Wait this long, then go on (with the next matching fault, or the real answer).
    Delay(Duration),
    /// Answer NOERROR with records owned by `wrong-answer.<qname>` instead of `<qname>`.
    WrongAnswer,
    /// Answer with the right ID but the question section naming `wrong-question.<qname>`.
    WrongQuestion,
    /// Answer with TC=1 and no records over UDP and over TCP alike.
    TruncateAlways,
    /// Answer NOERROR with no records in any section: a NODATA without the SOA.
    NodataWithoutSoa,
    /// Answer with the CNAME records at the name and nothing else, so a client must ask for
    /// each hop of a chain itself (as a server that does not chase aliases answers).
    CnameHopOnly,
    /// Answer NOERROR with records of this other type, owned by the name, and no SOA.
    OtherType(RecordType),
}

#[derive(Clone, Debug)]
struct Rule {
    name: String,
    rtype: Option<RecordType>,
    fault: Fault,
}

/// Fault rules, keyed by normalised owner name and optionally record type. Builder style:
/// `Faults::default().servfail("a.test").delay("b.test", Duration::from_millis(50))`.
///
/// Per query: all matching `Delay`s plus `delay_all` are added up and waited for first; then
/// the first matching non-delay rule (in insertion order) decides the reply; with none, the
/// zone data answers.
#[derive(Default, Clone, Debug)]
pub struct Faults {
    rules: Vec<Rule>,
    delay_all: Duration,
}

impl Faults {
    /// Adds a rule. `rtype = None` applies it to every record type of `name`.
    /// Panics on an unknown record type mnemonic.
    pub fn with(mut self, name: &str, rtype: Option<&str>, fault: Fault) -> Self {
        let rtype = rtype.map(parse_rtype);
        self.rules.push(Rule {
            name: normalise(name),
            rtype,
            fault,
        });
        self
    }

    /// RCODE SERVFAIL for every type of `name`.
    pub fn servfail(self, name: &str) -> Self {
        self.with(name, None, Fault::ServFail)
    }

    /// RCODE SERVFAIL for `rtype` queries of `name` only (other types are answered normally).
    pub fn servfail_type(self, name: &str, rtype: &str) -> Self {
        self.with(name, Some(rtype), Fault::ServFail)
    }

    /// RCODE REFUSED for every type of `name`.
    pub fn refused(self, name: &str) -> Self {
        self.with(name, None, Fault::Refused)
    }

    /// Never answer queries for `name` (UDP or TCP): the client times out.
    pub fn blackhole(self, name: &str) -> Self {
        self.with(name, None, Fault::Blackhole)
    }

    /// Over UDP answer with TC=1 and no records, so the client retries over TCP, where the
    /// real answer is served.
    pub fn truncate_udp(self, name: &str) -> Self {
        self.with(name, None, Fault::TruncateUdp)
    }

    /// Delay every answer for `name` by `d` (adds to other matching delays).
    pub fn delay(self, name: &str, d: Duration) -> Self {
        self.with(name, None, Fault::Delay(d))
    }

    /// Delay every answer of the server by `d` (adds to per-name delays).
    pub fn delay_all(mut self, d: Duration) -> Self {
        self.delay_all += d;
        self
    }

    /// Answer NOERROR, with the right message ID and question, but with the answer records
    /// owned by `wrong-answer.<qname>` instead of `<qname>`: the real RRset of the queried type
    /// renamed if the zone has one, else a synthetic one (A 192.0.2.66, AAAA 2001:db8::66,
    /// MX `10 wrong-answer.invalid.`, TXT "wrong-answer"; other types: empty answer).
    /// hickory-resolver discards records whose owner does not match the question, so the
    /// lookup fails with `NoRecordsFound` (`response_code: NoError`), i.e. looks like NODATA.
    ///
    /// Not a wrong message ID: hickory-server's response path has
    /// `debug_assert_eq!(request id, response id)`, which panics the serving task in debug
    /// builds; and a mismatching ID/question is silently ignored by the client (it keeps
    /// waiting), which is indistinguishable from [`Faults::blackhole`].
    pub fn wrong_answer(self, name: &str) -> Self {
        self.with(name, None, Fault::WrongAnswer)
    }

    /// Answer with the right message ID and a real-looking NOERROR reply whose question
    /// section names `wrong-question.<qname>` (answers owned by that name too): a reply to
    /// some other question. The resolver must not take it for the answer to this one.
    /// hickory-resolver 0.26.3 drops it over UDP (the try times out) but takes it over a TCP
    /// connection it already has, reading it as NODATA without an SOA (measured in
    /// `tests/dns_verdicts.rs`).
    pub fn wrong_question(self, name: &str) -> Self {
        self.with(name, None, Fault::WrongQuestion)
    }

    /// Set TC=1 with no records on every reply for `name`, over TCP too, so the retry over
    /// TCP cannot help: the answer never arrives whole.
    pub fn truncate_always(self, name: &str) -> Self {
        self.with(name, None, Fault::TruncateAlways)
    }

    /// Answer NOERROR, right ID and question, and nothing else: no records and no SOA in the
    /// authority section, as some servers (dnsmasq, some forwarders) send a real NODATA.
    /// Meant for a name without records of the asked type, so the reply is true, only bare.
    pub fn nodata_without_soa(self, name: &str) -> Self {
        self.with(name, None, Fault::NodataWithoutSoa)
    }

    /// Answer every question for `name` with its CNAME records alone, never the records the
    /// alias leads to: a chain through such names arrives one hop per query.
    pub fn cname_hop_only(self, name: &str) -> Self {
        self.with(name, None, Fault::CnameHopOnly)
    }

    /// Answer every question for `name` (NOERROR, no SOA) with records of `rtype` instead
    /// of the asked type: the zone's RRset of that type if it has one, else a synthetic one
    /// (as for [`Faults::wrong_answer`]), owned by the name itself.
    pub fn other_type(self, name: &str, rtype: &str) -> Self {
        let fault = Fault::OtherType(parse_rtype(rtype));
        self.with(name, None, fault)
    }

    /// Never answer `rtype` queries of `name` (other types are answered normally).
    pub fn blackhole_type(self, name: &str, rtype: &str) -> Self {
        self.with(name, Some(rtype), Fault::Blackhole)
    }

    /// Total delay and the deciding fault for one query.
    fn plan(&self, name: &str, rtype: RecordType) -> (Duration, Option<Fault>) {
        let mut delay = self.delay_all;
        let mut action = None;
        for rule in &self.rules {
            if rule.name != name || rule.rtype.is_some_and(|t| t != rtype) {
                continue;
            }
            match rule.fault {
                Fault::Delay(d) => delay += d,
                f => {
                    action.get_or_insert(f);
                }
            }
        }
        (delay, action)
    }
}

/// `"MX.Test."` → `"mx.test"`; the root `"."` → `""`.
fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn parse_rtype(rtype: &str) -> RecordType {
    RecordType::from_str(&rtype.to_ascii_uppercase())
        .unwrap_or_else(|e| panic!("unknown record type {rtype:?}: {e}"))
}

#[derive(Default)]
struct Stats {
    udp: AtomicU64,
    tcp: AtomicU64,
    /// (normalised name, record type) → count
    per_query: Mutex<HashMap<(String, RecordType), u64>>,
    /// Queries being handled right now (received, reply not yet sent or given up).
    in_flight: AtomicU64,
    /// The most ever handled at once.
    max_in_flight: AtomicU64,
}

/// Counts one query as in flight from creation until drop, whatever path the handler takes.
struct InFlight<'a>(&'a Stats);

impl<'a> InFlight<'a> {
    fn enter(stats: &'a Stats) -> Self {
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(stats)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running server. Dropping it also stops the server (the task set is aborted); `stop`
/// additionally waits for the listeners to close.
pub struct TestDns {
    /// `127.0.0.1:PORT`, the same port for UDP and TCP.
    pub addr: SocketAddr,
    server: Server<FaultyHandler>,
    stats: Arc<Stats>,
}

impl TestDns {
    /// Starts on 127.0.0.1, ephemeral port, UDP and TCP on the same port. Serves `zones`
    /// (origin, master-file text); each zone needs an SOA and a TTL (`$TTL` or per record).
    /// Must be called inside a tokio multi-thread runtime. Panics on bad zone text or when no
    /// common UDP/TCP port is found after 20 tries.
    pub async fn start(zones: &[(&str, &str)], faults: Faults) -> TestDns {
        TestDns::start_with_records(zones, Vec::new(), faults).await
    }

    /// As [`TestDns::start`], plus `extra` records added to the zone whose origin holds
    /// them: for names the master-file parser refuses (`foo:bar/baz.example`), which DNS
    /// itself carries.
    pub async fn start_with_records(
        zones: &[(&str, &str)],
        extra: Vec<Record>,
        faults: Faults,
    ) -> TestDns {
        let mut catalog = Catalog::new();
        let mut all_records = BTreeMap::new();
        for (origin, text) in zones {
            let origin = Name::from_str(origin)
                .unwrap_or_else(|e| panic!("bad zone origin {origin:?}: {e}"));
            let (origin, mut records) = Parser::new(*text, None, Some(origin.clone()))
                .parse()
                .unwrap_or_else(|e| panic!("zone {origin} does not parse: {e}"));
            for record in extra.iter().filter(|r| origin.zone_of(&r.name)) {
                let key = RrKey::new(LowerName::from(&record.name), record.record_type());
                records
                    .entry(key)
                    .or_insert_with(|| {
                        RecordSet::with_ttl(record.name.clone(), record.record_type(), record.ttl)
                    })
                    .insert(record.clone(), 0);
            }
            all_records.extend(records.iter().map(|(k, v)| (k.clone(), v.clone())));
            let zone = InMemoryZoneHandler::<TokioRuntimeProvider>::new(
                origin.clone(),
                records,
                ZoneType::Primary,
                AxfrPolicy::Deny,
            )
            .unwrap_or_else(|e| panic!("zone {origin} rejected: {e}"));
            catalog.upsert(LowerName::from(&origin), vec![Arc::new(zone)]);
        }

        let (udp, tcp) = bind_pair().await;
        let addr = udp.local_addr().expect("udp local_addr");
        let stats = Arc::new(Stats::default());
        let handler = FaultyHandler {
            catalog,
            faults,
            records: all_records,
            stats: stats.clone(),
        };
        let mut server = Server::new(handler);
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
        TestDns {
            addr,
            server,
            stats,
        }
    }

    /// Total queries received (UDP + TCP), including blackholed and faulted ones.
    pub fn queries(&self) -> u64 {
        self.udp_queries() + self.tcp_queries()
    }

    pub fn udp_queries(&self) -> u64 {
        self.stats.udp.load(Ordering::SeqCst)
    }

    pub fn tcp_queries(&self) -> u64 {
        self.stats.tcp.load(Ordering::SeqCst)
    }

    /// Queries received for (`name`, `rtype`) over both transports; `name` is normalised
    /// (case, trailing dot), `rtype` is a mnemonic such as `"MX"`. Panics on an unknown type.
    pub fn queries_for(&self, name: &str, rtype: &str) -> u64 {
        let key = (normalise(name), parse_rtype(rtype));
        let map = self.stats.per_query.lock().unwrap();
        map.get(&key).copied().unwrap_or(0)
    }

    /// Every (name, type) asked at least once, with its count, sorted (names normalised,
    /// types as mnemonics).
    pub fn question_counts(&self) -> Vec<(String, String, u64)> {
        let map = self.stats.per_query.lock().unwrap();
        let mut out: Vec<_> = map
            .iter()
            .map(|((name, t), n)| (name.clone(), t.to_string(), *n))
            .collect();
        out.sort();
        out
    }

    /// The most queries the server was handling at the same moment (a query counts from its
    /// arrival until its reply is sent, including any injected delay).
    pub fn max_in_flight(&self) -> u64 {
        self.stats.max_in_flight.load(Ordering::SeqCst)
    }

    /// Sets all counters back to zero.
    pub fn reset_counts(&self) {
        self.stats.max_in_flight.store(0, Ordering::SeqCst);
        self.stats.udp.store(0, Ordering::SeqCst);
        self.stats.tcp.store(0, Ordering::SeqCst);
        self.stats.per_query.lock().unwrap().clear();
    }

    /// Stops accepting queries and waits for the listener tasks to end.
    pub async fn stop(mut self) {
        // Pending (delayed/blackholed) requests are aborted, not awaited.
        let _ = self.server.shutdown_gracefully().await;
    }
}

/// Binds UDP on 127.0.0.1:0, then TCP on the same port; retries if the TCP port is taken.
async fn bind_pair() -> (UdpSocket, TcpListener) {
    let mut last_err = None;
    for _ in 0..BIND_ATTEMPTS {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind UDP 127.0.0.1:0");
        let addr = udp.local_addr().expect("udp local_addr");
        match TcpListener::bind(addr).await {
            Ok(tcp) => return (udp, tcp),
            Err(e) => last_err = Some(e),
        }
    }
    panic!("no free UDP+TCP port pair on 127.0.0.1 after {BIND_ATTEMPTS} tries: {last_err:?}");
}

/// Wraps the zone catalog: counts queries, then applies the fault plan.
struct FaultyHandler {
    catalog: Catalog,
    faults: Faults,
    /// All zones' records, for building [`Fault::WrongAnswer`] replies.
    records: BTreeMap<RrKey, RecordSet>,
    stats: Arc<Stats>,
}

impl FaultyHandler {
    fn count(&self, protocol: Protocol, name: &str, rtype: RecordType) {
        match protocol {
            Protocol::Tcp => self.stats.tcp.fetch_add(1, Ordering::SeqCst),
            _ => self.stats.udp.fetch_add(1, Ordering::SeqCst),
        };
        let mut map = self.stats.per_query.lock().unwrap();
        *map.entry((name.to_owned(), rtype)).or_insert(0) += 1;
    }

    /// Answer records for [`Fault::WrongAnswer`]: owned by `wrong-answer.<qname>`.
    fn wrong_records(&self, qname: &LowerName, rtype: RecordType) -> Vec<Record> {
        let owner = Name::from(qname.clone())
            .prepend_label(WRONG_ANSWER_LABEL)
            .expect("wrong-answer owner name");
        self.records_as(qname, rtype, owner)
    }

    /// The zone's `rtype` records at `qname` (or a synthetic record of that type when it has
    /// none), renamed to `owner`.
    fn records_as(&self, qname: &LowerName, rtype: RecordType, owner: Name) -> Vec<Record> {
        let qname = Name::from(qname.clone());
        let key = RrKey::new(LowerName::from(&qname), rtype);
        if let Some(rrset) = self.records.get(&key) {
            return rrset
                .records_without_rrsigs()
                .map(|r| {
                    let mut r = r.clone();
                    r.name = owner.clone();
                    r
                })
                .collect();
        }
        let rdata = match rtype {
            RecordType::A => RData::A(A(Ipv4Addr::new(192, 0, 2, 66))),
            RecordType::AAAA => {
                RData::AAAA(AAAA(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x66)))
            }
            RecordType::MX => RData::MX(MX::new(
                10,
                Name::from_ascii("wrong-answer.invalid.").expect("name"),
            )),
            RecordType::TXT => RData::TXT(TXT::new(vec![WRONG_ANSWER_LABEL.to_owned()])),
            _ => return Vec::new(),
        };
        vec![Record::from_rdata(owner, 300, rdata)]
    }
}

/// A question section holding one question, (`name`, `rtype`, IN), as hickory-server's
/// response builder takes it (its `Queries` can only be read from wire bytes).
fn queries_for_name(name: &Name, rtype: RecordType) -> Queries {
    let bytes = Query::query(name.clone(), rtype)
        .to_bytes()
        .expect("encode question");
    Queries::read(&mut BinDecoder::new(&bytes), 1).expect("decode question")
}

/// What the server reports (to itself) when sending failed or nothing was sent.
fn info_without_send(request: &Request, code: ResponseCode) -> ResponseInfo {
    let mut metadata = Metadata::response_from_request(&request.metadata);
    metadata.response_code = code;
    ResponseInfo::from(Header {
        metadata,
        counts: HeaderCounts::default(),
    })
}

/// An authoritative NOERROR reply to `request` holding `answers` and nothing else.
async fn send_answers<R: ResponseHandler>(
    request: &Request,
    answers: &[Record],
    response_handle: &mut R,
) -> Result<ResponseInfo, hickory_server::net::NetError> {
    let mut md = Metadata::response_from_request(&request.metadata);
    md.authoritative = true;
    let resp = MessageResponseBuilder::from_message_request(request).build(
        md,
        answers.iter(),
        std::iter::empty(),
        std::iter::empty(),
        std::iter::empty(),
    );
    response_handle.send_response(resp).await
}

#[async_trait]
impl RequestHandler for FaultyHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        // Not exactly one question (never sent by hickory-resolver): let the catalog reply.
        let Ok(info) = request.request_info() else {
            return self
                .catalog
                .handle_request::<R, T>(request, response_handle)
                .await;
        };
        let qname = info.query.name().clone();
        let qtype = info.query.query_type();
        let protocol = request.protocol();
        let name = normalise(&qname.to_string());
        self.count(protocol, &name, qtype);
        let in_flight = InFlight::enter(&self.stats);

        let (delay, fault) = self.faults.plan(&name, qtype);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        // A question stops counting before its answer leaves: a client that reuses its slot
        // the moment the answer arrives (the lean UDP path does, in microseconds) must not
        // be seen overlapping a handler still unwinding after its send.
        drop(in_flight);

        let sent = match fault {
            None | Some(Fault::Delay(_)) => {
                return self
                    .catalog
                    .handle_request::<R, T>(request, response_handle)
                    .await;
            }
            Some(Fault::TruncateUdp) if protocol != Protocol::Udp => {
                return self
                    .catalog
                    .handle_request::<R, T>(request, response_handle)
                    .await;
            }
            Some(Fault::Blackhole) => {
                return info_without_send(request, ResponseCode::NoError);
            }
            Some(Fault::ServFail) => {
                let resp = MessageResponseBuilder::from_message_request(request)
                    .error_msg(&request.metadata, ResponseCode::ServFail);
                response_handle.send_response(resp).await
            }
            Some(Fault::Refused) => {
                let resp = MessageResponseBuilder::from_message_request(request)
                    .error_msg(&request.metadata, ResponseCode::Refused);
                response_handle.send_response(resp).await
            }
            Some(Fault::TruncateUdp) => {
                let mut md = Metadata::response_from_request(&request.metadata);
                md.authoritative = true;
                md.truncation = true;
                let resp =
                    MessageResponseBuilder::from_message_request(request).build_no_records(md);
                response_handle.send_response(resp).await
            }
            Some(Fault::TruncateAlways) => {
                let mut md = Metadata::response_from_request(&request.metadata);
                md.authoritative = true;
                md.truncation = true;
                let resp =
                    MessageResponseBuilder::from_message_request(request).build_no_records(md);
                response_handle.send_response(resp).await
            }
            Some(Fault::NodataWithoutSoa) => {
                let mut md = Metadata::response_from_request(&request.metadata);
                md.authoritative = true;
                let resp =
                    MessageResponseBuilder::from_message_request(request).build_no_records(md);
                response_handle.send_response(resp).await
            }
            Some(Fault::WrongQuestion) => {
                let other = Name::from(qname.clone())
                    .prepend_label(WRONG_QUESTION_LABEL)
                    .expect("wrong-question name");
                let queries = queries_for_name(&other, qtype);
                let answers = self.wrong_records(&qname, qtype);
                let answers: Vec<Record> = answers
                    .into_iter()
                    .map(|mut r| {
                        r.name = other.clone();
                        r
                    })
                    .collect();
                let mut md = Metadata::response_from_request(&request.metadata);
                md.authoritative = true;
                let resp = MessageResponseBuilder::new(&queries, None).build(
                    md,
                    answers.iter(),
                    std::iter::empty(),
                    std::iter::empty(),
                    std::iter::empty(),
                );
                response_handle.send_response(resp).await
            }
            Some(Fault::CnameHopOnly) => {
                let owner = Name::from(qname.clone());
                let answers = self.records_as(&qname, RecordType::CNAME, owner);
                send_answers(request, &answers, &mut response_handle).await
            }
            Some(Fault::OtherType(rtype)) => {
                let owner = Name::from(qname.clone());
                let answers = self.records_as(&qname, rtype, owner);
                send_answers(request, &answers, &mut response_handle).await
            }
            Some(Fault::WrongAnswer) => {
                let answers = self.wrong_records(&qname, qtype);
                let mut md = Metadata::response_from_request(&request.metadata);
                md.authoritative = true;
                let resp = MessageResponseBuilder::from_message_request(request).build(
                    md,
                    answers.iter(),
                    std::iter::empty(),
                    std::iter::empty(),
                    std::iter::empty(),
                );
                response_handle.send_response(resp).await
            }
        };
        sent.unwrap_or_else(|_| info_without_send(request, ResponseCode::ServFail))
    }
}
