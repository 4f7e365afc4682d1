//! One `Received:` header value to a [`Hop`]: the connecting client's IP, its HELO name,
//! and whether the hop was an authenticated submission or a mail fetch (docs/design.md §3).
//!
//! One pass over words, comments and `;`, instead of SpamAssassin's per-MTA regexes: every
//! syntax puts the client in the `from` clause, either inside its TCP-info comment or as the
//! `from` token itself, so knowing where that clause ends is enough. Linear in the input.

use std::net::IpAddr;

use crate::net::parse_ip;

/// What the message walk needs from one Received header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hop {
    /// The connecting client, canonical (`IPv6:` and `%zone` dropped, v4-mapped as IPv4).
    pub ip: Option<IpAddr>,
    /// The HELO/EHLO name the client gave, when the header records one.
    pub helo: Option<String>,
    /// `with ESMTPA/ESMTPSA/...`, `(Authenticated sender: ...)` and the like.
    pub authenticated: bool,
    /// `with IMAP`/`with POP3`, fetchmail, getmail: the IP is a mailbox server.
    pub mail_fetch: bool,
}

/// `with` protocols of an authenticated session: RFC 3848's `...A` names plus the web-mail
/// hand-offs SpamAssassin also counts as authenticated.
const AUTH_PROTOCOLS: [&str; 12] = [
    "ESMTPA",
    "ESMTPSA",
    "LMTPA",
    "LMTPSA",
    "UTF8SMTPA",
    "UTF8SMTPSA",
    "UTF8LMTPA",
    "UTF8LMTPSA",
    "ASMTP",
    "HTTP",
    "HTTPS",
    "HTTPU",
];

/// Parses a Received header value (the text after `Received:`, possibly folded).
pub fn parse(value: &str) -> Hop {
    // Unbalanced parentheses are rare enough that finding the culprit only then is cheaper
    // than always looking; the second pass keeps the work linear.
    parse_with(Lexer::new(value, usize::MAX)).unwrap_or_else(|| {
        let flat_from = first_unclosed(value.as_bytes()).unwrap_or(usize::MAX);
        parse_with(Lexer::new(value, flat_from)).unwrap_or_default()
    })
}

/// `None` when the header ended inside a comment the lexer was not told is unclosed.
fn parse_with(mut lexer: Lexer<'_>) -> Option<Hop> {
    let mut hop = Hop {
        mail_fetch: mentions_fetcher(lexer.s.as_bytes()),
        ..Hop::default()
    };
    let mut phase = Phase::Start;
    let mut from = FromClause::default();
    let mut expect_protocol = false;
    let mut comment = Comment::Info;
    let mut comment_first = false;
    let mut helo_next = false;

    for (tok, depth) in lexer.by_ref() {
        match tok {
            // What follows the top-level `;` is the date.
            Tok::Semi => break,
            Tok::Open if depth == 0 => {
                expect_protocol = false;
                from.first = false;
                from.this_comment_ip = None;
                comment = Comment::Info;
                comment_first = true;
                helo_next = false;
            }
            Tok::Close if depth == 0 => from.end_comment(),
            Tok::Open | Tok::Close => {}
            Tok::Word(w) if depth == 0 => {
                if expect_protocol {
                    expect_protocol = false;
                    note_protocol(&mut hop, w);
                }
                if phase == Phase::Start {
                    if w.eq_ignore_ascii_case("from") {
                        phase = Phase::From;
                        from.first = true;
                        continue;
                    }
                    // `by ... (Postfix, from userid N)`, Gmail's internal `by 2002:...`.
                    phase = Phase::Rest;
                }
                if phase == Phase::From {
                    if !is_clause_keyword(w) {
                        from.top_word(w);
                        continue;
                    }
                    phase = Phase::Rest;
                }
                if w.eq_ignore_ascii_case("with") {
                    expect_protocol = true;
                }
            }
            Tok::Word(w) if depth == 1 => {
                if comment_first {
                    comment_first = false;
                    if starts_with_ic(w, "authenticated") || w.eq_ignore_ascii_case("auth:") {
                        hop.authenticated = true;
                        comment = Comment::Skip;
                        continue;
                    }
                    if phase != Phase::From || starts_with_ic(w, "envelope-") {
                        comment = Comment::Skip;
                        continue;
                    }
                    if is_helo_word(w) {
                        // qmail `(HELO x)`: the client's own name, never its address.
                        from.explicit_helo = Some(None);
                        helo_next = true;
                        comment = Comment::Helo;
                        continue;
                    }
                }
                if comment == Comment::Skip || phase != Phase::From {
                    continue;
                }
                if helo_next {
                    helo_next = false;
                    from.explicit_helo = Some(helo_name(w));
                    continue;
                }
                if comment == Comment::Helo {
                    continue;
                }
                if is_helo_word(w) {
                    // `(account user HELO x)`
                    from.explicit_helo = Some(None);
                    helo_next = true;
                } else if let Some(rest) = strip_prefix_ic(w, "helo=") {
                    from.explicit_helo = Some(helo_name(rest));
                } else if let Some(ip) = ip_in_word(w) {
                    from.this_comment_ip = Some(ip);
                }
            }
            Tok::Word(_) => {}
        }
    }

    if lexer.depth > 0 && lexer.flat_from == usize::MAX {
        return None;
    }
    from.end_comment();
    // A parenthesised IP is what the MTA saw; a `from [ip]` before it is only the HELO
    // literal (Postfix, Gmail), so it counts only when the comment has none (Exim).
    hop.ip = from.comment_ip.or(from.loose_ip).or(from.token_ip);
    hop.helo = from
        .explicit_helo
        .unwrap_or(from.name_helo)
        .map(str::to_owned);
    Some(hop)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the first top-level word.
    Start,
    /// Inside the `from` clause.
    From,
    /// `by`, `with`, `id`, `for`, `via` clauses: nothing there names the client.
    Rest,
}

