//! The per-domain SPF evaluation against `check_host()` per pair (the reference) on
//! generated worlds: every field an audit or a report reads, for every client asked about,
//! and the fallback to per-pair only where a record reads the client.

use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::dns::{Failure, MxTarget};
use crate::policy::spf::check_host;
use crate::policy::test_support::{Bytes, Table, block_on, said};

/// Names with records: sender domains and hosts alike, so includes and redirects can loop.
const NAMES: [&str; 7] = ["d0.t", "d1.t", "d2.t", "h0.t", "h1.t", "h2.t", "h3.t"];
const V4: [&str; 5] = ["10.0.0.1", "10.0.0.2", "10.0.1.1", "10.1.0.1", "192.0.2.7"];
const V6: [&str; 3] = ["2001:db8::1", "2001:db8::2", "2001:db8:1::1"];
/// Every client asked about: each address a record holds, some no record has, a mapped IPv4.
const CLIENTS: [&str; 10] = [
    "10.0.0.1",
    "10.0.0.2",
    "10.0.1.1",
    "10.1.0.1",
    "192.0.2.7",
    "198.51.100.9",
    "::ffff:10.0.0.2",
    "2001:db8::1",
    "2001:db8:1::1",
    "2001:db8::99",
];

/// One term of a generated record; `reads_client` terms force the per-pair path.
fn term(b: &mut Bytes<'_>, reads_client: bool) -> String {
    let qualifier = b.pick(&["", "+", "-", "~", "?"]);
    let name = b.pick(&NAMES);
    let mechanism = match b.below(if reads_client { 17 } else { 15 }) {
        0 => "all".to_string(),
        1 => format!("ip4:{}", b.pick(&V4)),
        2 => format!(
            "ip4:{}/{}",
            b.pick(&V4),
            b.pick(&["0", "8", "16", "24", "31"])
        ),
        3 => format!("ip6:{}/{}", b.pick(&V6), b.pick(&["0", "32", "64", "127"])),
        4 => "a".to_string(),
        5 => format!("a:{name}"),
        6 => format!("a:{name}/{}", b.pick(&["8", "16", "24"])),
        7 => "mx".to_string(),
        8 => format!("mx:{name}/24//64"),
        9 | 10 => format!("include:{name}"),
        11 => format!("exists:{name}"),
        // Macros that read the identity, not the client: still one evaluation per domain.
        12 => format!("exists:%{{l}}.{name}"),
        13 => format!("a:%{{h}}.{name}"),
        14 => b
            .pick(&["foo", "ip4:300.1.1.1", "a:%{d1r}.t", "include:%{o}"])
            .to_string(),
        15 => "ptr".to_string(),
        _ => format!("exists:%{{i}}.{name}"),
    };
    format!("{qualifier}{mechanism}")
}

fn addresses(b: &mut Bytes<'_>, pool: &[&str]) -> Outcome {
    match b.below(8) {
        0 => Outcome::NxDomain,
        1 => Outcome::NoData,
        2 => Outcome::Failed(Failure::ServFail),
        3 => Outcome::Failed(Failure::Timeout),
        _ => {
            let n = 1 + b.below(3);
            let addrs = (0..n).map(|_| b.pick(pool).parse().unwrap()).collect();
            Outcome::Found(Data::Addrs(addrs))
        }
    }
}

/// A world: at every name an SPF TXT (sometimes none, two, a failure or a syntax error),
/// addresses (IPv4, IPv6, void or failing), MX lists (up to 12 names, so past the limit of
/// 10); with `reads_client`, `ptr` and `%{i}` terms too.
fn world(bytes: &[u8], reads_client: bool) -> Table {
    let mut b = Bytes::new(bytes);
    let mut table = Table::default();
    for name in NAMES {
        let txt = match b.below(10) {
            0 => Outcome::NxDomain,
            1 => Outcome::NoData,
            2 => Outcome::Failed(Failure::Timeout),
            n => {
                let record = |b: &mut Bytes<'_>| {
                    let mut text = "v=spf1".to_string();
                    for _ in 0..b.below(6) {
                        text.push(' ');
                        text.push_str(&term(b, reads_client));
                    }
                    if b.below(3) == 0 {
                        text.push_str(&format!(" redirect={}", b.pick(&NAMES)));
                    }
                    text
                };
                let mut texts = vec![record(&mut b)];
                match n {
                    3 => texts.push(record(&mut b)),
                    4 => texts.push("not spf".to_string()),
                    _ => {}
                }
                Outcome::Found(Data::Txt(texts))
            }
        };
        table.answers.insert((name.to_string(), QType::Txt), txt);
        let a = addresses(&mut b, &V4);
        table.answers.insert((name.to_string(), QType::A), a);
        let aaaa = addresses(&mut b, &V6);
        table.answers.insert((name.to_string(), QType::Aaaa), aaaa);
        let mx = match b.below(5) {
            0 => Outcome::NxDomain,
            1 => Outcome::Failed(Failure::ServFail),
            _ => {
                let n = 1 + b.below(12);
                let list: Arc<[MxTarget]> = (0..n)
                    .map(|i| MxTarget {
                        preference: i as u16,
                        exchange: b.pick(&NAMES).to_string(),
                    })
                    .collect();
                Outcome::Found(Data::Mx(list))
            }
        };
        table.answers.insert((name.to_string(), QType::Mx), mx);
    }
    table
}

