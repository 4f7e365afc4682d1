//! Property tests for docs/design.md §6 "never panic on any input bytes": every reader and extractor is
//! fed arbitrary bytes, token soups and mutated real lines (bytes flipped, inserted, deleted;
//! NUL, CR and invalid UTF-8 spliced in; very long tokens), and checked for invariants that a
//! bug would break — not only "no panic" — plus generated well-formed inputs whose exact
//! outcome is known (count conservation).
//!
//! Each case runs on its own thread under a deadline, so a hang or super-linear blow-up fails
//! the case instead of stalling the suite. The seed is fixed and failure persistence is off,
//! so every run tries the same cases.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::net::IpAddr;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngSeed};

use crate::support::compress;
use compress::compress;
use repudiate::aggregate::Tally;
use repudiate::extract::logs::LogExtractor;
use repudiate::extract::postfix::PostfixJoiner;
use repudiate::extract::sendmail::SendmailLog;
use repudiate::extract::{ExtractOptions, exim, log_time, message, received, syslog};
use repudiate::inputs::decompress::Compression;
use repudiate::inputs::detect::{Format, detect};
use repudiate::inputs::mbox::{self, MboxItem, MboxReader};
use repudiate::inputs::oversize::LineLimit;
use repudiate::inputs::{self, ReadOptions, log_reader};
use repudiate::model::address::{is_host_name, normalize_address, normalize_domain};
use repudiate::model::{PairKey, Record, Sender};
use repudiate::net::{IpNet, canonical, internal_kind};
use repudiate::pairs_file;

// ---------------------------------------------------------------------------------------
// Harness: configuration, deadline, mutations
// ---------------------------------------------------------------------------------------

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x5eed_6d61_696c),
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

/// Far above what any case needs in a debug build (milliseconds), far below "hung".
const DEADLINE: Duration = Duration::from_secs(20);

/// Runs `work` on its own thread; a panic there is re-raised here (so proptest shrinks it),
/// and no answer within [`DEADLINE`] fails the case as a hang.
fn finishes<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let _ = tx.send(work());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(value) => {
            let _ = handle.join();
            value
        }
        Err(RecvTimeoutError::Timeout) => panic!("no result after {DEADLINE:?}: a hang"),
        Err(RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker sends before it ends"),
        },
    }
}

/// Byte strings that matter to some parser: delimiters, NUL, CR, lone and broken UTF-8
/// sequences, keywords.
const NASTY: &[&[u8]] = &[
    b"\0",
    b"\r",
    b"\r\n",
    b"\n",
    b"\n\n",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xf0\x9f\x98",
    b"\xc3\xa9",
    b"\xe2\x80\x9c",
    b"<",
    b">",
    b"<>",
    b"[",
    b"]",
    b"(",
    b")",
    b"\"",
    b"\\",
    b"@",
    b":",
    b": ",
    b";",
    b",",
    b", ",
    b" ",
    b"\t",
    b"=",
    b"IPv6:",
    b"::ffff:",
    b"%eth0",
    b"From ",
    b">From ",
    b"Content-Length: 7\n",
    b"Content-Length: 99999999999999999999\n",
    b"Return-Path: <>\n",
    b"Received: ",
    b"client=",
    b"from=<",
    b"NOQUEUE: reject: RCPT from ",
    b"relay=",
    b" <= ",
    b" H=",
    b" rejected ",
    b"127.0.0.1",
    b"10.1.2.3",
    b"192.0.2.1",
    b"2001:db8::1",
    b"fe80::1",
    b"Tue Jun  4 10:00:00 2024",
];

#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(Index, u8),
    Insert(Index, u8),
    Delete(Index, usize),
    Splice(Index, &'static [u8]),
    /// A very long token: one byte repeated.
    Repeat(Index, u8, usize),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, bit)| Mutation::FlipBit(i, bit)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<Index>(), 1usize..16).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<Index>(), prop::sample::select(NASTY)).prop_map(|(i, s)| Mutation::Splice(i, s)),
        (
            any::<Index>(),
            prop::sample::select(&b"a.[(<\"@ 0:\\\xff"[..]),
            1usize..6000
        )
            .prop_map(|(i, b, n)| Mutation::Repeat(i, b, n)),
        any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn apply(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for m in mutations {
        let at = |i: &Index, len: usize| i.index(len + 1);
        match m {
            Mutation::FlipBit(i, bit) if !v.is_empty() => {
                let p = i.index(v.len());
                v[p] ^= 1 << bit;
            }
            Mutation::FlipBit(..) => {}
            Mutation::Insert(i, b) => {
                let p = at(i, v.len());
                v.insert(p, *b);
            }
            Mutation::Delete(i, n) => {
                let p = at(i, v.len());
                let end = (p + n).min(v.len());
                v.drain(p..end);
            }
            Mutation::Splice(i, s) => {
                let p = at(i, v.len());
                v.splice(p..p, s.iter().copied());
            }
            Mutation::Repeat(i, b, n) => {
                let p = at(i, v.len());
                v.splice(p..p, std::iter::repeat_n(*b, *n));
            }
            Mutation::Truncate(i) => {
                let p = at(i, v.len());
                v.truncate(p);
            }
        }
    }
    v
}

/// A real seed with up to `max` mutations applied.
fn mutated(seeds: &'static [&'static str], max: usize) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(seeds),
        prop::collection::vec(mutation(), 0..=max),
    )
        .prop_map(|(seed, m)| apply(seed.as_bytes(), &m))
}

/// Tokens glued together at random, with some random bytes between.
fn soup(tokens: &'static [&'static str], max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(tokens).prop_map(|t| t.as_bytes().to_vec()),
            2 => prop::sample::select(NASTY).prop_map(<[u8]>::to_vec),
            1 => prop::collection::vec(any::<u8>(), 1..4),
        ],
        0..max,
    )
    .prop_map(|parts| parts.concat())
}

/// Arbitrary bytes, a token soup, or a mutated seed.
fn hostile(
    seeds: &'static [&'static str],
    tokens: &'static [&'static str],
) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..600),
        2 => soup(tokens, 60),
        4 => mutated(seeds, 6),
    ]
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn lines_of(bytes: &[u8]) -> Vec<String> {
    lossy(bytes)
        .split('\n')
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------
// Invariants shared by several extractors
// ---------------------------------------------------------------------------------------

/// A normalised domain is a lowercase ASCII host name that normalises to itself; a
/// malformed sender's kept text is short and free of control characters.
fn check_sender(sender: &Sender) -> Result<(), TestCaseError> {
    match sender {
        Sender::Domain(d) => {
            prop_assert!(is_host_name(d), "not a host name: {d:?}");
            prop_assert!(
                d.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()),
                "not lowercase ASCII: {d:?}"
            );
            prop_assert!(!d.ends_with('.'));
            prop_assert_eq!(normalize_domain(d), Sender::Domain(d.clone()));
        }
        Sender::Malformed(text) => {
            // 100 characters are kept; lowercasing may turn one into up to three.
            prop_assert!(
                text.chars().count() <= 300,
                "{} chars",
                text.chars().count()
            );
            prop_assert!(!text.chars().any(char::is_control), "{text:?}");
        }
        Sender::Null | Sender::Missing => {}
    }
    Ok(())
}

