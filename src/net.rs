//! IP addresses as the report sees them: canonical forms, CIDR networks, and the
//! fixed list of "internal" ranges from docs/design.md §3.
//!
//! The private/CGNAT/link-local/unique-local list is spelled out by hand on purpose:
//! documentation and benchmarking ranges must count as public, so a generic
//! "is global" test from the standard library would be wrong here.

use std::cmp::Ordering;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Turns an IPv4-mapped IPv6 address into plain IPv4; every other address is unchanged.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Parses an address as it appears in headers and logs: optional `IPv6:` prefix (any case),
/// optional `%zone` suffix, IPv4-mapped forms. The result is canonical.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    // Most client addresses in logs are plain dotted quads; read those without std's
    // general parser, which costs several times more on the log hot path.
    if let Some(v4) = plain_ipv4(text.as_bytes()) {
        return Some(IpAddr::V4(v4));
    }
    let mut s = text.trim();
    // `get` rather than slicing: the text may hold multi-byte characters at any position.
    if s.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("ipv6:")) {
        s = &s[5..];
    }
    if let Some(pos) = s.find('%') {
        s = &s[..pos];
    }
    if s.is_empty() || s.len() > 45 {
        return None;
    }
    // Ipv4Addr::from_str rejects leading zeros and out-of-range octets, which is what we
    // want for anonymised logs such as `[123.456.789.1]`.
    IpAddr::from_str(s).ok().map(canonical)
}

/// The common dotted quad, read by hand (std's general parser costs several times more).
/// Accepts only what `Ipv4Addr::from_str` accepts (no leading zeros, octets up to 255),
/// and `None` sends everything else to the general parser, so results never differ.
pub fn plain_ipv4(s: &[u8]) -> Option<Ipv4Addr> {
    // An octet at a time, its digits unrolled: a merge reads an address per row.
    let mut octets = [0u8; 4];
    let mut rest = s;
    for (n, octet) in octets.iter_mut().enumerate() {
        let (value, used) = octet_at(rest)?;
        *octet = value;
        rest = &rest[used..];
        if n < 3 {
            rest = rest.strip_prefix(b".")?;
        }
    }
    rest.is_empty().then(|| Ipv4Addr::from(octets))
}

/// The decimal octet `s` starts with and its length: one to three digits, no leading
/// zero, at most 255, not followed by a fourth digit.
fn octet_at(s: &[u8]) -> Option<(u8, usize)> {
    let digit = |i: usize| s.get(i).map(|b| b.wrapping_sub(b'0')).filter(|d| *d < 10);
    let a = digit(0)?;
    let Some(b) = digit(1) else {
        return Some((a, 1));
    };
    if a == 0 {
        return None;
    }
    let Some(c) = digit(2) else {
        return Some((a * 10 + b, 2));
    };
    let value = u16::from(a) * 100 + u16::from(b) * 10 + u16::from(c);
    if digit(3).is_some() || value > 255 {
        return None;
    }
    Some((value as u8, 3))
}

/// Orders addresses the way the CSV is sorted: IPv4 before IPv6, each numerically.
pub fn cmp_ip(a: &IpAddr, b: &IpAddr) -> Ordering {
    match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) => x.cmp(y),
        (IpAddr::V6(x), IpAddr::V6(y)) => x.cmp(y),
        (IpAddr::V4(_), IpAddr::V6(_)) => Ordering::Less,
        (IpAddr::V6(_), IpAddr::V4(_)) => Ordering::Greater,
    }
}

/// A CIDR network. Host bits beyond the prefix are cleared on parse; an IPv4-mapped
/// IPv6 network (`::ffff:192.0.2.0/120`) becomes its IPv4 form (`192.0.2.0/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn new(addr: IpAddr, prefix: u8) -> Option<IpNet> {
        let (addr, prefix) = match addr {
            IpAddr::V6(v6) if prefix >= 96 => match v6.to_ipv4_mapped() {
                Some(v4) => (IpAddr::V4(v4), prefix - 96),
                None => (addr, prefix),
            },
            _ => (addr, prefix),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then(|| IpNet {
            addr: mask(addr, prefix),
            prefix,
        })
    }

    /// The network holding exactly one address.
    pub fn host(ip: IpAddr) -> IpNet {
        let ip = canonical(ip);
        let prefix = if ip.is_ipv4() { 32 } else { 128 };
        IpNet { addr: ip, prefix }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        ip.is_ipv4() == self.addr.is_ipv4() && mask(ip, self.prefix) == self.addr
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let keep = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & keep))
        }
        IpAddr::V6(v6) => {
            let keep = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & keep))
        }
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<IpNet, String> {
        let s = s.trim();
        let Some((a, p)) = s.split_once('/') else {
            return parse_ip(s)
                .map(IpNet::host)
                .ok_or_else(|| format!("not an IP address or CIDR: {s:?}"));
        };
        let addr = IpAddr::from_str(a).map_err(|_| format!("not an IP address: {a:?}"))?;
        let prefix: u8 = p
            .parse()
            .map_err(|_| format!("bad prefix length in {s:?}"))?;
        IpNet::new(addr, prefix).ok_or_else(|| format!("bad prefix length in {s:?}"))
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Why an address is not a foreign SMTP client, or `None` when it is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InternalKind {
    Loopback,
    Private,
}

/// Loopback, RFC 1918, CGNAT, link-local and unique-local: exactly docs/design.md §3's list.
pub fn internal_kind(ip: IpAddr) -> Option<InternalKind> {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if o[0] == 127 {
                Some(InternalKind::Loopback)
            } else if o[0] == 10
                || (o[0] == 172 && (16..=31).contains(&o[1]))
                || (o[0] == 192 && o[1] == 168)
                || (o[0] == 100 && (64..=127).contains(&o[1]))
                || (o[0] == 169 && o[1] == 254)
            {
                Some(InternalKind::Private)
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let seg0 = v6.segments()[0];
            if v6.is_loopback() {
                Some(InternalKind::Loopback)
            } else if (seg0 & 0xffc0) == 0xfe80 || (seg0 & 0xfe00) == 0xfc00 {
                Some(InternalKind::Private)
            } else {
                None
            }
        }
    }
}