const DEADLINE: Duration = Duration::from_secs(60);

/// Compares every client of every domain of the world; returns how many the per-domain
/// evaluation answered itself.
fn compare(table: &Table) -> Result<usize, TestCaseError> {
    let clients: Vec<IpAddr> = CLIENTS.iter().map(|c| c.parse().unwrap()).collect();
    let mut answered = 0;
    for domain in NAMES {
        let expanded = block_on(expand_spf(table, domain, &clients, DEADLINE));
        for &ip in &clients {
            let Some(got) = expanded.answer(ip) else {
                continue;
            };
            answered += 1;
            let want = block_on(check_host(
                table,
                ip,
                &Identity::pair(domain),
                None,
                DEADLINE,
                false,
            ));
            prop_assert_eq!(said(&got), said(&want), "{} from {}", domain, ip);
        }
    }
    Ok(answered)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    /// Records that do not read the client: every client answered per domain, as per pair.
    #[test]
    fn equals_check_host(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let table = world(&bytes, false);
        let answered = compare(&table)?;
        prop_assert_eq!(answered, NAMES.len() * CLIENTS.len());
    }

    /// With `ptr` and `%{i}` about: what the per-domain evaluation answers is still right.
    #[test]
    fn equals_check_host_where_it_answers(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        compare(&world(&bytes, true))?;
    }
}

/// A record that reads the client is left to the per-pair evaluation, whole.
#[test]
fn a_record_reading_the_client_falls_back() {
    let mut table = Table::default();
    for (text, answered) in [
        ("v=spf1 ip4:10.0.0.1 exists:%{i}.h0.t -all", false),
        ("v=spf1 ip4:10.0.0.1 ptr -all", false),
        ("v=spf1 ip4:10.0.0.1 redirect=%{v}.h0.t", false),
        ("v=spf1 ip4:10.0.0.1 exists:%{l}.h0.t -all", true),
    ] {
        table.answers.insert(
            ("d0.t".into(), QType::Txt),
            Outcome::Found(Data::Txt(vec![text.into()])),
        );
        let clients: Vec<IpAddr> = ["10.0.0.1", "10.0.0.2"]
            .iter()
            .map(|c| c.parse().unwrap())
            .collect();
        let expanded = block_on(expand_spf(&table, "d0.t", &clients, DEADLINE));
        // The second client reaches the term that reads it (the first matched before).
        assert_eq!(expanded.answer(clients[1]).is_some(), answered, "{text}");
    }
}

/// Clients that part ways inside an `include` go on with their own counts: the one that
/// came back from a `-all` early has two void lookups left, the other none, and the
/// third void lookup is a `permerror` for that one only.
#[test]
fn clients_leaving_an_include_keep_their_own_counts() {
    let mut table = Table::default();
    let txt = |t: &str| Outcome::Found(Data::Txt(vec![t.into()]));
    table.answers.insert(
        ("d0.t".into(), QType::Txt),
        txt("v=spf1 include:h0.t a:h3.t +all"),
    );
    table.answers.insert(
        ("h0.t".into(), QType::Txt),
        txt("v=spf1 -ip4:10.0.0.1 a:h1.t a:h2.t -all"),
    );
    let clients: Vec<IpAddr> = ["10.0.0.1", "10.0.0.2"]
        .iter()
        .map(|c| c.parse().unwrap())
        .collect();
    let expanded = block_on(expand_spf(&table, "d0.t", &clients, DEADLINE));
    let first = expanded.answer(clients[0]).unwrap();
    let second = expanded.answer(clients[1]).unwrap();
    assert_eq!((first.result, first.voids), (SpfResult::Pass, 1));
    assert_eq!(second.result, SpfResult::PermError);
    for (ip, got) in clients.iter().zip([first, second]) {
        let want = block_on(check_host(
            &table,
            *ip,
            &Identity::pair("d0.t"),
            None,
            DEADLINE,
            false,
        ));
        assert_eq!(said(&got), said(&want));
    }
}