/// What an observation must look like with `opts`: a client that is not internal, a sane
/// sender.
fn check_record(record: &Record, opts: &ExtractOptions) -> Result<(), TestCaseError> {
    if let Record::Observed(PairKey { sender, ip }) = record {
        check_sender(sender)?;
        if let Some(ip) = ip {
            prop_assert_eq!(canonical(*ip), *ip, "not canonical");
            prop_assert!(!opts.is_internal(*ip), "internal client {} observed", ip);
            if opts.skip_private {
                prop_assert!(internal_kind(*ip).is_none(), "{} observed", ip);
            }
        }
    }
    if let Record::ClientName { ip, name } = record {
        prop_assert!(opts.client_names, "a name without client_names");
        prop_assert_eq!(canonical(*ip), *ip, "not canonical");
        prop_assert!(!opts.is_internal(*ip), "internal client {} named", ip);
        prop_assert!(repudiate::model::address::is_host_name(name), "{:?}", name);
        prop_assert!(name.to_ascii_lowercase() == **name, "{:?}", name);
    }
    Ok(())
}

/// The options the invariants are checked under: the defaults, and a perimeter plus the
/// opposite setting of every switch.
fn option_sets() -> [ExtractOptions; 2] {
    [
        ExtractOptions::default(),
        ExtractOptions {
            perimeter: vec![
                "203.0.113.0/24".parse::<IpNet>().unwrap(),
                "2001:db8:1::/48".parse::<IpNet>().unwrap(),
            ],
            skip_private: false,
            include_rejected: true,
            null_sender: repudiate::extract::NullSenderMode::Helo,
            client_names: true,
            // An hour: hostile timestamps jump about, so eviction happens here too.
            queue_window_secs: 3600,
        },
    ]
}

// ---------------------------------------------------------------------------------------
// Address normalisation
// ---------------------------------------------------------------------------------------

const ADDRESS_SEEDS: &[&str] = &[
    "<user@Example.ORG.>",
    "tim.one@comcast.net",
    "<\"jane doe\"@example.com>",
    "\"a@b\"@example.net",
    "<@hop1.example,@hop2.example:bob@example.com>",
    "SRS0=1sN3=5P=example.org=noreply@srs.example.org",
    "user@bücher.example",
    "user@BÜCHER.example",
    "user@xn--bcher-kva.example",
    "MAILER-DAEMON",
    "<>",
    "user@[192.0.2.1]",
    "u@İstanbul.example",
];

const ADDRESS_TOKENS: &[&str] = &[
    "user", "@", ".", "example", "ORG", "xn--", "-", "\"", "\\", "<", ">", ",", ":", "ü", "İ", "ß",
    "\u{200d}", "\u{3002}", "１", "a",
];

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn addresses_normalise_to_lowercase_ascii_domains(raw in hostile(ADDRESS_SEEDS, ADDRESS_TOKENS)) {
        let text = lossy(&raw);
        let (a, d) = finishes(move || (normalize_address(&text), normalize_domain(&text)));
        check_sender(&a)?;
        check_sender(&d)?;
    }
}

// ---------------------------------------------------------------------------------------
// Received headers
// ---------------------------------------------------------------------------------------

static RECEIVED_SEEDS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    include_str!("../../fixtures/received/received-variants.tsv")
        .lines()
        .filter_map(|l| l.split_once('\t').map(|(_, v)| v))
        .collect()
});

const RECEIVED_TOKENS: &[&str] = &[
    "from ",
    "by ",
    "with ",
    "ESMTP ",
    "ESMTPSA ",
    "IMAP ",
    "id ",
    "for ",
    "HELO ",
    "helo=",
    "(",
    ")",
    "[",
    "]",
    ";",
    " ",
    "\r\n\t",
    "IPv6:",
    "::ffff:",
    "192.0.2.1",
    "10.0.0.1",
    "2001:db8::25",
    "%6",
    "Authenticated sender: ",
    "mail.example.org",
    "envelope-from",
];