/// An IPv4 address as `Display` spells it, without the formatter (which cost a merge of a
/// million pairs about a tenth of its instructions).
pub fn push_ipv4(out: &mut Vec<u8>, ip: Ipv4Addr) {
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        if octet >= 100 {
            out.push(b'0' + octet / 100);
        }
        if octet >= 10 {
            out.push(b'0' + octet / 10 % 10);
        }
        out.push(b'0' + octet % 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        parse_ip(s).unwrap()
    }

    #[test]
    fn plain_ipv4_agrees_with_std() {
        for text in [
            "192.0.2.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            "1234.1.1.1",
            "1.2.3.4 ",
            "",
            "a.b.c.d",
            "10.0.0.099",
            "1.2.3.04",
            "9.9.9.9",
        ] {
            let fast = plain_ipv4(text.as_bytes());
            assert!(fast.is_none() || fast == text.parse().ok(), "{text}");
            assert_eq!(fast.is_some(), text.parse::<Ipv4Addr>().is_ok(), "{text}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20000))]

        /// Any short text of digits and dots: the dotted quad reader takes exactly what
        /// std takes, and reads it the same.
        #[test]
        fn plain_ipv4_agrees_with_std_on_any_digits_and_dots(text in "[0-9.]{0,17}|[0-9]{1,4}(\\.[0-9]{1,4}){3}") {
            proptest::prop_assert_eq!(plain_ipv4(text.as_bytes()), text.parse::<Ipv4Addr>().ok(), "{}", text);
        }
    }

    #[test]
    fn parses_header_forms() {
        assert_eq!(ip("IPv6:2001:DB8::25"), ip("2001:db8::25"));
        assert_eq!(ip("fe80::1%6").to_string(), "fe80::1");
        assert_eq!(ip("::ffff:192.0.2.22").to_string(), "192.0.2.22");
        assert_eq!(ip("IPv6:::ffff:192.0.2.22").to_string(), "192.0.2.22");
        assert!(parse_ip("123.456.789.1").is_none());
        assert!(parse_ip("129.107.xxx.yyy").is_none());
        assert!(parse_ip("").is_none());
        for hostile in ["1234é5", "éééé", "IPv6é", "ipv6:", "%", "[1.2.3.4]"] {
            assert!(parse_ip(hostile).is_none(), "{hostile}");
        }
    }

    #[test]
    fn rfc5952_output() {
        assert_eq!(
            ip("2001:0DB8:0000:0000:0000:0000:0000:0001").to_string(),
            "2001:db8::1"
        );
    }

    #[test]
    fn internal_ranges_are_exactly_the_spec_list() {
        for s in ["127.0.0.1", "::1"] {
            assert_eq!(internal_kind(ip(s)), Some(InternalKind::Loopback), "{s}");
        }
        for s in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.5",
            "100.64.0.1",
            "100.127.255.254",
            "169.254.3.4",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
        ] {
            assert_eq!(internal_kind(ip(s)), Some(InternalKind::Private), "{s}");
        }
        for s in [
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "198.19.255.1",
            "2001:db8::1",
            "172.32.0.1",
            "100.128.0.1",
            "8.8.8.8",
        ] {
            assert_eq!(internal_kind(ip(s)), None, "{s}");
        }
    }

    #[test]
    fn cidr_contains() {
        let n: IpNet = "192.0.2.0/24".parse().unwrap();
        assert!(n.contains(ip("192.0.2.200")));
        assert!(!n.contains(ip("192.0.3.1")));
        assert!(n.contains(ip("::ffff:192.0.2.9")));
        let n6: IpNet = "2001:db8::/32".parse().unwrap();
        assert!(n6.contains(ip("2001:db8:ffff::1")));
        assert!(!n6.contains(ip("192.0.2.1")));
        let host: IpNet = "198.51.100.7".parse().unwrap();
        assert_eq!(host.to_string(), "198.51.100.7/32");
        let any: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(any.contains(ip("8.8.8.8")));
        let mapped: IpNet = "::ffff:192.0.2.0/120".parse().unwrap();
        assert_eq!(mapped.to_string(), "192.0.2.0/24");
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("10.0.0.0/x".parse::<IpNet>().is_err());
    }

    #[test]
    fn sort_order_v4_first_numeric() {
        let mut v = [ip("2001:db8::1"), ip("10.0.0.10"), ip("10.0.0.9")];
        v.sort_by(cmp_ip);
        let s: Vec<String> = v.iter().map(|i| i.to_string()).collect();
        assert_eq!(s, ["10.0.0.9", "10.0.0.10", "2001:db8::1"]);
    }
}
