//! Which IP addresses `dataLocation` may reach: one table per address
//! family of the special-purpose ranges that are not on the public
//! internet (IANA's IPv4 and IPv6 Special-Purpose Address Registries,
//! RFC 6890), and of the IPv6 ranges that carry an IPv4 address, which
//! are judged by that IPv4 address.
//!
//! Why a table of our own: std's `Ipv6Addr::is_global` is unstable and
//! calls every 6to4 address non-global whatever it embeds; the crates that
//! list these ranges (`ip_rfc`, `iprfc`) do not read the embedded address
//! out, and `rfc6052` (which does, for NAT64 only) is GPL-3.0.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How a special-purpose IPv6 range is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ipv6Use {
    /// Never public.
    NotPublic,
    /// Public exactly when the IPv4 address in the last 32 bits is.
    EmbedsLast32,
    /// 6to4 (RFC 3056 §2): the IPv4 address is bits 16–47.
    Embeds6to4,
    /// Teredo (RFC 4380 §4): the server's IPv4 address is bits 32–63 and
    /// the client's, inverted, bits 96–127; both must be public.
    EmbedsTeredo,
}

struct Ipv6Range {
    prefix: Ipv6Addr,
    length: u8,
    what: &'static str,
    judged: Ipv6Use,
}

const fn v6(prefix: Ipv6Addr, length: u8, what: &'static str, judged: Ipv6Use) -> Ipv6Range {
    Ipv6Range { prefix, length, what, judged }
}

/// Most specific first: the first range that holds an address decides.
const IPV6_RANGES: &[Ipv6Range] = &[
    v6(Ipv6Addr::UNSPECIFIED, 128, "unspecified", Ipv6Use::NotPublic),
    v6(Ipv6Addr::LOCALHOST, 128, "loopback", Ipv6Use::NotPublic),
    v6(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96, "IPv4-mapped (RFC 4291)", Ipv6Use::EmbedsLast32),
    v6(Ipv6Addr::UNSPECIFIED, 96, "IPv4-compatible (RFC 4291, deprecated)", Ipv6Use::EmbedsLast32),
    v6(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96, "NAT64 well-known prefix (RFC 6052)", Ipv6Use::EmbedsLast32),
    // Its operator chooses where the IPv4 address sits (RFC 6052 §2.2
    // allows /48 to /96 within it), so none can be read out safely.
    v6(Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48, "local-use NAT64 (RFC 8215)", Ipv6Use::NotPublic),
    v6(Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64, "discard-only (RFC 6666)", Ipv6Use::NotPublic),
    v6(Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32, "Teredo (RFC 4380)", Ipv6Use::EmbedsTeredo),
    v6(Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0), 48, "benchmarking (RFC 5180)", Ipv6Use::NotPublic),
    v6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, "documentation (RFC 3849)", Ipv6Use::NotPublic),
    v6(Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16, "6to4 (RFC 3056)", Ipv6Use::Embeds6to4),
    v6(Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20, "documentation (RFC 9637)", Ipv6Use::NotPublic),
    v6(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, "unique local (RFC 4193)", Ipv6Use::NotPublic),
    v6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, "link-local (RFC 4291)", Ipv6Use::NotPublic),
    v6(Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, "site-local (RFC 3879, deprecated)", Ipv6Use::NotPublic),
    v6(Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, "multicast (RFC 4291)", Ipv6Use::NotPublic),
];

/// IPv4 ranges that are not public.
const IPV4_RANGES: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8, "this network (RFC 791)"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private (RFC 1918)"),
    (Ipv4Addr::new(100, 64, 0, 0), 10, "shared address space (RFC 6598)"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback (RFC 1122)"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link-local (RFC 3927)"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private (RFC 1918)"),
    (Ipv4Addr::new(192, 0, 0, 0), 24, "IETF protocol assignments (RFC 6890)"),
    (Ipv4Addr::new(192, 0, 2, 0), 24, "documentation (RFC 5737)"),
    (Ipv4Addr::new(192, 88, 99, 0), 24, "6to4 relay anycast (RFC 7526, deprecated)"),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private (RFC 1918)"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "benchmarking (RFC 2544)"),
    (Ipv4Addr::new(198, 51, 100, 0), 24, "documentation (RFC 5737)"),
    (Ipv4Addr::new(203, 0, 113, 0), 24, "documentation (RFC 5737)"),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast (RFC 5771)"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved, and broadcast (RFC 1112, RFC 919)"),
];

/// Why an address is not on the public internet (the range it falls in),
/// or `None` when it is. An IPv6 address that embeds an IPv4 address
/// answers for that IPv4 address.
pub fn not_public(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => not_public_v4(v4),
        IpAddr::V6(v6) => not_public_v6(v6),
    }
}

