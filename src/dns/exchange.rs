//! One raw DNS exchange, outside hickory-resolver: a query built with hickory-proto's types,
//! sent over UDP to the resolver's own nameservers and again over TCP (2-byte length prefix)
//! when the reply is truncated; and the checks that a reply answers that question.
//!
//! Why: hickory-resolver accepts a reply to another question on its TCP path and drops
//! answer records of another owner, so such a reply reads as "no records" without an SOA.
//! [`super::upstream`] asks again here, where the reply is seen whole, before it lets a
//! negative answer without an SOA stand. Errors stay raw ([`ExchangeError`]): upstream
//! classifies them with everything else.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_resolver::proto::op::{Edns, Message, MessageType, Query};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};

use super::zones::name_text;

/// EDNS payload size offered over UDP: the DNS Flag Day 2020 size, which avoids fragments.
const UDP_PAYLOAD: u16 = 1232;
/// Largest DNS message (over TCP; a UDP datagram cannot be larger either).
const MAX_MESSAGE: usize = 65_535;

/// Why no reply came back to be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeError {
    /// No reply with our message ID within the timeout.
    Timeout,
    /// A socket error (connection refused, unreachable, ...).
    Network(String),
    /// A reply that cannot be used: unreadable, or truncated over TCP too.
    Unusable(String),
}

/// Where and how patiently to ask: the resolver's nameservers, its per-try timeout, its tries.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub servers: Vec<SocketAddr>,
    pub timeout: Duration,
    pub attempts: usize,
}

impl Exchange {
    /// Asks `query`, trying each server in turn up to `attempts` rounds; the first reply
    /// carrying our message ID is returned, whatever it says. Only a reply that never comes
    /// (timeout, socket error) moves on to the next server.
    pub async fn ask(&self, query: &Query) -> Result<Message, ExchangeError> {
        let mut last = ExchangeError::Network("no nameserver configured".to_owned());
        for _ in 0..self.attempts.max(1) {
            for &server in &self.servers {
                match self.ask_one(server, query).await {
                    Ok(reply) => return Ok(reply),
                    Err(e @ ExchangeError::Unusable(_)) => return Err(e),
                    Err(e) => last = e,
                }
            }
        }
        Err(last)
    }

    async fn ask_one(&self, server: SocketAddr, query: &Query) -> Result<Message, ExchangeError> {
        let request = request_for(query);
        let id = request.metadata.id;
        let bytes = request
            .to_vec()
            .map_err(|e| ExchangeError::Unusable(format!("query not encodable: {e}")))?;
        let reply = over_udp(server, &bytes, id, self.timeout).await?;
        if !reply.metadata.truncation {
            return Ok(reply);
        }
        let reply = over_tcp(server, &bytes, id, self.timeout).await?;
        if reply.metadata.truncation {
            return Err(ExchangeError::Unusable("truncated over TCP too".to_owned()));
        }
        Ok(reply)
    }
}

/// A recursive query (the nameserver may be a resolver) with EDNS, a random ID.
pub(super) fn request_for(query: &Query) -> Message {
    let mut request = Message::query();
    request.metadata.recursion_desired = true;
    request.add_query(query.clone());
    let mut edns = Edns::new();
    edns.set_max_payload(UDP_PAYLOAD);
    request.set_edns(edns);
    request
}

/// The bytes of [`request_for`]`(query)` with message ID `id`, written directly: the lean
/// path sends one per question, and building a `Message` to encode it (a copy of the
/// question, an EDNS record, an encoder) was a tenth of its client-side instructions. A
/// test checks the two encodings against each other.
pub(super) fn encode_query(query: &Query, id: u16) -> Vec<u8> {
    let name = query.name();
    let mut bytes = Vec::with_capacity(12 + name.len() + 2 + 4 + 11);
    bytes.extend_from_slice(&id.to_be_bytes());
    // Flags: a standard query with RD; one question, one additional record (EDNS's OPT).
    bytes.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]);
    for label in name.iter() {
        // A `Name` holds labels of at most 63 bytes.
        bytes.push(label.len() as u8);
        bytes.extend_from_slice(label);
    }
    bytes.push(0);
    bytes.extend_from_slice(&u16::from(query.query_type()).to_be_bytes());
    bytes.extend_from_slice(&u16::from(query.query_class()).to_be_bytes());
    // OPT (RFC 6891): root owner, type 41, the payload size as its class, TTL 0 (extended
    // RCODE, version 0, no DO bit), no options.
    bytes.push(0);
    bytes.extend_from_slice(&41u16.to_be_bytes());
    bytes.extend_from_slice(&UDP_PAYLOAD.to_be_bytes());
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    bytes
}