fn received_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..400),
        2 => soup(RECEIVED_TOKENS, 60),
        4 => (
            prop::sample::select(RECEIVED_SEEDS.as_slice()),
            prop::collection::vec(mutation(), 0..6),
        )
            .prop_map(|(seed, m)| apply(seed.as_bytes(), &m)),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn received_parse_gives_canonical_ips_and_bounded_helo(raw in received_value()) {
        let text = lossy(&raw);
        let hop = finishes(move || received::parse(&text));
        if let Some(ip) = hop.ip {
            prop_assert_eq!(canonical(ip), ip);
        }
        if let Some(helo) = &hop.helo {
            prop_assert!(!helo.is_empty() && helo.len() <= 255, "{helo:?}");
            prop_assert!(!helo.starts_with('['), "an address literal is no HELO name: {helo:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Single messages
// ---------------------------------------------------------------------------------------

const HEADER_SEEDS: &[&str] = &[
    "Return-Path: <Bob@Example.ORG>\nReceived: from localhost (localhost [127.0.0.1])\n\tby mx.example.net (Postfix) with ESMTP id 1;\n\tTue, 4 Jun 2024 10:00:01 +0000\nReceived: from mail.example.org (mail.example.org [192.0.2.10])\n\tby mx.example.net (Postfix) with ESMTP id 4Vt9Qx3Zk1z9sT\n\tfor <u@example.net>; Tue, 4 Jun 2024 10:00:00 +0000 (UTC)\nSubject: x\n",
    "Return-Path: <>\nReceived: from relay (relay [10.0.0.5]) by mx1.site.example with ESMTP id 2; Tue, 4 Jun 2024 10:00:00 +0000\nReceived: from out.example.org (out.example.org [203.0.113.5]) by relay with ESMTP id 3; Tue, 4 Jun 2024 10:00:00 +0000\n",
    "Return-Path: <alice@example.net>\nReceived: from [192.168.1.5] (unknown [203.0.113.9]) (Authenticated sender: alice@example.net) by smtp.example.net (Postfix) with ESMTPSA id 4Vt9Qx3Zk1z9sV; Tue, 4 Jun 2024 10:00:00 +0000 (UTC)\n",
    "Return-Path: <ler@example.org>\nReceived: from dogma.slashnull.org [212.17.35.15] by localhost with IMAP (fetchmail-5.9.0) for jm@localhost (single-drop); Mon, 22 Jul 2002 21:41:36 +0100 (IST)\nReceived: from lugh.tuatha.org (root@lugh.tuatha.org [194.125.145.45]) by dogma.slashnull.org (8.11.6/8.11.6) with ESMTP id g6JDSNJ32301; Fri, 19 Jul 2002 14:28:23 +0100\n",
    "Received: from [192.0.2.55] (helo=mail.example.org) by mx.example.net with esmtp (Exim 4.96) id 1tABCD-000123-AB; Tue, 04 Jun 2024 10:00:00 +0000\r\nReceived: from mail.example.org (HELO mail.example.org) (192.0.2.14) by mx.example.net with SMTP; 4 Jun 2024 10:00:00 -0000\r\n",
];

const HEADER_TOKENS: &[&str] = &[
    "Return-Path: ",
    "Received: ",
    "Subject: ",
    "\n",
    "\r\n",
    "\n\t",
    "\n ",
    "from ",
    "by ",
    "with ESMTP ",
    "with ESMTPSA ",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
    "@",
    "example.org",
    "127.0.0.1",
    "10.0.0.5",
    "172.16.0.1",
    "100.64.0.1",
    "169.254.1.1",
    "192.168.1.1",
    "fe80::1",
    "fd00::1",
    "::ffff:10.0.0.1",
    "::1",
    "192.0.2.7",
    "2001:db8::7",
    "IPv6:",
    ";",
    "=?utf-8?q?x?=",
];

proptest! {
    #![proptest_config(config(384))]

    #[test]
    fn message_observations_never_name_an_internal_client(
        raw in hostile(HEADER_SEEDS, HEADER_TOKENS),
        envelope in prop::option::of(mutated(ADDRESS_SEEDS, 2)),
    ) {
        for opts in option_sets() {
            let (raw, envelope, o) = (raw.clone(), envelope.clone(), opts.clone());
            let record = finishes(move || {
                let envelope = envelope.as_deref().map(lossy);
                message::extract(&raw, envelope.as_deref(), &o)
            });
            check_record(&record, &opts)?;
        }
    }
}

const INTERNAL_IPS: &[&str] = &[
    "127.0.0.1",
    "10.1.2.3",
    "172.16.9.9",
    "192.168.0.7",
    "100.64.1.1",
    "169.254.3.3",
    "IPv6:::1",
    "IPv6:fe80::1",
    "IPv6:fd12::5",
    "::ffff:10.0.0.9",
];
const EXTERNAL_IPS: &[&str] = &[
    "192.0.2.1",
    "198.51.100.23",
    "203.0.113.200",
    "198.18.0.1",
    "IPv6:2001:db8::25",
    "::ffff:192.0.2.99",
    "8.8.4.4",
];

/// One Received header naming `ip` as the client, in one of the common syntaxes.
fn received_line(ip: &str, style: u8, n: usize) -> String {
    let bare = ip.trim_start_matches("IPv6:");
    match style % 3 {
        0 => format!(
            "Received: from h{n}.example (h{n}.example [{ip}])\n\tby mx{n}.example.net (Postfix) with ESMTP id {n}A;\n\tTue, 4 Jun 2024 10:00:00 +0000\n"
        ),
        1 => format!(
            "Received: from [{ip}] (helo=h{n}.example) by mx.example.net with esmtp (Exim 4.96) id 1t{n}-0001-AB; Tue, 04 Jun 2024 10:00:00 +0000\n"
        ),
        _ => format!(
            "Received: from h{n}.example (HELO h{n}.example) ({bare}) by mx.example.net with SMTP; 4 Jun 2024 10:00:00 -0000\n"
        ),
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// The client is the first hop, from the top, whose IP is neither internal nor in the
    /// perimeter; the sender is the topmost Return-Path, else the From_ line, else missing.
    #[test]
    fn message_client_is_the_first_external_hop(
        hops in prop::collection::vec((any::<bool>(), any::<Index>(), any::<u8>()), 0..12),
        return_path in prop::option::of(prop::sample::select(&["<A@Sender.Example>", "<>", "<u@BÜCHER.example>"][..])),
        envelope in prop::option::of(prop::sample::select(&["x@From-Line.example", "MAILER-DAEMON"][..])),
        crlf in any::<bool>(),
    ) {
        let mut header = String::new();
        if let Some(rp) = return_path {
            header.push_str(&format!("Return-Path: {rp}\n"));
        }
        let mut expected_ip: Option<IpAddr> = None;
        for (n, (external, pick, style)) in hops.iter().enumerate() {
            let pool = if *external { EXTERNAL_IPS } else { INTERNAL_IPS };
            let ip = pool[pick.index(pool.len())];
            header.push_str(&received_line(ip, *style, n));
            if *external && expected_ip.is_none() {
                expected_ip = repudiate::net::parse_ip(ip);
            }
        }
        if return_path.is_some() {
            // Only the topmost Return-Path counts.
            header.push_str("Return-Path: <later@ignored.example>\n");
        }
        header.push_str("Subject: test\n");
        if crlf {
            header = header.replace('\n', "\r\n");
        }
        let expected_sender = match (return_path, envelope) {
            (Some(rp), _) => normalize_address(rp),
            (None, Some(env)) => normalize_address(env),
            (None, None) => Sender::Missing,
        };
        let record = finishes(move || message::extract(header.as_bytes(), envelope, &ExtractOptions::default()));
        prop_assert_eq!(
            record,
            Record::Observed(PairKey { sender: expected_sender, ip: expected_ip })
        );
    }
}

// ---------------------------------------------------------------------------------------
// Logs: syslog prefix, postfix, sendmail, exim, the router
// ---------------------------------------------------------------------------------------

const LOG_SEEDS: &[&str] = &[
    "Jun  1 19:00:55 mx postfix/smtpd[10]: 3F2A81C0A5D: client=mail.example.org[192.0.2.10]",
    "Jun  1 19:00:55 mx postfix/cleanup[11]: 3F2A81C0A5D: message-id=<1@example.org>",
    "Jun  1 19:00:56 mx postfix/qmgr[12]: 3F2A81C0A5D: from=<Alice@Example.ORG>, size=1234, nrcpt=1 (queue active)",
    "Jun  1 19:00:56 mx postfix/smtp[13]: 3F2A81C0A5D: to=<b@example.net>, relay=x[192.0.2.9]:25, status=sent (250 ok)",
    "Jun  1 19:00:56 mx postfix/qmgr[12]: 3F2A81C0A5D: removed",
    "2023-03-14T00:08:33.579644+01:00 helga postfix/smtpd[297535]: 4PbC4x469Jz3tBr: client=mail.nistoresio.co.cz[185.31.160.120]",
    "2023-03-14T00:08:33.787870+01:00 helga postfix/qmgr[3163066]: 4PbC4x469Jz3tBr: from=<ajmyjyz@nistoresio.co.cz>, size=175061, nrcpt=1 (queue active)",
    "2023-03-14T00:08:35.917122+01:00 helga postfix/10025/smtpd[302614]: 4PbC4z6W5Qz3tG3: client=localhost[127.0.0.1]",
    "2023-03-14T00:31:06.621091+01:00 helga postfix/submission/smtpd[303987]: 4PbCZy4PWKz3tBr: client=unknown[2a02:8109:b240:41c8:9264:99a9:1b0d:15c8], sasl_method=PLAIN, sasl_username=vmail@uhu-banane.net",
    "2023-03-14T00:31:06.621091+01:00 helga postfix/pickup[320974]: 4PbMVG6Tmjz3tG3: uid=0 from=<root>",
    "2023-03-14T00:31:06.621091+01:00 helga postfix/smtpd[304356]: NOQUEUE: reject: RCPT from smtp.csp.res.in[117.244.254.50]: 450 4.1.8 <sabrina@S510.gigasys>: Sender address rejected: Domain not found; from=<sabrina@S510.gigasys> to=<user01.test@uhu-banane.net> proto=ESMTP helo=<galaxy.csp.res.in>",
    "2023-03-14T00:31:06.621091+01:00 helga postfix/postscreen[3163107]: NOQUEUE: reject: RCPT from [185.246.220.193]:62795: 550 5.7.1 Service unavailable; client [185.246.220.193] blocked using zen.spamhaus.org; from=<ripe@uhu-banane.de>, to=<x@y.example>, proto=ESMTP, helo=<3BqSwxw>",
    "Aug 13 15:45:46 server postfix/smtpd[13844]: 00ADB3C0899: reject: RCPT from example.com[192.0.2.1]: 550 5.1.1 <x@y>: nope",
    "<22>1 2026-11-28T10:00:01.123456+00:00 mx postfix/smtpd 100 - - 4A1B2C3D4E: client=x[192.0.2.1]",
    "Aug  8 12:28:47 ns2 sm-mta[13165]: j78ASk4e013165: from=<kweek@glurpp.baf>, size=786, class=0, nrcpts=1, msgid=<200508081028.j78ASkKG011031@blanditiis.crunch.zap>, proto=ESMTP, daemon=MTA-v4, relay=mx1.glurpp.baf [62.210.95.136]",
    "Jan  6 02:37:32 Jupiter sendmail[809]: j061bW9V000809: from=maddingue, size=2039, class=0, nrcpts=1, msgid=<200501060137.j061bW9V000809@jupiter.maddingue.net>, relay=localhost",
    "Jan  6 02:37:33 Jupiter sendmail[812]: j061bXn5000812: from=<maddingue@jupiter.maddingue.net>, size=2262, class=0, nrcpts=1, msgid=<x@y>, proto=ESMTP, daemon=MTA, relay=localhost [127.0.0.1]",
    "Feb 23 21:36:14 petermurray sm-mta[22248]: s1NLaDQT022248: ruleset=check_mail, arg1=<dautareuk2@hotmail.it>, relay=int0.client.access.azadnet.net [80.253.155.119] (may be forged), reject=553 5.1.8 nope",
    "Feb 23 07:57:28 petermurray sm-mta[6519]: AUTH=server, relay=[IPv6:2001:DB8::5], authid=u, mech=PLAIN, bits=0",
    "2002-10-31 08:57:53 16ZCW1-0005MB-00 <= kryten@dwarf.fict.example H=mailer.fict.example [192.168.123.123] U=exim P=smtp S=5678 id=<incoming message id>",
    "2017-07-30 18:51:05.712 10HmbA-000000005vi-0000 <= CALLER@the.local.host.name H=localhost (the.local.host.name) [127.0.0.1] TFO* P=esmtps L* S=sss id=x for b@test.ex",
    "1999-03-02 09:44:33 +0100 [123] 10HmaX-000000005vi-0000 <= \"jane doe\"@test.ex H=(rhu.barb) [192.0.2.8]:25 U=CALLER P=esmtp S=sss",
    "1999-03-02 09:44:33 10HmaZ-000000005vi-0000 <= <> H=([IPV6:V6NET:0:12:1:a00:20ff:fe86:a062]) [2001:db8::9] P=esmtp S=sss",
    "2013-06-10 18:33:32 [10099] H=(yakult.com.tw) [202.132.70.178]:3755 I=[1.2.3.4]:25 F=menacedsj04@listserv.eurasia.org rejected RCPT dir@ml3.ru: relay not permitted",
    "Jun  4 10:00:00 mx exim[55]: 16ZCW1-0005MB-00 <= a@b.example H=[192.0.2.55] P=esmtp S=1",
];

const LOG_TOKENS: &[&str] = &[
    "Jun  1 19:00:55 ",
    "2023-03-14T00:08:33.5+01:00 ",
    "2002-10-31 08:57:53 ",
    "<22>1 ",
    "mx ",
    "postfix/smtpd[1]: ",
    "postfix/qmgr[2]: ",
    "sm-mta[3]: ",
    "exim[4]: ",
    "3F2A81C0A5D: ",
    "j78ASk4e013165: ",
    "16ZCW1-0005MB-00 ",
    "client=",
    "from=<",
    ">, size=1",
    "removed",
    "NOQUEUE: reject: RCPT from ",
    "; from=<",
    "relay=",
    " [",
    "]",
    "<= ",
    "H=",
    " P=esmtp",
    " rejected ",
    "a@b.example",
    "192.0.2.1",
    "10.0.0.1",
    ", ",
    ": ",
    "\n",
];

/// Lines that may carry an arrival (or refused attempt): the only ones a record can be
/// charged to.
fn arrival_like(line: &str) -> bool {
    [
        "client=",
        "from=",
        "NOQUEUE: ",
        "<= ",
        " rejected ",
        "ruleset=check_mail",
    ]
    .iter()
    .any(|m| line.contains(m))
}

fn log_lines() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            4 => mutated(LOG_SEEDS, 3),
            1 => soup(LOG_TOKENS, 25),
            1 => prop::collection::vec(any::<u8>(), 0..120),
        ],
        0..40,
    )
    .prop_map(|lines| lines.iter().flat_map(|l| lines_of(l)).collect())
}

fn run_log(lines: Vec<String>, opts: ExtractOptions) -> Vec<Record> {
    finishes(move || {
        let mut log = LogExtractor::new(opts);
        let mut out = Vec::new();
        for line in &lines {
            log.feed(line, &mut |r| out.push(r));
        }
        log.finish(&mut |r| out.push(r));
        out
    })
}

proptest! {
    #![proptest_config(config(384))]

    #[test]
    fn syslog_split_returns_pieces_of_the_line(raw in hostile(LOG_SEEDS, LOG_TOKENS)) {
        for line in lines_of(&raw) {
            let parts = finishes({
                let line = line.clone();
                move || syslog::split(&line).map(|p| (p.host.to_string(), p.program.to_string(), p.pid.to_string(), p.message.to_string()))
            });
            if let Some((host, program, pid, message)) = parts {
                prop_assert!(line.ends_with(&message), "{line:?} / {message:?}");
                prop_assert!(!host.contains(' ') && !program.contains(' ') && !pid.contains(' '));
                prop_assert!(line.contains(&program));
            }
        }
    }

    /// Conservation: a record is charged to at most one line that can carry an arrival, and
    /// every observation names an external client and a normalised sender.
    #[test]
    fn log_records_are_bounded_by_arrival_lines(lines in log_lines()) {
        let arrivals = lines.iter().filter(|l| arrival_like(l)).count();
        for opts in option_sets() {
            let records = run_log(lines.clone(), opts.clone());
            // A client's name is no message: a line that names one may also open one.
            let messages = records.iter().filter(|r| !matches!(r, Record::ClientName { .. })).count();
            prop_assert!(
                messages <= arrivals && records.len() - messages <= arrivals,
                "{} records from {} arrival lines", records.len(), arrivals
            );
            for r in &records {
                check_record(r, &opts)?;
                if let Record::Observed(o) = r {
                    prop_assert!(o.ip.is_some(), "a log observation always has its client");
                }
            }
        }
    }

    /// The bulk reader classifies only the lines that hold one of the parser's needles, so
    /// a line without one must never be an event.
    #[test]
    fn every_event_line_holds_a_needle(lines in log_lines()) {
        for opts in option_sets() {
            let log = LogExtractor::new(opts);
            for line in &lines {
                if log.parser().classify(line.as_bytes()).is_some() {
                    prop_assert!(log.parser().next_candidate(line.as_bytes(), 0).is_some(), "{line:?}");
                }
            }
        }
    }

    /// The parallel, windowed reader counts exactly what feeding the lines one by one does.
    #[test]
    fn bulk_log_reading_equals_line_by_line(lines in log_lines(), crlf in any::<bool>()) {
        let end = if crlf { "\r\n" } else { "\n" };
        let text: String = lines.iter().map(|l| format!("{l}{end}")).collect();
        for opts in option_sets() {
            let mut one_by_one = Tally::default();
            let mut log = LogExtractor::new(opts.clone());
            for line in &lines {
                log.feed_dated(line, &mut |r, when| one_by_one.add_at(r, when));
            }
            let anchor = log.anchor();
            log.finish(&mut |r| one_by_one.add(r));
            let bulk = finishes({
                let text = text.clone();
                move || {
                    let mut tally = Tally::default();
                    let mut log = LogExtractor::new(opts);
                    log.set_anchor(anchor);
                    let mut limit = LineLimit::new(usize::MAX);
                    log_reader::read_log(text.as_bytes(), &mut log, &mut tally, false, &mut limit)
                        .expect("memory reads");
                    log.finish(&mut |r| tally.add(r));
                    tally
                }
            });
            // Counts and days (each pair's days are sorted, so equal pairs are equal maps).
            prop_assert_eq!(bulk.pairs, one_by_one.pairs);
            prop_assert_eq!(bulk.skipped, one_by_one.skipped);
        }
    }

    #[test]
    fn each_log_extractor_alone_survives_hostile_lines(lines in log_lines()) {
        let records = finishes(move || {
            let opts = ExtractOptions::default();
            let mut postfix = PostfixJoiner::new(opts.clone());
            let mut sendmail = SendmailLog::new(opts.clone());
            let mut out = Vec::new();
            for text in &lines {
                if let Some(line) = syslog::split(text) {
                    // Fed to every extractor whatever the program says, to reach paths the
                    // router would never send there.
                    postfix.feed(&line, log_time::parse(text.as_bytes()), &mut |r| out.push(r));
                    sendmail.feed(&line, &mut |r| out.push(r));
                    out.extend(exim::message(line.message, &opts));
                }
                if let Some(msg) = exim::mainlog_message(text) {
                    out.extend(exim::message(msg, &opts));
                }
            }
            postfix.finish(&mut |r| out.push(r));
            out
        });
        for r in &records {
            check_record(r, &ExtractOptions::default())?;
        }
    }
}

const SENDERS: &[&str] = &[
    "Alice@Example.ORG",
    "bob@mail.example.net",
    "\"jane doe\"@example.com",
    "x@BÜCHER.example",
    "",
];
const PUBLIC_IPS: &[&str] = &[
    "192.0.2.10",
    "198.51.100.7",
    "203.0.113.44",
    "2001:db8::25",
    "8.8.8.8",
];

/// Interleaves per-message line lists in the order `schedule` gives (each message index
/// appears as often as it has lines), keeping each message's own order.
fn interleave(messages: &[Vec<String>], schedule: &[usize]) -> Vec<String> {
    let mut next = vec![0; messages.len()];
    schedule
        .iter()
        .map(|&m| {
            next[m] += 1;
            messages[m][next[m] - 1].clone()
        })
        .collect()
}

fn schedule(per_message: usize) -> impl Strategy<Value = (usize, Vec<usize>)> {
    (1usize..25).prop_flat_map(move |k| {
        let order: Vec<usize> = (0..k)
            .flat_map(|m| std::iter::repeat_n(m, per_message))
            .collect();
        (Just(k), Just(order).prop_shuffle())
    })
}

/// `(sender index, ip index)` per message, and the expected multiset of observations.
fn expected_pairs(picks: &[(Index, Index)], k: usize) -> BTreeMap<String, usize> {
    let mut expected = BTreeMap::new();
    for (s, i) in picks.iter().take(k) {
        let sender = normalize_address(SENDERS[s.index(SENDERS.len())]);
        let ip: IpAddr = PUBLIC_IPS[i.index(PUBLIC_IPS.len())].parse().unwrap();
        *expected.entry(format!("{sender:?} {ip}")).or_default() += 1;
    }
    expected
}

fn observed_pairs(records: &[Record]) -> BTreeMap<String, usize> {
    let mut got = BTreeMap::new();
    for r in records {
        let key = match r {
            Record::Observed(o) => format!("{:?} {}", o.sender, o.ip.unwrap()),
            Record::Skipped(reason) => format!("skipped {}", reason.as_str()),
            Record::ClientName { ip, name } => format!("name {ip} {name}"),
        };
        *got.entry(key).or_default() += 1;
    }
    got
}

proptest! {
    #![proptest_config(config(128))]

    /// K postfix messages, deferred once, interleaved at random with other services'
    /// chatter: exactly K records, the right pairs, whatever the order.
    #[test]
    fn interleaved_postfix_messages_are_each_counted_once(
        (k, order) in schedule(8),
        picks in prop::collection::vec((any::<Index>(), any::<Index>()), 25),
        long_ids in any::<bool>(),
    ) {
        let messages: Vec<Vec<String>> = (0..k)
            .map(|m| {
                let (s, i) = &picks[m];
                let sender = SENDERS[s.index(SENDERS.len())];
                let ip = PUBLIC_IPS[i.index(PUBLIC_IPS.len())];
                let qid = if long_ids { format!("4PbC4x{m:04}z3tBr") } else { format!("3F2A{m:06X}") };
                let ts = "2023-03-14T00:08:33.579644+01:00 helga";
                vec![
                    format!("{ts} postfix/smtpd[1]: {qid}: client=h{m}.example[{ip}]:25"),
                    format!("{ts} postfix/cleanup[2]: {qid}: message-id=<{m}@x>"),
                    format!("{ts} postfix/postscreen[9]: CONNECT from [{ip}]:4242 to [192.0.2.1]:25"),
                    format!("{ts} postfix/qmgr[3]: {qid}: from=<{sender}>, size=12, nrcpt=1 (queue active)"),
                    format!("{ts} postfix/smtp[4]: {qid}: to=<u@local.example>, relay=x[192.0.2.9]:25, status=deferred (450 try later)"),
                    // A deferred message's qmgr line comes again at every retry.
                    format!("{ts} postfix/qmgr[3]: {qid}: from=<{sender}>, size=12, nrcpt=1 (queue active)"),
                    format!("{ts} postfix/smtp[4]: {qid}: to=<u@local.example>, relay=x[192.0.2.9]:25, status=sent (250 ok)"),
                    format!("{ts} postfix/qmgr[3]: {qid}: removed"),
                ]
            })
            .collect();
        let lines = interleave(&messages, &order);
        let records = run_log(lines, ExtractOptions::default());
        prop_assert_eq!(records.len(), k);
        prop_assert_eq!(observed_pairs(&records), expected_pairs(&picks, k));
    }

    #[test]
    fn sendmail_and_exim_arrivals_are_each_counted_once(
        (k, order) in schedule(2),
        picks in prop::collection::vec((any::<Index>(), any::<Index>(), any::<bool>()), 25),
    ) {
        let messages: Vec<Vec<String>> = (0..k)
            .map(|m| {
                let (s, i, exim) = &picks[m];
                let sender = SENDERS[s.index(SENDERS.len())];
                let ip = PUBLIC_IPS[i.index(PUBLIC_IPS.len())];
                if *exim {
                    let sender = if sender.is_empty() { "<>" } else { sender };
                    vec![
                        format!("2026-11-28 10:00:01 10Hm{m:02}-000000005vi-0000 <= {sender} H=h{m}.example (helo{m}) [{ip}]:25 P=esmtp S=1 id=x"),
                        format!("2026-11-28 10:00:02 10Hm{m:02}-000000005vi-0000 => u@remote.example R=dnslookup T=remote_smtp H=mx.remote.example [192.0.2.77]"),
                    ]
                } else {
                    vec![
                        format!("Aug  8 12:28:47 ns2 sm-mta[{m}]: j78ASk4e0131{m:02}: from=<{sender}>, size=786, class=0, nrcpts=1, msgid=<{m}@x>, proto=ESMTP, daemon=MTA-v4, relay=h{m}.example [{ip}]"),
                        format!("Aug  8 12:28:48 ns2 sm-mta[{m}]: j78ASk4e0131{m:02}: to=<u@local.example>, delay=00:00:01, mailer=local, relay=localhost [127.0.0.1], stat=Sent"),
                    ]
                }
            })
            .collect();
        let lines = interleave(&messages, &order);
        let records = run_log(lines, ExtractOptions::default());
        let picks2: Vec<(Index, Index)> = picks.iter().map(|(s, i, _)| (*s, *i)).collect();
        prop_assert_eq!(records.len(), k);
        prop_assert_eq!(observed_pairs(&records), expected_pairs(&picks2, k));
    }
}

// ---------------------------------------------------------------------------------------
// mbox splitting
// ---------------------------------------------------------------------------------------

const MBOX_SEEDS: &[&str] = &[
    "From a@one.example Tue Jun  4 10:00:00 2024\nSubject: 1\n\nbody\nFrom here on it is body\n\nFrom the warehouse: your parcel left at 10:30 today.\n\nFrom b@two.example Tue Jun  4 10:00:01 2024\nSubject: 2\n\nx\n",
    "From a@one.example Tue Jun  4 10:00:00 2024\r\nSubject: 1\r\n\r\nbody\r\nFrom inside body\r\n\r\nFrom b@two.example Tue Jun  4 10:00:01 2024\r\nSubject: 2\r\n\r\nx\r\n",
    "garbage\n\nFrom a@b.example Tue Jun  4 10:00:00 2024\nX: 1\n\n>From quoted\n\n>>From twice\n\n",
    "From a@one.example Tue Jun  4 10:00:00 2024\nContent-Length: 70\n\nline one\n\nFrom the unquoted body Tue Jun  4 10:00:00 2024\nstill body\n\nFrom b@two.example Tue Jun  4 10:00:01 2024\nSubject: 2\n\nx\n",
    "From a@one.example Tue Jun  4 10:00:00 2024\nContent-Length: 3\n\nline one\n\nFrom the unquoted body Tue Jun  4 10:00:00 2024\nstill body\n\nFrom b@two.example Tue Jun  4 10:00:01 2024\nSubject: 2\n\nx\n",
    "From a@one.example Tue Jun  4 10:00:00 2024\r\nContent-Length: 39\r\n\r\na\r\n\r\nFrom x Tue Jun  4 10:00:00 2024\r\n",
    "From goran at domain.com  Wed Dec  1 08:26:40 2010\nReturn-Path: <>\nReceived: from n (n [192.0.2.2]) by mx with ESMTP id 2; Tue, 4 Jun 2024 10:00:01 +0000\n\nbody",
    "From \"jane doe\"@example.com  Wed Feb  9 22:02 MET 2000\nX: 1",
];

const MBOX_TOKENS: &[&str] = &[
    "From a@b.example Tue Jun  4 10:00:00 2024\n",
    "From x Tue Jun  4 10:00:00 2024\r\n",
    "From ",
    ">From ",
    "\n",
    "\r\n",
    "\n\n",
    "Content-Length: ",
    "0",
    "12",
    "40",
    "Subject: x\n",
    "body line\n",
    "Return-Path: <a@b.example>\n",
];

/// The lines as the reader numbers them (split after each `\n`).
fn mbox_lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.split_inclusive(|&b| b == b'\n').collect()
}

