//! Reading a UDP reply on the lean path: the header, the question, the answer and authority
//! sections decoded as hickory-proto decodes them, the additional section only walked.
//!
//! Why: profiled on the 20,000-domain audit (docs/performance.md), decoding each reply whole
//! was the largest cost of the query side, and a nameserver such as nsd fills the additional
//! section with the address records of every MX target, decoded name by name only to be
//! dropped: nothing judges a reply by its additional records. What the section still decides
//! is kept: its OPT record's high bits of the response code (RFC 6891 §6.1.3), a second OPT
//! is a format error as hickory-proto makes it, and a section that does not fit the datagram
//! makes the reply unreadable. The other records there are not decoded, so a malformed one
//! no longer throws the whole reply away.

use hickory_resolver::proto::op::{Header, Message, Query};
use hickory_resolver::proto::rr::RecordType;
use hickory_resolver::proto::serialize::binary::{BinDecodable, BinDecoder};

/// The reply in `wire` with an empty additional section and no EDNS record, its response
/// code merged with the OPT record's high bits as [`Message::from_vec`] merges them.
pub(super) fn read_reply(wire: &[u8]) -> Result<Message, String> {
    let mut decoder = BinDecoder::new(wire);
    let Header {
        mut metadata,
        counts,
    } = Header::read(&mut decoder).map_err(|e| e.to_string())?;
    let mut reply = Message::new(metadata.id, metadata.message_type, metadata.op_code);
    for _ in 0..counts.queries {
        reply
            .queries
            .push(Query::read(&mut decoder).map_err(|e| e.to_string())?);
    }
    let op = metadata.op_code;
    let mut section = |count: u16| {
        Message::read_records(&mut decoder, count.into(), false, op)
            .map(|(records, _, _)| records)
            .map_err(|e| e.to_string())
    };
    reply.answers = section(counts.answers)?;
    reply.authorities = section(counts.authorities)?;
    let mut at = decoder.index();
    let mut opt = None;
    for _ in 0..counts.additionals {
        let (rtype, ttl, end) = walk_record(wire, at).ok_or_else(too_short)?;
        if rtype == RecordType::OPT {
            if opt.is_some() {
                return Err("more than one OPT record".to_owned());
            }
            opt = Some(ttl);
        }
        at = end;
    }
    if let Some(ttl) = opt {
        // The OPT "TTL": extended RCODE (8 bits), version, flags.
        metadata.merge_response_code((ttl >> 24) as u8);
    }
    reply.metadata = metadata;
    Ok(reply)
}

fn too_short() -> String {
    "additional section past the end of the reply".to_owned()
}

/// The type and TTL of the record at `at`, and where the next one starts; `None` when the
/// record does not fit in `wire` or its owner name is malformed.
fn walk_record(wire: &[u8], at: usize) -> Option<(RecordType, u32, usize)> {
    let mut at = at;
    loop {
        let len = *wire.get(at)?;
        match len & 0xc0 {
            // A compression pointer ends the name.
            0xc0 => {
                at += 2;
                break;
            }
            0x00 if len == 0 => {
                at += 1;
                break;
            }
            0x00 => at += 1 + usize::from(len),
            _ => return None,
        }
    }
    let fixed = wire.get(at..at + 10)?;
    let rtype = RecordType::from(u16::from_be_bytes([fixed[0], fixed[1]]));
    let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
    let rdlength = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
    let end = at + 10 + rdlength;
    (end <= wire.len()).then_some((rtype, ttl, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::op::{Edns, OpCode, ResponseCode};
    use hickory_resolver::proto::rr::rdata::{A, MX, SOA};
    use hickory_resolver::proto::rr::{Name, RData, Record};

    fn name(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    /// An MX reply as nsd sends it: the targets' addresses as glue, an SOA, EDNS.
    fn reply(code: ResponseCode, edns: bool) -> Message {
        let q = Query::query(name("mail-from.x.test."), RecordType::MX);
        let mut m = Message::response(0x1234, OpCode::Query);
        m.metadata.response_code = code;
        m.add_query(q);
        for (i, t) in ["a.x.test.", "b.x.test."].iter().enumerate() {
            m.add_answer(Record::from_rdata(
                name("mail-from.x.test."),
                60,
                RData::MX(MX::new(i as u16, name(t))),
            ));
            m.add_additional(Record::from_rdata(
                name(t),
                60,
                RData::A(A::new(192, 0, 2, i as u8)),
            ));
        }
        m.add_authority(Record::from_rdata(
            name("x.test."),
            60,
            RData::SOA(SOA::new(
                name("ns.x.test."),
                name("h.x.test."),
                1,
                2,
                3,
                4,
                5,
            )),
        ));
        if edns {
            m.set_edns(Edns::new());
        }
        m
    }

    #[test]
    fn everything_but_the_additional_section_reads_as_hickory_reads_it() {
        for code in [
            ResponseCode::NoError,
            ResponseCode::NXDomain,
            ResponseCode::ServFail,
            // Needs the OPT record's high bits: 16 is BADVERS.
            ResponseCode::BADVERS,
        ] {
            for edns in [false, true] {
                if code == ResponseCode::BADVERS && !edns {
                    continue;
                }
                let wire = reply(code, edns).to_vec().unwrap();
                let whole = Message::from_vec(&wire).unwrap();
                let lean = read_reply(&wire).unwrap();
                assert_eq!(lean.metadata, whole.metadata, "{code:?} edns {edns}");
                // 16 reads back as BADSIG, BADVERS's other name: the value is what counts.
                let got = lean.metadata.response_code;
                assert_eq!((got.high(), got.low()), (code.high(), code.low()));
                assert_eq!(lean.queries, whole.queries);
                assert_eq!(lean.answers, whole.answers);
                assert_eq!(lean.authorities, whole.authorities);
                assert!(lean.additionals.is_empty() && !whole.additionals.is_empty());
            }
        }
    }

    #[test]
    fn a_reply_cut_short_or_with_two_opt_records_is_unreadable() {
        let wire = reply(ResponseCode::NoError, true).to_vec().unwrap();
        for cut in [wire.len() - 1, wire.len() - 11, 13] {
            assert!(read_reply(&wire[..cut]).is_err(), "cut at {cut}");
        }
        // Raise the additional count by one and append a copy of the OPT record (its 11
        // bytes end the message).
        let mut twice = wire.clone();
        twice.extend_from_slice(&wire[wire.len() - 11..]);
        let count = u16::from_be_bytes([twice[10], twice[11]]) + 1;
        twice[10..12].copy_from_slice(&count.to_be_bytes());
        assert!(Message::from_vec(&twice).is_err());
        assert!(read_reply(&twice).is_err());
        // A label with the reserved 0b01 prefix is no name.
        let mut bad = wire.clone();
        let opt = bad.len() - 11;
        bad[opt] = 0x40;
        assert!(read_reply(&bad).is_err());
    }
}