fn network(e: std::io::Error) -> ExchangeError {
    ExchangeError::Network(e.to_string())
}

/// Sends `bytes` from a fresh connected socket (so only `server` can answer) and waits for
/// the reply with message ID `id`; replies with another ID are stray and skipped.
async fn over_udp(
    server: SocketAddr,
    bytes: &[u8],
    id: u16,
    timeout: Duration,
) -> Result<Message, ExchangeError> {
    let deadline = Instant::now() + timeout;
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await.map_err(network)?;
    socket.connect(server).await.map_err(network)?;
    socket.send(bytes).await.map_err(network)?;
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        let n = timeout_at(deadline, socket.recv(&mut buf))
            .await
            .map_err(|_| ExchangeError::Timeout)?
            .map_err(network)?;
        if let Some(reply) = reply_with_id(&buf[..n], id)? {
            return Ok(reply);
        }
    }
}

/// One query on a fresh TCP connection, each message behind its 2-byte length.
async fn over_tcp(
    server: SocketAddr,
    bytes: &[u8],
    id: u16,
    timeout: Duration,
) -> Result<Message, ExchangeError> {
    let deadline = Instant::now() + timeout;
    let exchange = async {
        let mut stream = TcpStream::connect(server).await.map_err(network)?;
        let len = u16::try_from(bytes.len())
            .map_err(|_| ExchangeError::Unusable("query too long for TCP".to_owned()))?;
        let mut framed = Vec::with_capacity(bytes.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(bytes);
        stream.write_all(&framed).await.map_err(network)?;
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await.map_err(network)?;
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut buf).await.map_err(network)?;
        // A TCP stream carries only our query's reply: another ID is an error, not a stray.
        reply_with_id(&buf, id)?
            .ok_or_else(|| ExchangeError::Unusable("reply with another message ID".to_owned()))
    };
    timeout_at(deadline, exchange)
        .await
        .map_err(|_| ExchangeError::Timeout)?
}

/// The reply in `wire` if it is a response carrying message ID `id`; `None` for anything
/// else that does not even claim to be ours (too short, another ID, a query).
pub(super) fn reply_with_id(wire: &[u8], id: u16) -> Result<Option<Message>, ExchangeError> {
    if wire.len() < 2 || u16::from_be_bytes([wire[0], wire[1]]) != id {
        return Ok(None);
    }
    let reply = Message::from_vec(wire)
        .map_err(|e| ExchangeError::Unusable(format!("unreadable reply: {e}")))?;
    Ok((reply.metadata.message_type == MessageType::Response).then_some(reply))
}

/// Why `reply` is not an answer to `query`, or `None` when it is: its question section
/// must be exactly `query` (the name compared without regard to case), and every answer
/// record must be owned by the queried name or by a name its CNAMEs lead to (a DNAME may
/// sit at an ancestor of one of those, with the CNAME it synthesised beside it).
pub fn foreign(reply: &Message, query: &Query) -> Option<String> {
    let asked = |q: &Query| {
        q.name() == query.name()
            && q.query_type() == query.query_type()
            && q.query_class() == query.query_class()
    };
    match reply.queries.as_slice() {
        [q] if asked(q) => {}
        [q] => {
            return Some(format!(
                "answer for another question: {} {}",
                name_text(q.name()),
                q.query_type()
            ));
        }
        _ => return Some("answer for another question".to_owned()),
    }
    stray_owner(&reply.answers, query.name())
}