fn split_mbox(bytes: Vec<u8>) -> Vec<MboxItem> {
    finishes(move || {
        let mut reader = MboxReader::new(Cursor::new(bytes));
        let mut items = Vec::new();
        while let Some(item) = reader.next_item().expect("reading memory cannot fail") {
            items.push(item);
        }
        items
    })
}

proptest! {
    #![proptest_config(config(512))]

    /// Every message starts at a real separator line, at most one message per such line, in
    /// increasing line order; its envelope is that line's sender and its header block is
    /// the lines after it up to the first blank line.
    #[test]
    fn mbox_messages_start_at_separators_in_order(raw in hostile(MBOX_SEEDS, MBOX_TOKENS)) {
        let items = split_mbox(raw.clone());
        let lines = mbox_lines(&raw);
        let mut last_line = 0u64;
        for (n, item) in items.iter().enumerate() {
            match item {
                MboxItem::Preamble { line } => {
                    prop_assert_eq!(n, 0, "a preamble only comes first");
                    prop_assert_eq!(*line, 1);
                }
                MboxItem::Message(m) => {
                    prop_assert!(m.line > last_line, "line {} after {}", m.line, last_line);
                    last_line = m.line;
                    let from = lines.get(m.line as usize - 1).copied();
                    prop_assert!(from.is_some_and(mbox::is_separator), "line {} is no separator", m.line);
                    prop_assert_eq!(&m.envelope, &mbox::envelope_sender(from.unwrap()));
                    if !m.oversized {
                        let header: Vec<u8> = lines[m.line as usize..]
                            .iter()
                            .take_while(|l| !matches!(**l, b"\n" | b"\r\n"))
                            .flat_map(|l| l.iter().copied())
                            .collect();
                        prop_assert_eq!(lossy(&m.header), lossy(&header), "header of line {}", m.line);
                    }
                }
            }
        }
    }
}

