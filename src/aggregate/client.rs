//! The client of a pair as the merge's table keys it (issue 16 item 3): the address cell
//! as written when it is short enough to sit in the slot (every IPv4 address, most IPv6
//! ones), so that a row costs no address parse; the cell is parsed once, when the table
//! first meets that spelling, and the pairs are keyed by address only at the end. A longer
//! cell, or an address counted elsewhere, is keyed by the address itself.

use std::net::IpAddr;

/// The longest client cell kept as text.
pub const IP_TEXT: usize = 16;

/// `family` of a client kept as text: this plus the text's length (1 to [`IP_TEXT`]).
const TEXT: u8 = 0x20;

/// A row's client on its way into the table.
#[derive(Clone, Copy, Debug)]
pub enum Client<'a> {
    /// An address already read (or none).
    Parsed(Option<IpAddr>),
    /// A cell as written, at most [`IP_TEXT`] bytes ([`Client::text`]).
    Text(&'a str),
}

impl<'a> Client<'a> {
    /// A cell as written, when it is short enough to be kept as text.
    pub fn text(cell: &'a str) -> Option<Client<'a>> {
        (cell.len() <= IP_TEXT).then_some(Client::Text(cell))
    }
}

/// The key of a client: its family (0 for none, 4, 6, or a text's) and 16 bytes.
pub fn key_of(client: Client<'_>) -> (u8, [u8; 16]) {
    match client {
        Client::Parsed(ip) => ip_bytes(ip),
        Client::Text("") => (0, [0; 16]),
        Client::Text(cell) => {
            let bytes = &cell.as_bytes()[..cell.len().min(IP_TEXT)];
            (TEXT + bytes.len() as u8, padded(bytes))
        }
    }
}

/// Up to 16 bytes, zeros after them, read as whole words from where they lie: copying
/// them into a zeroed array and reading that back as words stalled every row of a merge
/// on the copy's stores (a tenth of its time in `perf`).
fn padded(b: &[u8]) -> [u8; 16] {
    let word = |at: usize| {
        b.get(at..at + 8)
            .map_or(0, |w| u64::from_le_bytes(w.try_into().unwrap_or_default()))
    };
    let half = |at: usize| {
        b.get(at..at + 4).map_or(0, |w| {
            u64::from(u32::from_le_bytes(w.try_into().unwrap_or_default()))
        })
    };
    let len = b.len();
    let (lo, hi) = match len {
        // The last eight bytes, shifted down to where bytes 8.. belong (none for 8).
        8..=16 => (
            word(0),
            word(len - 8)
                .checked_shr(((16 - len) * 8) as u32)
                .unwrap_or(0),
        ),
        4..=7 => (half(0) | half(len - 4) << ((len - 4) * 8), 0),
        _ => {
            let mut lo = 0u64;
            for (i, &byte) in b.iter().enumerate().take(3) {
                lo |= u64::from(byte) << (i * 8);
            }
            (lo, 0)
        }
    };
    (u128::from(lo) | u128::from(hi) << 64).to_le_bytes()
}

/// The text of a key kept as text (bytes of a `&str`: checked again only where a parser
/// needs text).
pub fn text_of(family: u8, b: &[u8; 16]) -> Option<&[u8]> {
    let len = usize::from(family.checked_sub(TEXT)?);
    b.get(..len)
}

/// An address (or none) as a key.
pub fn ip_bytes(ip: Option<IpAddr>) -> (u8, [u8; 16]) {
    match ip {
        None => (0, [0; 16]),
        Some(IpAddr::V4(v4)) => {
            let mut b = [0; 16];
            b[..4].copy_from_slice(&v4.octets());
            (4, b)
        }
        Some(IpAddr::V6(v6)) => (6, v6.octets()),
    }
}

/// The address of a key made by [`ip_bytes`].
pub fn ip_of(family: u8, b: [u8; 16]) -> Option<IpAddr> {
    match family {
        4 => Some(IpAddr::from([b[0], b[1], b[2], b[3]])),
        6 => Some(IpAddr::from(b)),
        _ => None,
    }
}

/// How a client cell reads: its address (`net::parse_ip`) and whether the cell is what the
/// writer gives that address (`pairs_file::read_ip_column`), a utility this stage does not
/// import.
#[derive(Clone, Copy)]
pub struct IpSpelling {
    pub read: fn(&[u8]) -> Option<(IpAddr, bool)>,
}

impl IpSpelling {
    /// Whether a key may enter the table: a text must read as an address.
    pub fn accepts(&self, family: u8, b: &[u8; 16]) -> bool {
        match text_of(family, b) {
            Some(text) => (self.read)(text).is_some(),
            None => true,
        }
    }

    /// The key by address ([`ip_bytes`]), and whether it is the one key of that address:
    /// its text as the writer spells it, or (kept by address) an address too long for
    /// that. `None` for a text that is no address, which [`Self::accepts`] kept out.
    pub fn resolve(&self, family: u8, b: [u8; 16]) -> Option<(u8, [u8; 16], bool)> {
        match text_of(family, &b) {
            Some(text) => {
                let (ip, written) = (self.read)(text)?;
                let (family, b) = ip_bytes(Some(ip));
                Some((family, b, written))
            }
            None => {
                let own = match ip_of(family, b) {
                    Some(ip) => ip.to_string().len() > IP_TEXT,
                    None => true,
                };
                Some((family, b, own))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spelling() -> IpSpelling {
        IpSpelling {
            read: crate::pairs_file::read_ip_column,
        }
    }

    #[test]
    fn cells_of_every_length_are_padded_with_zeros() {
        let text = b"0123456789abcdef";
        for len in 0..=16 {
            let mut want = [0u8; 16];
            want[..len].copy_from_slice(&text[..len]);
            assert_eq!(padded(&text[..len]), want, "{len} bytes");
        }
    }

    #[test]
    fn every_address_has_one_own_key() {
        let s = spelling();
        let resolved = |client: Client<'_>| {
            let (family, b) = key_of(client);
            assert!(s.accepts(family, &b), "{client:?}");
            s.resolve(family, b).unwrap()
        };
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let long: IpAddr = "2001:db8:85a3::8a2e:370:7334".parse().unwrap();
        let own = |ip: Option<IpAddr>| {
            let (f, b) = ip_bytes(ip);
            (f, b, true)
        };
        let folded = |ip: Option<IpAddr>| {
            let (f, b) = ip_bytes(ip);
            (f, b, false)
        };
        assert_eq!(resolved(Client::Text("192.0.2.1")), own(Some(v4)));
        assert_eq!(resolved(Client::Text("::ffff:192.0.2.1")), folded(Some(v4)));
        assert_eq!(resolved(Client::Parsed(Some(v4))), folded(Some(v4)));
        assert_eq!(resolved(Client::Text("")), own(None));
        assert_eq!(resolved(Client::Parsed(None)), own(None));
        assert_eq!(resolved(Client::Parsed(Some(long))), own(Some(long)));
        assert_eq!(
            resolved(Client::Text("2001:db8::e:701b")),
            own("2001:db8::e:701b".parse().ok())
        );
        assert_eq!(
            resolved(Client::Text("2001:DB8::E:701B")),
            folded("2001:db8::e:701b".parse().ok())
        );
        assert!(Client::text("2001:db8:85a3::8a2e:370:7334").is_none());
        let (family, b) = key_of(Client::Text("192.0.2.300"));
        assert!(!s.accepts(family, &b));
        assert_eq!(s.resolve(family, b), None);
    }
}