/// Why `answers` hold a record of another owner, or `None` when every record is owned by
/// `qname` or by a name its CNAMEs lead to (a DNAME may sit at an ancestor of one of those,
/// with the CNAME it synthesised beside it).
pub fn stray_owner(answers: &[Record], qname: &Name) -> Option<String> {
    let owners = chain_owners(answers, qname);
    answers
        .iter()
        .find(|r| {
            // hickory-proto has no DNAME type of its own: it keeps the record as unknown data.
            let ours = if r.record_type() == RecordType::DNAME {
                owners.iter().any(|o| r.name.zone_of(o))
            } else {
                owners.contains(&r.name)
            };
            !ours
        })
        .map(|r| format!("answer records for another owner: {}", name_text(&r.name)))
}

/// Why `answers` hold a record that is neither of the asked type nor part of an alias chain
/// (CNAME, DNAME, their signatures), or `None`. An A question answered with an AAAA record,
/// or an MX question with an A record, is a reply to some other question: not "no records".
pub fn other_type(answers: &[Record], asked: RecordType) -> Option<String> {
    answers
        .iter()
        .map(Record::record_type)
        .find(|&t| {
            t != asked && t != RecordType::CNAME && t != RecordType::DNAME && t != RecordType::RRSIG
        })
        .map(|t| format!("answer records of another type: {t}"))
}

/// The names `from`'s CNAMEs lead to in `answers`, in chain order. A name already in the
/// chain ends it and is included, so the caller sees the loop.
pub fn cname_hops(answers: &[Record], from: &Name) -> Vec<Name> {
    let mut chain = vec![from.clone()];
    while let Some(next) = answers.iter().find_map(|r| match &r.data {
        RData::CNAME(c) if chain.last() == Some(&r.name) => Some(c.0.clone()),
        _ => None,
    }) {
        let looped = chain.contains(&next);
        chain.push(next);
        if looped {
            break;
        }
    }
    chain.remove(0);
    chain
}