/// What the current top-level comment is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Comment {
    /// TCP info and anything unrecognised: may hold the IP.
    Info,
    /// qmail `(HELO x)`.
    Helo,
    /// Authentication, envelope and comments outside the `from` clause.
    Skip,
}

#[derive(Default)]
struct FromClause<'a> {
    /// The next top-level word is the name right after `from`.
    first: bool,
    /// The name right after `from`, when it is a name.
    name_helo: Option<&'a str>,
    /// `Some` once a HELO was recorded explicitly (`(HELO x)`, `helo=x`); its inner `None`
    /// means an address literal or nothing, which must not fall back to `name_helo`.
    explicit_helo: Option<Option<&'a str>>,
    /// The first comment with an IP gives it; in that comment the last IP counts, as in
    /// `(name [ip])` the name may itself be a literal (`([IPv6:::ffff:192.168.1.168] [ip])`).
    comment_ip: Option<IpAddr>,
    this_comment_ip: Option<IpAddr>,
    /// A top-level `[ip]` after the name (fetchmail's `from host [ip] by`).
    loose_ip: Option<IpAddr>,
    /// The `from` token itself: `from [ip] (helo=...)`, `from 192.0.2.1 by`.
    token_ip: Option<IpAddr>,
}

impl<'a> FromClause<'a> {
    fn end_comment(&mut self) {
        self.comment_ip = self.comment_ip.or(self.this_comment_ip.take());
    }

    fn top_word(&mut self, w: &'a str) {
        if !self.first {
            if self.loose_ip.is_none() {
                self.loose_ip = ip_in_word(w);
            }
            return;
        }
        self.first = false;
        // `unknown` is no name; `?IPv6:...?` is Gmail's spelling of a literal HELO.
        if w.eq_ignore_ascii_case("unknown") || w.starts_with('?') {
            return;
        }
        match w.find('[') {
            Some(0) => self.token_ip = bracketed_ip(w),
            Some(i) => {
                self.loose_ip = bracketed_ip(&w[i..]);
                self.name_helo = helo_name(&w[..i]);
            }
            None => {
                self.token_ip = ip(w);
                self.name_helo = helo_name(w);
            }
        }
    }
}

fn is_clause_keyword(w: &str) -> bool {
    ["by", "with", "id", "for", "via"]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k))
}

fn is_helo_word(w: &str) -> bool {
    w.eq_ignore_ascii_case("helo") || w.eq_ignore_ascii_case("ehlo")
}

fn note_protocol(hop: &mut Hop, w: &str) {
    if AUTH_PROTOCOLS.iter().any(|p| w.eq_ignore_ascii_case(p)) {
        hop.authenticated = true;
    }
    if starts_with_ic(w, "imap") || starts_with_ic(w, "pop") {
        hop.mail_fetch = true;
    }
}

/// A HELO argument as a name: address literals, IPs and empty names give `None`. Longer than
/// any DNS name is no name either (and keeps a hostile header from costing a huge copy).
fn helo_name(w: &str) -> Option<&str> {
    let w = w.trim_end_matches('.');
    let literal = w.starts_with('[') || w.starts_with('?') || ip(w).is_some();
    (!w.is_empty() && w.len() <= 255 && !literal).then_some(w)
}

/// An IP inside a comment word: `[ip]`, `[ip]:port`, `name[ip]`, bare `ip`, `ident@ip`,
/// `user@domain@[ip]`, and the odd `ip:port` (LSMTP) and `ip[ip` (MailEssentials).
fn ip_in_word(w: &str) -> Option<IpAddr> {
    let w = match memchr::memrchr(b'@', w.as_bytes()) {
        Some(at) => &w[at + 1..],
        None => w,
    };
    // An IPv4 address starts with a digit and an IPv6 one holds a `:`; anything else needs
    // a `[`. Most comment words are names and protocol words, rejected here.
    let b = w.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_digit) && memchr::memchr2(b'[', b':', b).is_none() {
        return None;
    }
    match w.find('[') {
        Some(open) => bracketed_ip(&w[open..]).or_else(|| ip_port(&w[..open])),
        None => ip_port(w.trim_end_matches([',', ';'])),
    }
}