/// A body that holds no line the blank-line rule would take for a separator, but does
/// hold the traps: unquoted `From ` text, quoted `>From ` lines, blank lines.
fn safe_body() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(
        prop::sample::select(
            &[
                "plain text",
                "",
                ">From a@b.example Tue Jun  4 10:00:00 2024",
                ">>From quoted twice",
                "From the warehouse: your parcel left at 10:30 today.",
                "Content-Length: 5",
                "Subject: not a header",
                "\u{00e9}t\u{00e9}",
            ][..],
        ),
        0..8,
    )
}

#[derive(Clone, Debug)]
enum LengthHeader {
    None,
    Right,
    /// Shorter than the body: never agrees, so the blank-line rule decides.
    Short(Index),
    /// Runs past the end of the file.
    PastEnd,
}

fn length_header() -> impl Strategy<Value = LengthHeader> {
    prop_oneof![
        Just(LengthHeader::None),
        Just(LengthHeader::Right),
        any::<Index>().prop_map(LengthHeader::Short),
        Just(LengthHeader::PastEnd),
    ]
}

#[derive(Clone, Debug)]
struct GenMessage {
    sender: &'static str,
    headers: Vec<&'static str>,
    length: LengthHeader,
    body: Vec<&'static str>,
    /// mboxcl2: the body holds an unquoted separator after a blank line, and a right
    /// Content-Length says where the body ends anyway.
    cl2_trap: bool,
}