/// `qname` and every name reached from it through the CNAME records, in any order.
fn chain_owners(answers: &[Record], qname: &Name) -> Vec<Name> {
    let mut owners = vec![qname.clone()];
    loop {
        let next = answers.iter().find_map(|r| match &r.data {
            RData::CNAME(c) if owners.contains(&r.name) && !owners.contains(&c.0) => {
                Some(c.0.clone())
            }
            _ => None,
        });
        match next {
            Some(target) => owners.push(target),
            None => return owners,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::rr::rdata::{A, CNAME, NULL};

    fn name(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn the_written_query_is_the_one_hickory_encodes() {
        let labels: [&[u8]; 3] = [b"Foo:Bar/baz=", b"MAIL-FROM", b"example"];
        let names = [
            name("mail-from.example.com."),
            name("Relay.ONE.example."),
            Name::root(),
            Name::from_labels(labels).unwrap(),
            name(&format!("{}.{}.test.", "a".repeat(63), "b".repeat(63))),
        ];
        for n in names {
            for t in [
                RecordType::MX,
                RecordType::A,
                RecordType::AAAA,
                RecordType::TXT,
                RecordType::PTR,
            ] {
                let q = Query::query(n.clone(), t);
                let mut reference = request_for(&q);
                reference.metadata.id = 0xbeef;
                assert_eq!(
                    encode_query(&q, 0xbeef),
                    reference.to_vec().unwrap(),
                    "{n} {t}"
                );
            }
        }
    }

    fn reply_to(q: &Query, answers: Vec<Record>) -> Message {
        let mut m = Message::response(7, hickory_resolver::proto::op::OpCode::Query);
        m.add_query(q.clone());
        m.add_answers(answers);
        m
    }

    fn a(owner: &str) -> Record {
        Record::from_rdata(name(owner), 60, RData::A(A::new(192, 0, 2, 1)))
    }

    fn cname(owner: &str, target: &str) -> Record {
        Record::from_rdata(name(owner), 60, RData::CNAME(CNAME(name(target))))
    }

    #[test]
    fn the_question_must_be_ours_whatever_the_case_of_the_name() {
        let q = Query::query(name("mail-from.x.test."), RecordType::MX);
        let upper = Query::query(name("MAIL-From.X.Test."), RecordType::MX);
        assert_eq!(foreign(&reply_to(&upper, vec![]), &q), None);
        let other = Query::query(name("y.test."), RecordType::MX);
        assert_eq!(
            foreign(&reply_to(&other, vec![]), &q).as_deref(),
            Some("answer for another question: y.test MX")
        );
        let other_type = Query::query(name("mail-from.x.test."), RecordType::A);
        assert!(foreign(&reply_to(&other_type, vec![]), &q).is_some());
        let mut none = reply_to(&q, vec![]);
        none.queries.clear();
        assert_eq!(
            foreign(&none, &q).as_deref(),
            Some("answer for another question")
        );
    }

    #[test]
    fn answers_may_follow_the_cname_chain_but_nothing_else() {
        let q = Query::query(name("a.test."), RecordType::A);
        // Out of order on purpose: the chain is found wherever its links sit.
        let chained = vec![
            a("c.test."),
            cname("b.test.", "c.test."),
            cname("a.test.", "b.test."),
        ];
        assert_eq!(foreign(&reply_to(&q, chained), &q), None);
        assert_eq!(
            foreign(&reply_to(&q, vec![a("A.TEST.")]), &q),
            None,
            "owner compared without case"
        );
        assert_eq!(
            foreign(&reply_to(&q, vec![a("a.test."), a("wrong.a.test.")]), &q).as_deref(),
            Some("answer records for another owner: wrong.a.test")
        );
        let dname = RData::Unknown {
            code: RecordType::DNAME,
            rdata: NULL::with(b"\x01x\x07example\x00".to_vec()),
        };
        let dname = Record::from_rdata(name("test."), 60, dname);
        let synthesised = vec![dname, cname("a.test.", "a.x.example."), a("a.x.example.")];
        assert_eq!(foreign(&reply_to(&q, synthesised), &q), None);
    }

    #[test]
    fn records_of_another_type_are_named_and_alias_chains_followed() {
        let aaaa = Record::from_rdata(
            name("a.test."),
            60,
            RData::AAAA(hickory_resolver::proto::rr::rdata::AAAA::new(
                0x2001, 0xdb8, 0, 0, 0, 0, 0, 1,
            )),
        );
        assert_eq!(
            other_type(&[cname("a.test.", "b.test."), aaaa], RecordType::A).as_deref(),
            Some("answer records of another type: AAAA")
        );
        assert_eq!(
            other_type(&[cname("a.test.", "b.test."), a("b.test.")], RecordType::A),
            None
        );
        // Out of order, and a loop back to the second name: it ends the chain, included.
        let records = [
            cname("c.test.", "b.test."),
            cname("a.test.", "b.test."),
            cname("b.test.", "c.test."),
        ];
        let hops: Vec<String> = cname_hops(&records, &name("a.test."))
            .iter()
            .map(name_text)
            .collect();
        assert_eq!(hops, ["b.test", "c.test", "b.test"]);
        assert!(cname_hops(&[a("a.test.")], &name("a.test.")).is_empty());
    }

    #[test]
    fn replies_are_matched_by_id_and_unreadable_ones_are_said() {
        let q = Query::query(name("a.test."), RecordType::A);
        let wire = reply_to(&q, vec![a("a.test.")]).to_vec().unwrap();
        assert!(reply_with_id(&wire, 7).unwrap().is_some());
        assert!(reply_with_id(&wire, 8).unwrap().is_none());
        assert!(reply_with_id(&[0], 7).unwrap().is_none());
        assert!(matches!(
            reply_with_id(&[0, 7, 0x80, 0, 0, 1], 7),
            Err(ExchangeError::Unusable(_))
        ));
        // Our own query echoed back is not a reply.
        let query_wire = request_for(&q);
        let id = query_wire.metadata.id;
        assert!(
            reply_with_id(&query_wire.to_vec().unwrap(), id)
                .unwrap()
                .is_none()
        );
    }
}