/// `[ip]` at the start of `w`, anything after the `]` ignored.
fn bracketed_ip(w: &str) -> Option<IpAddr> {
    let inner = w.strip_prefix('[')?;
    ip_port(&inner[..inner.find(']')?])
}

/// An IP, or an IPv4 address with a `:port` (ecelerity's `[192.0.2.1:42266]`).
fn ip_port(s: &str) -> Option<IpAddr> {
    ip(s).or_else(|| {
        let (addr, port) = s.rsplit_once(':')?;
        let v4 = addr.contains('.') && !addr.contains(':');
        (v4 && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())).then(|| ip(addr))?
    })
}

/// `parse_ip` for untrusted words: cheap rejection first, and ASCII only because it slices
/// by byte offset.
fn ip(s: &str) -> Option<IpAddr> {
    if s.len() > 64 || !s.is_ascii() {
        return None;
    }
    let b = s.as_bytes();
    let b = match b.get(..5) {
        Some(p) if p.eq_ignore_ascii_case(b"ipv6:") => &b[5..],
        _ => b,
    };
    let addr = b.split(|&c| c == b'%').next().unwrap_or_default();
    let plausible = addr
        .iter()
        .all(|&c| c.is_ascii_hexdigit() || c == b'.' || c == b':');
    if !plausible || addr.len() < 2 {
        return None;
    }
    parse_ip(s)
}

fn starts_with_ic(w: &str, prefix: &str) -> bool {
    w.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn strip_prefix_ic<'a>(w: &'a str, prefix: &str) -> Option<&'a str> {
    // The prefix is ASCII, so its length is a char boundary whenever it matches.
    starts_with_ic(w, prefix).then(|| &w[prefix.len()..])
}

/// `fetchmail` or `getmail` anywhere, any case.
fn mentions_fetcher(b: &[u8]) -> bool {
    memchr::memchr2_iter(b'm', b'M', b).any(|i| {
        b.get(i..i + 4)
            .is_some_and(|s| s.eq_ignore_ascii_case(b"mail"))
            && (ends_with_ic(&b[..i], b"fetch") || ends_with_ic(&b[..i], b"get"))
    })
}

fn ends_with_ic(head: &[u8], tail: &[u8]) -> bool {
    head.len() >= tail.len() && head[head.len() - tail.len()..].eq_ignore_ascii_case(tail)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok<'a> {
    Word(&'a str),
    Open,
    Close,
    /// Only at depth 0: inside comments `;` is ordinary text.
    Semi,
}

/// Splits a header into words, comment parentheses and top-level `;`, with the nesting depth:
/// a word's own depth, the depth outside the parenthesis for `Open` and `Close`.
///
/// An unclosed `(` would swallow the `by` clause and the date into a comment, so from the
/// first one that never closes on, parentheses count as spaces.
struct Lexer<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
    flat_from: usize,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str, flat_from: usize) -> Self {
        Lexer {
            s,
            pos: 0,
            depth: 0,
            flat_from,
        }
    }
}

/// Byte classes for the lexer; everything else is part of a word.
const SPACE: u8 = 1;
const PAREN: u8 = 2;
const SEMI: u8 = 4;
const BACKSLASH: u8 = 8;
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c <= b' ' as usize {
        t[c] = SPACE;
        c += 1;
    }
    t[b'(' as usize] = PAREN;
    t[b')' as usize] = PAREN;
    t[b';' as usize] = SEMI;
    t[b'\\' as usize] = BACKSLASH;
    t
};

impl<'a> Iterator for Lexer<'a> {
    type Item = (Tok<'a>, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.s.as_bytes();
        let mut i = self.pos;
        while let Some(&c) = b.get(i) {
            let class = CLASS[c as usize];
            if class == SPACE || (class == PAREN && i >= self.flat_from) {
                i += 1;
            } else if c == b'(' {
                self.pos = i + 1;
                self.depth += 1;
                return Some((Tok::Open, self.depth - 1));
            } else if c == b')' {
                i += 1;
                // A stray `)` at the top level is noise.
                if self.depth > 0 {
                    self.pos = i;
                    self.depth -= 1;
                    return Some((Tok::Close, self.depth));
                }
            } else if class == SEMI && self.depth == 0 {
                self.pos = i + 1;
                return Some((Tok::Semi, 0));
            } else {
                let start = i;
                if self.depth == 0 {
                    while b
                        .get(i)
                        .is_some_and(|&c| CLASS[c as usize] & (SPACE | PAREN | SEMI) == 0)
                    {
                        i += 1;
                    }
                } else {
                    while let Some(&c) = b.get(i) {
                        match CLASS[c as usize] {
                            SPACE | PAREN => break,
                            // RFC 5322 quoted-pair: `\)` does not close a comment.
                            BACKSLASH => i = (i + 2).min(b.len()),
                            _ => i += 1,
                        }
                    }
                }
                self.pos = i;
                // Every boundary is an ASCII byte or the end, so this always succeeds.
                if let Some(w) = self.s.get(start..i) {
                    return Some((Tok::Word(w), self.depth));
                }
            }
        }
        self.pos = i;
        None
    }
}