fn gen_message() -> impl Strategy<Value = GenMessage> {
    (
        prop::sample::select(&["a@one.example", "MAILER-DAEMON", "\"jane doe\"@two.example", "u@x.example"][..]),
        prop::collection::vec(
            prop::sample::select(
                &[
                    "Return-Path: <r@rp.example>",
                    "Received: from h (h [192.0.2.1]) by mx with ESMTP id 1; Tue, 4 Jun 2024 10:00:00 +0000",
                    "Subject: hello",
                    "X-Folded: a\n\tb",
                ][..],
            ),
            0..4,
        ),
        length_header(),
        safe_body(),
        any::<bool>(),
    )
        .prop_map(|(sender, headers, length, body, cl2_trap)| GenMessage {
            sender,
            headers,
            length,
            body,
            cl2_trap,
        })
}

/// Writes the mbox and returns it with each message's separator line number.
fn write_mbox(messages: &[GenMessage], crlf: bool) -> (Vec<u8>, Vec<u64>) {
    let nl = if crlf { "\r\n" } else { "\n" };
    let mut out = String::new();
    let mut starts = Vec::new();
    let mut line = 1u64;
    let total = messages.len();
    for (n, m) in messages.iter().enumerate() {
        starts.push(line);
        let mut body: String = m.body.iter().map(|l| format!("{l}{nl}")).collect();
        let mut length = m.length.clone();
        if m.cl2_trap {
            body.push_str(&format!(
                "{nl}From trap@body.example Tue Jun  4 10:00:00 2024{nl}after{nl}"
            ));
            length = LengthHeader::Right;
        }
        let mut text = format!("From {} Tue Jun  4 10:00:0{} 2024{nl}", m.sender, n % 10);
        for h in &m.headers {
            text.push_str(&h.replace('\n', nl));
            text.push_str(nl);
        }
        let is_last = n + 1 == total;
        match length {
            LengthHeader::None => {}
            LengthHeader::Right => text.push_str(&format!("Content-Length: {}{nl}", body.len())),
            LengthHeader::Short(i) if !body.is_empty() => {
                text.push_str(&format!("Content-Length: {}{nl}", i.index(body.len())))
            }
            LengthHeader::Short(_) => {}
            LengthHeader::PastEnd => {
                text.push_str(&format!("Content-Length: {}{nl}", 1_000_000 + n))
            }
        }
        text.push_str(nl);
        text.push_str(&body);
        if !is_last {
            text.push_str(nl);
        }
        line += text.matches('\n').count() as u64;
        out.push_str(&text);
    }
    (out.into_bytes(), starts)
}