fn not_public_v4(address: Ipv4Addr) -> Option<&'static str> {
    let bits = u32::from(address);
    IPV4_RANGES
        .iter()
        .find(|(prefix, length, _)| bits & mask32(*length) == u32::from(*prefix))
        .map(|(_, _, what)| *what)
}

fn not_public_v6(address: Ipv6Addr) -> Option<&'static str> {
    let bits = u128::from(address);
    let range = IPV6_RANGES.iter().find(|range| bits & mask128(range.length) == u128::from(range.prefix))?;
    let embedded = |bits: u128| Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    let verdict = match range.judged {
        Ipv6Use::NotPublic => Some(range.what),
        Ipv6Use::EmbedsLast32 => not_public_v4(embedded(bits)),
        Ipv6Use::Embeds6to4 => not_public_v4(embedded(bits >> 80)),
        Ipv6Use::EmbedsTeredo => not_public_v4(embedded(bits >> 64)).or(not_public_v4(embedded(!bits))),
    };
    // Named by the IPv6 form, which is what the URL or the DNS gave.
    verdict.map(|_| range.what)
}

fn mask32(length: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(length)).unwrap_or(0)
}

fn mask128(length: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(length)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        not_public(text.parse().unwrap()).is_none()
    }

    #[test]
    fn each_ipv4_range_is_not_public_and_its_neighbours_are() {
        let cases = [
            ("0.1.2.3", "1.0.0.1"),
            ("10.1.2.3", "11.0.0.1"),
            ("100.64.0.1", "100.128.0.1"),
            ("127.0.0.1", "128.0.0.1"),
            ("169.254.169.254", "169.253.1.1"),
            ("172.16.0.1", "172.32.0.1"),
            ("192.0.0.8", "192.0.1.1"),
            ("192.0.2.1", "192.0.3.1"),
            ("192.88.99.1", "192.88.98.1"),
            ("192.168.1.1", "192.169.0.1"),
            ("198.19.0.1", "198.20.0.1"),
            ("198.51.100.7", "198.51.101.7"),
            ("203.0.113.9", "203.0.114.9"),
            ("224.0.0.1", "223.255.255.1"),
            ("255.255.255.255", "8.8.8.8"),
        ];
        assert_eq!(cases.len(), IPV4_RANGES.len(), "a case per range");
        for (inside, outside) in cases {
            assert!(!public(inside), "{inside}");
            assert!(public(outside), "{outside}");
        }
    }

    #[test]
    fn plain_ipv6_ranges_are_not_public() {
        for inside in [
            "::",
            "::1",
            "64:ff9b:1::808:808",
            "100::1",
            "2001:2::1",
            "2001:db8::1",
            "3fff::1",
            "fd00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(!public(inside), "{inside}");
        }
        for outside in ["2606:4700::1111", "2a00:1450::1", "64:ff9b:2::1", "100:0:0:1::1", "2001:3::1"] {
            assert!(public(outside), "{outside}");
        }
    }

    /// The addresses and the rest of the family: an embedded
    /// private or loopback IPv4 address makes the IPv6 address private; an
    /// embedded public one leaves it public.
    #[test]
    fn ipv6_forms_that_embed_ipv4_are_judged_by_it() {
        let cases = [
            // (embeds a private address, embeds a public one)
            ("::ffff:127.0.0.1", "::ffff:8.8.8.8"),
            ("::ffff:10.0.0.1", "::ffff:1.1.1.1"),
            ("::127.0.0.1", "::8.8.8.8"),
            ("::169.254.169.254", "::1.1.1.1"),
            ("64:ff9b::7f00:1", "64:ff9b::808:808"),
            ("64:ff9b::192.168.0.1", "64:ff9b::1.1.1.1"),
            ("2002:7f00:1::", "2002:808:808::"),
            ("2002:a00:1:1::1", "2002:101:101:1::1"),
            // Teredo: server 65.54.227.120 (public) / client, inverted.
            ("2001:0:4136:e378:8000:63bf:80ff:fffe", "2001:0:4136:e378:8000:63bf:f7f7:f7f7"),
            // A private Teredo server.
            ("2001:0:a00:1:8000:63bf:f7f7:f7f7", "2001:0:808:808:8000:63bf:f7f7:f7f7"),
        ];
        for (private, public_form) in cases {
            assert!(!public(private), "{private}");
            assert!(public(public_form), "{public_form}");
        }
        assert_eq!(not_public("2002:7f00:1::".parse().unwrap()), Some("6to4 (RFC 3056)"));
    }

    #[test]
    fn every_ipv6_range_has_a_case() {
        // Keeps the table and the tests above in step.
        assert_eq!(IPV6_RANGES.len(), 16);
    }
}