/// Where the first `(` that is never closed starts: the last time the depth left zero, if it
/// never came back. Same quoted-pair rule as the lexer.
fn first_unclosed(b: &[u8]) -> Option<usize> {
    let (mut depth, mut open, mut skip_to) = (0usize, 0, 0);
    for i in memchr::memchr3_iter(b'(', b')', b'\\', b) {
        if i < skip_to {
            continue;
        }
        match b[i] {
            b'\\' if depth > 0 => skip_to = i + 2,
            b'(' => {
                if depth == 0 {
                    open = i;
                }
                depth += 1;
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    (depth > 0).then_some(open)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARIANTS: &str = include_str!("../../fixtures/received/received-variants.tsv");
    const SA_4_0_1: &str = include_str!("../../fixtures/received/received-variants.sa-4.0.1.tsv");

    /// Where docs/design.md §3 deliberately differs from SpamAssassin 4.0.1.
    const SA_IP_EXCEPTIONS: [(&str, &str); 1] = [(
        // SpamAssassin skips the fetch hop (and restarts its walk); we report the mailbox
        // server with `mail_fetch` so the walk can skip it itself.
        "fetchmail",
        "192.0.2.20",
    )];
    /// `?IPv6:...?` is how Gmail records an address-literal HELO; it is no name to check.
    const SA_HELO_EXCEPTIONS: [&str; 1] = ["gmail-ipv6-qmark"];

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    fn sa_field<'a>(relays: &'a str, key: &str) -> &'a str {
        relays
            .split_ascii_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {key}= in {relays}"))
    }

    #[test]
    fn every_variant_agrees_with_spamassassin() {
        let mut sa_lines = SA_4_0_1.lines();
        assert_eq!(sa_lines.next(), Some("label\tstate\trelays"));
        let sa: Vec<(&str, &str, &str)> = sa_lines
            .map(|l| {
                let mut f = l.splitn(3, '\t');
                (f.next().unwrap(), f.next().unwrap(), f.next().unwrap_or(""))
            })
            .collect();
        let variants: Vec<(&str, &str)> = VARIANTS
            .lines()
            .map(|l| l.split_once('\t').unwrap())
            .collect();
        assert_eq!(variants.len(), 35);
        assert_eq!(variants.len(), sa.len());

        for ((label, value), (sa_label, state, relays)) in variants.iter().zip(&sa) {
            assert_eq!(label, sa_label);
            let hop = parse(value);
            let exception = SA_IP_EXCEPTIONS.iter().find(|(l, _)| l == label);
            if let Some((_, want)) = exception {
                assert_eq!(hop.ip, ip(want), "{label}");
            } else if *state == "parsed" {
                assert_eq!(
                    hop.ip,
                    crate::net::parse_ip(sa_field(relays, "ip")),
                    "{label}"
                );
            } else {
                assert!(
                    matches!(*state, "skipped" | "UNPARSEABLE"),
                    "{label}: {state}"
                );
                assert_eq!(hop.ip, None, "{label}");
            }
            assert_eq!(hop.mail_fetch, *label == "fetchmail", "{label}");
            if *state != "parsed" {
                continue;
            }
            let auth = sa_field(relays, "auth");
            assert_eq!(hop.authenticated, !auth.is_empty(), "{label}: auth={auth}");
            let helo = sa_field(relays, "helo");
            if helo.starts_with('!') || SA_HELO_EXCEPTIONS.contains(label) {
                assert_eq!(hop.helo, None, "{label}: helo={helo}");
            } else {
                assert_eq!(hop.helo.as_deref(), Some(helo), "{label}");
            }
        }
    }

    #[track_caller]
    fn check(value: &str, want_ip: Option<&str>, helo: Option<&str>, auth: bool) {
        let hop = parse(value);
        assert_eq!(hop.ip, want_ip.and_then(ip), "ip of {value:?}");
        assert_eq!(hop.helo.as_deref(), helo, "helo of {value:?}");
        assert_eq!(hop.authenticated, auth, "auth of {value:?}");
    }

    #[test]
    fn smap_without_space() {
        check(
            "from viper.oldcity.dca.net(216.158.38.4) by ns.ATComputing.nl via smap (V2.1)\n\tid xma000123; Mon, 1 Jan 2001 00:00:00 +0100",
            Some("216.158.38.4"),
            Some("viper.oldcity.dca.net"),
            false,
        );
    }

    #[test]
    fn exchange_bare_ipv6_in_parentheses_never_the_by_host() {
        check(
            "from DM6PR06MB4475.namprd06.prod.outlook.com (2603:10b6:207:3d::31) by BL0PR06MB4465.namprd06.prod.outlook.com with HTTPS id 12345 via Frontend Transport; Mon, 1 Jul 2019 10:00:00 +0000",
            Some("2603:10b6:207:3d::31"),
            Some("DM6PR06MB4475.namprd06.prod.outlook.com"),
            true,
        );
        check(
            "from X (192.0.2.40) by Y (10.13.182.200) with Microsoft SMTP Server id 15.20.1.1; Tue, 4 Jun 2024 10:00:00 +0000",
            Some("192.0.2.40"),
            Some("X"),
            false,
        );
        check(
            "from X by Y (10.13.182.200) with Microsoft SMTP Server id 15.20.1.1",
            None,
            Some("X"),
            false,
        );
    }

    #[test]
    fn zone_suffix_dropped() {
        check(
            "from a.example ([fe80::1%6]) by b.example ([fe80::2%6]) with mapi id 15.20.1943.023",
            Some("fe80::1"),
            Some("a.example"),
            false,
        );
    }

    #[test]
    fn exim_forms() {
        check(
            "from [::1] (port=42028 helo=mm2.emwd.com)\n\tby mm2.emwd.com with esmtp (Exim 4.91)\n\t(envelope-from <a@example.org>)\n\tid 1hQ-0001; Mon, 13 May 2019 09:00:00 -0400",
            Some("::1"),
            Some("mm2.emwd.com"),
            false,
        );
        check(
            "from [192.0.2.55] (helo=client.example.) by mx.example.net with esmtpa (Exim 4.96) id 1",
            Some("192.0.2.55"),
            Some("client.example"),
            true,
        );
        check(
            "from mail-vs1-f47.google.com ([209.85.217.47]:46772)\n by mm2.emwd.com with esmtps (TLSv1.2:ECDHE-RSA-AES128-GCM-SHA256:128) (Exim 4.91) (envelope-from <x@y.z>) id 1",
            Some("209.85.217.47"),
            Some("mail-vs1-f47.google.com"),
            false,
        );
        check(
            "from [192.0.2.90] (port=25 helo=[192.0.2.90]) by mx with esmtp (Exim 4.96) id 1",
            Some("192.0.2.90"),
            None,
            false,
        );
        check(
            "from www-data by web.example.net with local (Exim 4.96) (envelope-from <www-data@example.net>) id 1rXyZa; Tue, 04 Jun 2024 10:00:00 +0000",
            None,
            Some("www-data"),
            false,
        );
    }

    #[test]
    fn uppercase_ipv6_literal() {
        check(
            "from mail.example.org (mail.example.org [IPv6:2001:DB8::1]) by mx.example.net (8.17.1/8.17.1) with ESMTP id x",
            Some("2001:db8::1"),
            Some("mail.example.org"),
            false,
        );
    }

    #[test]
    fn qmail_forms() {
        check(
            "from unknown (HELO ) (185.137.84.106) by smtp.customers.net with SMTP; 1 Jan 2020 00:00:00 -0000",
            Some("185.137.84.106"),
            None,
            false,
        );
        check(
            "from unknown (HELO 192.168.15.15) (189.207.175.29) by smtp.example.net with SMTP; 1 Jan 2020",
            Some("189.207.175.29"),
            None,
            false,
        );
        check(
            "from rdns.example (HELO helo.example) (ident@192.0.2.14) by mx with SMTP; 1 Jan 2020",
            Some("192.0.2.14"),
            Some("helo.example"),
            false,
        );
        check(
            "from unknown (HELO ljhw) (zyb@sgis.com.cn@[223.152.177.168]) (envelope-sender <zyb@sgis.com.cn>) by 0 (magicmail) with SMTP for <a@b.c>; 1 Jan 2020",
            Some("223.152.177.168"),
            Some("ljhw"),
            false,
        );
        check(
            "from unknown (HELO client) (2001:db8::7) by mx with SMTP; 1 Jan 2020",
            Some("2001:db8::7"),
            Some("client"),
            false,
        );
        check(
            "(qmail 12345 invoked from network); 4 Jun 2024 10:00:00 -0000",
            None,
            None,
            false,
        );
        check("(qmail 1 invoked by uid 89); 4 Jun 2024", None, None, false);
    }

    #[test]
    fn account_helo_form() {
        check(
            "from [129.212.207.5] (account captivatedm41@tin.it HELO idmktqmly.wpncbwhfbr.tin.it)\n\tby  (Postfix) with esmtpa (Exim 4.86)\n\tid 1; Mon, 20 Mar 2017 03:11:54 +0400",
            Some("129.212.207.5"),
            Some("idmktqmly.wpncbwhfbr.tin.it"),
            true,
        );
    }

    #[test]
    fn bare_ip_and_empty_by() {
        check(
            "from 139.88.66.159 by ; Mon, 20 Mar 2017 03:11:54 +0400",
            Some("139.88.66.159"),
            None,
            false,
        );
        check(
            "FROM 192.0.2.3 BY relay.example WITH SMTP ; date",
            Some("192.0.2.3"),
            None,
            false,
        );
    }

    #[test]
    fn sendmail_forms() {
        check(
            "from helo.example (host.example.org [192.0.2.12] (may be forged))\r\n\tby mx.example.net (8.15.2/8.15.2) with ESMTP id 4; Tue, 4 Jun 2024",
            Some("192.0.2.12"),
            Some("helo.example"),
            false,
        );
        check(
            "from client.example (client.example [198.51.100.8])\n\t(authenticated bits=0)\n\tby mx.example.net (8.17.1/8.17.1) with ESMTP id 5",
            Some("198.51.100.8"),
            Some("client.example"),
            true,
        );
        check(
            "(from alice@localhost)\n\tby host.example.net (8.17.1/8.17.1/Submit) id 454A0A0y012347; Tue, 4 Jun 2024",
            None,
            None,
            false,
        );
        check(
            "by mx.example.net (Postfix, from userid 1000) id 4Vt9; Tue, 4 Jun 2024",
            None,
            None,
            false,
        );
    }

    #[test]
    fn authentication_markers() {
        check(
            "from computer_3436 (unknown [43.230.105.145]) (Authenticated sender: jdazey@alexandersmith.com) by omf06.b.hostedemail.com (Postfix) with ESMTPA id 1",
            Some("43.230.105.145"),
            Some("computer_3436"),
            true,
        );
        // Only the marker counts, not a later `with` protocol.
        check(
            "from a.example (a.example [192.0.2.1]) (Authenticated sender: u@[192.0.2.99]) by mx (Postfix) with ESMTP id 1",
            Some("192.0.2.1"),
            Some("a.example"),
            true,
        );
        check(
            "from mail.example.org (mail.example.org [::ffff:192.0.2.21]) (AUTH: LOGIN alice, TLS: TLSv1/SSLv3,256bits,AES256-SHA) by mx.example.net with ESMTPSA; date",
            Some("192.0.2.21"),
            Some("mail.example.org"),
            true,
        );
        for proto in [
            "ESMTPA",
            "esmtpsa",
            "LMTPSA",
            "UTF8SMTPSA",
            "UTF8LMTPA",
            "ASMTP",
            "HTTP",
            "HTTPU",
        ] {
            let hop = parse(&format!(
                "from a (a [192.0.2.1]) by b with {proto} id 1; date"
            ));
            assert!(hop.authenticated, "{proto}");
        }
        for proto in [
            "ESMTP",
            "ESMTPS",
            "UTF8SMTP",
            "UTF8SMTPS",
            "SMTP",
            "LMTP",
            "esmtps",
        ] {
            let hop = parse(&format!(
                "from a (a [192.0.2.1]) by b with {proto} id 1; date"
            ));
            assert!(!hop.authenticated, "{proto}");
        }
        // Only the session's own protocol: a `with` inside a comment or in the date is not one.
        assert!(
            !parse("from a (a [192.0.2.1]) (using TLS with ESMTPSA) by b with ESMTP; x")
                .authenticated
        );
        assert!(!parse("from a (a [192.0.2.1]) by b with ESMTP; with ESMTPA").authenticated);
    }

    #[test]
    fn mail_fetch_markers() {
        for (value, fetch) in [
            (
                "from pop.example [192.0.2.20] by localhost with POP3 (fetchmail-6.4.37) for <u@localhost> (single-drop); date",
                true,
            ),
            (
                "from imap.example (imap.example [192.0.2.20]) by localhost with imap4; date",
                true,
            ),
            (
                "from pop.example (pop.example [192.0.2.20]) by localhost with POP3S id 1; date",
                true,
            ),
            (
                "from pop.example ([192.0.2.20]) by host with SMTP (GetMail v5); date",
                true,
            ),
            (
                "from a.example (a.example [192.0.2.1]) by b with ESMTP id 1; date",
                false,
            ),
        ] {
            let hop = parse(value);
            assert_eq!(hop.mail_fetch, fetch, "{value}");
            assert!(hop.ip.is_some(), "{value}");
        }
    }

    #[test]
    fn gmail_question_mark_helo() {
        check(
            "from ?IPv6:::ffff:192.168.1.5? (p5B2A0001.dip0.t-ipconnect.de. [203.0.113.91]) by smtp.gmail.com with ESMTPSA id h7; date",
            Some("203.0.113.91"),
            None,
            true,
        );
        check(
            "by 2002:a05:6402:1234:b0:57a:1234:5678 with SMTP id a1csp123456edb; Tue, 4 Jun 2024 03:00:01 -0700 (PDT)",
            None,
            None,
            false,
        );
    }

    #[test]
    fn folded_headers() {
        check(
            "from mail.example.org\r\n\t(mail.example.org\r\n [192.0.2.10])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\r\n\t(No client certificate requested)\r\n\tby mx.example.net (Postfix) with ESMTPS id 4Vt9\r\n\tfor <u@example.net>; Tue,  4 Jun 2024 10:00:00 +0000 (UTC)",
            Some("192.0.2.10"),
            Some("mail.example.org"),
            false,
        );
        check(
            "from\tunknown\n\t(HELO\tmail.example.org)\n\t(192.0.2.14)\n\tby mx.example.net with SMTP;\n\t4 Jun 2024",
            Some("192.0.2.14"),
            Some("mail.example.org"),
            false,
        );
    }

    #[test]
    fn ip_only_from_the_from_clause() {
        // No `by`: `with`, `id`, `for`, `via` and the date still end the clause.
        check(
            "from spammer.example with ESMTP id XYZ (192.0.2.1); date",
            None,
            Some("spammer.example"),
            false,
        );
        check(
            "from mail.example.org by mx.example.net; (192.0.2.1) [192.0.2.2]",
            None,
            Some("mail.example.org"),
            false,
        );
        check(
            "from a.example for <u@[192.0.2.1]>; date",
            None,
            Some("a.example"),
            false,
        );
        check(
            "from a.example (envelope-from <u@[192.0.2.1]>) by b ([192.0.2.2]) with ESMTP id 1 (envelope-from <x@[192.0.2.3]>); date [192.0.2.4]",
            None,
            Some("a.example"),
            false,
        );
        // The fetchmail shape: an `[ip]` after the name, outside any comment.
        check(
            "from imap.example.net [192.0.2.20] by localhost with IMAP; date",
            Some("192.0.2.20"),
            Some("imap.example.net"),
            false,
        );
        // `host[ip]` glued together, at the top level and inside the comment.
        check(
            "from host.example[192.0.2.30] by mx; date",
            Some("192.0.2.30"),
            Some("host.example"),
            false,
        );
        check(
            "from [209.202.248.109]\n    (slip-32-103-249-10.ma.us.prserv.net[32.103.249.10]) by prserv.net (out4)\n    with ESMTP id <2002082213150220405qu8jce>; Thu, 22 Aug 2002 13:15:07 +0000",
            Some("32.103.249.10"),
            None,
            false,
        );
        check(
            "from cagf97200.com(pb84.zabrze.sdi.tpnet.pl[217.98.193.84]) by WWW2.IBM.IT (IBM OS/400 SMTP V04R05M00) with TCP; Sun, 28 Jul 2002 21:56:09 +0000",
            Some("217.98.193.84"),
            Some("cagf97200.com"),
            false,
        );
    }

    #[test]
    fn last_ip_of_the_tcp_info_comment() {
        check(
            "from  ([IPv6:::ffff:192.168.1.168] [213.137.15.32])\n\tby cmr-cushag.internal.pc4.atmailcloud.com (Exim/[ipv6:::ffff:192.168.1.168]) with ESMTPSA\n\t(envelope-from <drtaylor@manx.net>)\n\tid 1v3Di4; date",
            Some("213.137.15.32"),
            None,
            true,
        );
        // ecelerity: `[ip:port]`
        check(
            "from [71.70.153.3] ([71.70.153.3:42266] helo=mail.poochiereds.net)\n\tby cdptpa-oedge01.mail.rr.com (envelope-from <j@example.org>)\n\t(ecelerity 2.2.2.39 r()) with ESMTP id 78/FA; date",
            Some("71.70.153.3"),
            Some("mail.poochiereds.net"),
            false,
        );
        check("from a ([192.0.2.7:2x]) by b; d", None, Some("a"), false);
        check("from a ([192.0.2.7:]) by b; d", None, Some("a"), false);
        check(
            "from alabama (192.168.4.195:1146) by hawaii.ireaye.net (LSMTP for Windows NT v1.1b) with SMTP id <82.000001A0@hawaii.ireaye.net>; 21 Jul 2002 11:28:26 -0400",
            Some("192.168.4.195"),
            Some("alabama"),
            false,
        );
        check(
            "From LOCALHOST.LOCALDOMAIN (148.121.170.2[148.121.170.2\n    port:4721]) by grimm1.grimstad Mail essentials (server 2.422) with SMTP\n    id: <7866@grimm1.grimstad>; Mon,\n    22 Jul 2002",
            Some("148.121.170.2"),
            Some("LOCALHOST.LOCALDOMAIN"),
            false,
        );
        check(
            "from a ([2001:db8::1:25]) by b; d",
            Some("2001:db8::1:25"),
            Some("a"),
            false,
        );
    }

    #[test]
    fn invalid_ips_are_no_ips() {
        check(
            "from a (a [123.456.789.1]) by b; date",
            None,
            Some("a"),
            false,
        );
        check("from a (a [192.0.2.1) by b; date", None, Some("a"), false);
        check("from a (a []) by b; date", None, Some("a"), false);
        check("from [] (helo=x) by b; date", None, Some("x"), false);
        check(
            "from a (Exim 4.96) (8.17.1/8.17.1) by b; date",
            None,
            Some("a"),
            false,
        );
    }

    #[test]
    fn unbalanced_parentheses() {
        // An unclosed `(` in the by clause must not hide `with` nor pull its IP in.
        check(
            "from a (a [192.0.2.1]) by b ([10.0.0.1] with ESMTPSA id 1; date",
            Some("192.0.2.1"),
            Some("a"),
            true,
        );
        // An unclosed one in the from clause: the IP is still found, the by clause's is not.
        check(
            "from a (a [192.0.2.1] by b [10.0.0.1]; date",
            Some("192.0.2.1"),
            Some("a"),
            false,
        );
        check(
            "from a (a [192.0.2.1])) by b with ESMTP; date",
            Some("192.0.2.1"),
            Some("a"),
            false,
        );
        check(
            "from a (a \\) [192.0.2.1]) by b; date",
            Some("192.0.2.1"),
            Some("a"),
            false,
        );
        check(
            "from a (a [192.0.2.1] \\",
            Some("192.0.2.1"),
            Some("a"),
            false,
        );
    }

    #[test]
    fn non_ascii_never_panics() {
        for value in [
            "from abcdé (abcdé [1234é5]) by b",
            "from IPv6é:: (IPv6é::1 [IPv6é::1]) by b",
            "from ééé (HELO ééé.) (ééé@[1.2.3.4]) by b with ÉSMTPA",
            "from \u{1F600} (\\\u{1F600} [\u{1F600}]) by b",
        ] {
            let _ = parse(value);
        }
        check(
            "from héllo.example (x [192.0.2.1]) by b; d",
            Some("192.0.2.1"),
            Some("héllo.example"),
            false,
        );
    }

    #[test]
    fn overlong_helo_is_dropped() {
        let long = format!("from {} ([192.0.2.1]) by b; d", "a".repeat(300));
        assert_eq!(parse(&long).helo, None);
        assert_eq!(parse(&long).ip, ip("192.0.2.1"));
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn never_panics_on_noise_or_truncation() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let pieces: [&[u8]; 24] = [
            b"from ",
            b"by ",
            b"with ",
            b"ESMTPSA ",
            b"HELO ",
            b"helo=",
            b"(",
            b")",
            b"[",
            b"]",
            b"\\",
            b";",
            b"@",
            b":",
            b".",
            b" ",
            b"\r\n\t",
            b"IPv6:",
            b"192.0.2.1",
            b"::ffff:",
            b"%6",
            b"\xC3\xA9",
            b"\xF0\x9F\x98\x80",
            b"?",
        ];
        for _ in 0..4000 {
            let mut bytes = Vec::new();
            for _ in 0..rng.below(40) {
                if rng.below(4) == 0 {
                    bytes.push(rng.next() as u8);
                } else {
                    bytes.extend_from_slice(pieces[rng.below(pieces.len())]);
                }
            }
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }
        for line in VARIANTS.lines() {
            let value = line.split_once('\t').unwrap().1;
            for (i, _) in value.char_indices() {
                let _ = parse(&value[..i]);
                let _ = parse(&value[i..]);
            }
        }
    }

    #[test]
    fn linear_on_huge_headers() {
        const N: usize = 1 << 20;
        for unit in [
            "(",
            ")",
            "((a)",
            "[",
            "\\(",
            "from ",
            "a ",
            "mail",
            "(HELO ",
            "[1.2.3.4] ",
        ] {
            let mut value = String::from("from a (a [192.0.2.1]) ");
            while value.len() < N {
                value.push_str(unit);
            }
            let start = std::time::Instant::now();
            let hop = parse(&value);
            assert_eq!(hop.ip, ip("192.0.2.1"), "{unit}");
            // Generous for a debug build; a quadratic scan of 1 MB would take many minutes.
            assert!(
                start.elapsed().as_secs() < 20,
                "{unit}: {:?}",
                start.elapsed()
            );
        }
    }
    /// `ip_in_word` before the cheap rejection of words that cannot hold an address.
    fn ip_in_word_unfiltered(w: &str) -> Option<IpAddr> {
        let w = match w.rfind('@') {
            Some(at) => &w[at + 1..],
            None => w,
        };
        match w.find('[') {
            Some(open) => bracketed_ip(&w[open..]).or_else(|| ip_port(&w[..open])),
            None => ip_port(w.trim_end_matches([',', ';'])),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        #[test]
        fn rejecting_words_early_changes_no_result(
            parts in proptest::collection::vec(
                proptest::sample::select(&[
                    "192", ".", "0", "2", "1", ":", "::", "ffff", "fe80", "IPv6:", "ipv6", "[", "]",
                    "@", "%", "eth0", ",", ";", "a", "f", "x.example", "\u{e9}", "25",
                ][..]),
                0..10,
            )
        ) {
            let w: String = parts.concat();
            proptest::prop_assert_eq!(ip_in_word(&w), ip_in_word_unfiltered(&w), "{}", w);
        }
    }
}