proptest! {
    #![proptest_config(config(256))]

    /// K well-formed messages, with right, short, past-the-end or no Content-Length, CRLF or
    /// LF, traps in the bodies: exactly K messages, at the right lines, with their senders.
    #[test]
    fn generated_mbox_yields_every_message(
        messages in prop::collection::vec(gen_message(), 1..8),
        crlf in any::<bool>(),
    ) {
        let (bytes, starts) = write_mbox(&messages, crlf);
        let items = split_mbox(bytes.clone());
        let got: Vec<(u64, String)> = items
            .iter()
            .map(|i| match i {
                MboxItem::Message(m) => (m.line, m.envelope.clone()),
                MboxItem::Preamble { line } => (*line, "<preamble>".into()),
            })
            .collect();
        let want: Vec<(u64, String)> = messages
            .iter()
            .zip(&starts)
            .map(|(m, l)| (*l, m.sender.to_string()))
            .collect();
        prop_assert_eq!(got, want, "{}", lossy(&bytes));
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// The same through the whole input stage, from a file that may be compressed: every
    /// message becomes exactly one record (observed or skipped), and the file reads cleanly.
    #[test]
    fn generated_mbox_file_counts_every_message_once(
        messages in prop::collection::vec(gen_message(), 1..8),
        crlf in any::<bool>(),
        compression in prop::option::of(prop::sample::select(&[Compression::Gzip, Compression::Zstd, Compression::Bzip2, Compression::Xz][..])),
    ) {
        let (bytes, _) = write_mbox(&messages, crlf);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gen.mbox");
        let file = match compression { Some(c) => compress(c, &bytes), None => bytes };
        std::fs::write(&path, file).unwrap();
        let report = finishes(move || inputs::read_all(&[path], &ReadOptions::default(), &indicatif::ProgressBar::hidden()));
        prop_assert!(report.errors.is_empty(), "{:?}", report.errors);
        prop_assert_eq!(report.inputs_ok, 1);
        prop_assert_eq!(report.tally.messages() + report.tally.skipped_total(), messages.len() as u64);
    }
}

// ---------------------------------------------------------------------------------------
// Pairs files
// ---------------------------------------------------------------------------------------

const PAIRS_SEEDS: &[&str] = &[
    "domain,ip,messages\nExample.org,192.0.2.1,3\n<>,2001:DB8::1,2\n,,1\n",
    "domain,ip,messages,verdict,matched,relays,reason\nexample.org,192.0.2.1,3,repudiated,,\"a.example;b.example\",\n",
    "domain,ip,messages\nexample.org,192.0.2.1,x\nexample.org,999.1.1.1,1\nexample.org\nexample.org,192.0.2.1,1\n",
    "domain,ip,messages\n\"quoted, domain\",192.0.2.1,18446744073709551615\n",
];

const PAIRS_TOKENS: &[&str] = &[
    "domain,ip,messages\n",
    ",",
    "\"",
    "\n",
    "\r\n",
    "example.org",
    "<>",
    "192.0.2.1",
    "::1",
    "7",
    "18446744073709551615",
    "-1",
];

/// One callback of the pairs reader: its line, and the row's sender and count if valid.
type PairsRow = (u64, Option<(Sender, u64)>);

fn read_pairs(bytes: Vec<u8>) -> Result<Vec<PairsRow>, String> {
    finishes(move || {
        let mut rows = Vec::new();
        pairs_file::read::<_, std::io::Error>(Cursor::new(bytes), 1 << 20, &mut |item| {
            if let pairs_file::Item::Row { line, row } = item {
                rows.push((line, row.and_then(|r| Some((r.key()?.sender, r.messages)))));
            }
            Ok(())
        })
        .map(|()| rows)
        .map_err(|e| e.to_string())
    })
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn pairs_rows_are_in_order_and_normalised(raw in hostile(PAIRS_SEEDS, PAIRS_TOKENS)) {
        // The csv reader ends a line at `\n`, `\r` or `\r\n`.
        let newlines = raw.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64;
        if let Ok(rows) = read_pairs(raw) {
            prop_assert!(rows.len() as u64 <= newlines + 1);
            let mut last = 0;
            for (line, row) in &rows {
                prop_assert!(*line >= last && *line <= newlines + 1, "line {line}");
                last = *line;
                if let Some((sender, _)) = row {
                    check_sender(sender)?;
                }
            }
        }
    }

    /// Rows written the way the report writes them read back as the same pairs.
    #[test]
    fn pairs_rows_round_trip(
        rows in prop::collection::vec(
            (prop::sample::select(&["example.org", "<>", "", "xn--bcher-kva.example"][..]),
             prop::option::of(prop::sample::select(PUBLIC_IPS)),
             1u64..u64::MAX),
            0..20),
    ) {
        let mut text = String::from("domain,ip,messages,verdict\n");
        for (d, ip, n) in &rows {
            text.push_str(&format!("{d},{},{n},repudiated\n", ip.unwrap_or("")));
        }
        let got = read_pairs(text.into_bytes()).unwrap();
        prop_assert_eq!(got.len(), rows.len());
        for ((line, row), (n, (d, _, count))) in got.iter().zip(rows.iter().enumerate()) {
            prop_assert_eq!(*line, n as u64 + 2);
            let (sender, messages) = row.clone().expect("a valid row");
            // The column's spellings, stated here rather than asked of the reader.
            let want = match *d {
                "<>" => Sender::Null,
                "" => Sender::Missing,
                domain => Sender::Domain(domain.to_string()),
            };
            prop_assert_eq!(sender, want);
            prop_assert_eq!(messages, *count);
        }
    }
}

/// What the csv crate alone makes of a pairs file (how every pairs file was read before the
/// line reader): rows with their line, the first three cells read as the reader reads them.
/// A row as both readers are compared on: its line and, if valid, its pair and count.
type ReadRow = (u64, Option<(Sender, Option<IpAddr>, u64)>);

fn csv_reference(bytes: &[u8]) -> Vec<ReadRow> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => return out,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let row = (|| {
                    let domain = record.get(0)?;
                    let domain = domain.strip_prefix('\'').unwrap_or(domain);
                    let messages: u64 = record.get(2)?.trim().parse().ok()?;
                    let ip = match record.get(1)? {
                        "" => None,
                        text => Some(repudiate::net::parse_ip(text)?),
                    };
                    Some((pairs_file::sender_from_column(domain), ip, messages))
                })();
                out.push((line, row));
            }
            Err(e) => out.push((e.position().map_or(0, |p| p.line()), None)),
        }
    }
}

/// A cell as a person or a spreadsheet might write it: plain, or quoted with commas,
/// doubled quotes and line ends inside.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&[
            "example.org", "Example.ORG.", "<>", "", "'=x.example", "192.0.2.1", "2001:DB8::1",
            "7", " 8 ", "x", "-1", "18446744073709551615", "999.1.1.1", "b\u{fc}cher.example",
        ][..]).prop_map(str::to_string),
        1 => "[a-z,\"\n. ]{0,12}".prop_map(|t| format!("\"{}\"", t.replace('"', "\"\""))),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    /// On files whose quoting is well formed, the line reader gives the rows, bad rows and
    /// line numbers the csv crate gives (where it counts right), whatever its buffer's size.
    #[test]
    fn the_line_reader_reads_what_the_csv_crate_reads(
        rows in prop::collection::vec(
            (prop::collection::vec(cell(), 0..5), prop::sample::select(&["\n", "\r\n", "\n\n"][..])),
            0..25),
        capacity in 1usize..64,
    ) {
        let mut text = String::from("domain,ip,messages\n");
        for (cells, end) in &rows {
            text.push_str(&cells.join(","));
            text.push_str(end);
        }
        let want = csv_reference(text.as_bytes());
        let mut got = Vec::new();
        let reader = std::io::BufReader::with_capacity(capacity, text.as_bytes());
        pairs_file::read::<_, std::io::Error>(reader, 1 << 20, &mut |item| {
            if let pairs_file::Item::Row { line, row } = item {
                got.push((line, row.and_then(|r| Some((r.key()?.sender, r.client()?, r.messages)))));
            }
            Ok(())
        })
        .unwrap();
        // The csv crate's line numbers skip blank lines and lines ended by CRLF; the line
        // reader counts every `\n`, so its numbers are the ones an editor shows.
        let blank = text.split('\n').rev().skip(1).any(|l| l.trim_end_matches('\r').is_empty());
        if blank || text.contains('\r') {
            let rows = |v: Vec<(u64, _)>| v.into_iter().map(|(_, r)| r).collect::<Vec<_>>();
            prop_assert_eq!(rows(got), rows(want), "{:?}", text);
        } else {
            prop_assert_eq!(got, want, "{:?}", text);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Format detection and decompression
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(512))]

    /// Detection never panics, and for mbox, pairs and log files the first line decides:
    /// nothing after it changes the answer.
    #[test]
    fn detection_is_decided_by_a_complete_first_line(
        first in prop::sample::select(&[
            ("From a@b.example Tue Jun  4 10:00:00 2024", Format::Mbox),
            ("domain,ip,messages", Format::Pairs),
            ("Jun  4 10:01:00 mx postfix/smtpd[100]: 4A1B2C3D4E: client=x[192.0.2.1]", Format::Log),
            ("2026-11-28 10:00:01 10HmaX-000000005vi-0000 <= a@b.example H=[192.0.2.1] P=esmtp", Format::Log),
        ][..]),
        rest in hostile(MBOX_SEEDS, HEADER_TOKENS),
        noise in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let _ = finishes({ let n = noise.clone(); move || detect(&n) });
        let mut head = format!("{}\n", first.0).into_bytes();
        head.extend_from_slice(&rest);
        prop_assert_eq!(finishes(move || detect(&head)), Some(first.1));
    }
}

const PLAIN: &str = "Jun  4 10:01:00 mx postfix/smtpd[100]: 4A1B2C3D4E: client=x[192.0.2.1]\nJun  4 10:01:01 mx postfix/qmgr[101]: 4A1B2C3D4E: from=<a@b.example>, size=1, nrcpt=1 (queue active)\n";

fn decompress(bytes: Vec<u8>) -> Option<std::io::Result<Vec<u8>>> {
    finishes(move || {
        let c = Compression::sniff(&bytes)?;
        let mut out = Vec::new();
        Some(
            c.decoder(Box::new(Cursor::new(bytes)))
                .and_then(|mut d| d.read_to_end(&mut out))
                .map(|_| out),
        )
    })
}

fn any_compression() -> impl Strategy<Value = Compression> {
    prop::sample::select(
        &[
            Compression::Gzip,
            Compression::Zstd,
            Compression::Bzip2,
            Compression::Xz,
        ][..],
    )
}

proptest! {
    #![proptest_config(config(128))]

    /// A stream cut anywhere is an error, never a silently shorter text.
    #[test]
    fn truncated_streams_never_read_as_complete(c in any_compression(), cut in any::<Index>(), copies in 1usize..40) {
        let text = PLAIN.repeat(copies);
        let packed = compress(c, text.as_bytes());
        let at = cut.index(packed.len());
        match decompress(packed[..at].to_vec()) {
            None => prop_assert!(at < 6, "magic bytes intact but not sniffed"),
            Some(Ok(out)) => prop_assert_eq!(lossy(&out), text, "cut at {} of {}", at, packed.len()),
            Some(Err(_)) => {}
        }
    }

    /// Corrupt streams (bytes flipped, inserted, deleted; junk after the magic) end, with
    /// an error or with some text, never a panic or a hang.
    #[test]
    fn corrupt_streams_end(
        c in any_compression(),
        mutations in prop::collection::vec(mutation(), 1..4),
        junk in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let packed = compress(c, PLAIN.repeat(8).as_bytes());
        let magic_len = 6;
        let mut bad = packed[..magic_len].to_vec();
        bad.extend(apply(&packed[magic_len..], &mutations));
        let _ = decompress(bad);
        let mut garbage = packed[..magic_len].to_vec();
        garbage.extend(junk);
        let _ = decompress(garbage);
    }
}

// ---------------------------------------------------------------------------------------
// DMARC aggregate reports
// ---------------------------------------------------------------------------------------

const DMARC_REPORT: &str = include_str!("../../fixtures/dmarc/rules-rfc7489.xml");
const DMARC_ZIP: &[u8] = include_bytes!("../../fixtures/dmarc/rules-rfc9990.zip");
const DMARC_MESSAGE: &[u8] = include_bytes!("../../fixtures/dmarc/two-reports.eml");

proptest! {
    #![proptest_config(config(256))]

    /// Mutated reports, zips and report messages end as reports or as an error, never a
    /// panic or a hang; every pair a report yields has a count of at least its
    /// authenticated messages.
    #[test]
    fn mutated_reports_never_panic(
        which in 0usize..3,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let seed: &[u8] = [DMARC_REPORT.as_bytes(), DMARC_ZIP, DMARC_MESSAGE][which];
        let bad = apply(seed, &mutations);
        let reports = finishes(move || {
            use repudiate::extract::dmarc::{MAX_REPORT_BYTES, read_reports, reports_in_message};
            if which == 2 {
                reports_in_message(&bad, MAX_REPORT_BYTES)
            } else {
                read_reports(&bad)
            }
        });
        for report in reports.into_iter().flatten() {
            for row in report.rows {
                if let repudiate::extract::dmarc::ReportRow::Pair(p) = row {
                    prop_assert!(p.authenticated <= p.messages, "{p:?}");
                }
            }
        }
    }
}
