//! Which client a request comes from, as the per-IP rate limits count it (API.md §9).
//!
//! Two questions, answered apart:
//!
//! - **Whose address is it?** The socket's peer, or behind a proxy that appends the address
//!   it saw to `X-Forwarded-For` ([`HttpConfig::trust_forwarded_for`]), that proxy's entry:
//!   the **last** one of the last header line. Every earlier entry came from the client, who
//!   may write anything there, so none is ever used, not even when the last one does not
//!   parse ([`from_forwarded_for`]). Entries are a bare address, `ip:port`, `[v6]` or
//!   `[v6]:port`, as proxies write them ([`parse_entry`]).
//! - **Which budget does it count against?** An IPv4 address its own; an IPv6 address the
//!   `/64` network it belongs to ([`network`]): a single host is usually handed a whole `/64`
//!   and may pick any address in it, so counting per address would give it 2⁶⁴ budgets.
//!
//! [`HttpConfig::trust_forwarded_for`]: crate::HttpConfig::trust_forwarded_for

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use http::HeaderMap;

/// The header a trusted proxy appends the client's address to.
pub const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The client's address: with `trust_forwarded_for`, the address in the last
/// `X-Forwarded-For` entry when there is one that parses; otherwise the socket's `peer`
/// (the proxy itself, when the proxy wrote something unreadable). IPv4-mapped IPv6
/// addresses (`::ffff:192.0.2.1`, as a dual-stack socket reports IPv4 peers) come back as the
/// IPv4 address they are.
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    let forwarded = if trust_forwarded_for {
        from_forwarded_for(headers)
    } else {
        None
    };
    forwarded.or(peer).map(|ip| ip.to_canonical())
}

/// The address in the last entry of the last `X-Forwarded-For` line: the one the nearest
/// proxy appended. `None` when there is no such header, or that entry is empty, not text, or
/// not an address: never an earlier entry, which the client wrote.
pub fn from_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let line = headers.get_all(X_FORWARDED_FOR).iter().next_back()?;
    let last = line.to_str().ok()?.rsplit(',').next()?;
    parse_entry(last)
}

/// One `X-Forwarded-For` entry: `192.0.2.1`, `192.0.2.1:51234`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:443`, with surrounding spaces or tabs. Anything else
/// (`unknown`, an obfuscated identifier, a zone index, a port out of range) is `None`.
pub fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim_matches([' ', '\t']);
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = entry.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    let bracketed = entry.strip_prefix('[')?.strip_suffix(']')?;
    bracketed.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// The address a per-IP budget is kept for: an IPv4 address itself (also when written as an
/// IPv4-mapped IPv6 address), an IPv6 address its `/64` network (the first 64 bits, the rest
/// zero).
pub fn network(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !u128::from(u64::MAX);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address literal")
    }

    fn headers(lines: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(
                X_FORWARDED_FOR,
                HeaderValue::from_bytes(line).expect("a header value"),
            );
        }
        headers
    }

    #[test]
    fn entries_in_every_form_proxies_write() {
        for (entry, expected) in [
            ("203.0.113.7", "203.0.113.7"),
            ("203.0.113.7:51234", "203.0.113.7"),
            (" \t203.0.113.7:0 ", "203.0.113.7"),
            ("2001:db8::1", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("::ffff:203.0.113.7", "::ffff:203.0.113.7"),
            ("[::ffff:203.0.113.7]:80", "::ffff:203.0.113.7"),
            // An unbracketed IPv6 address with a port cannot be told from an address: it is
            // read as the address it spells (proxies bracket the ones they give ports).
            ("2001:db8::1:443", "2001:db8::1:443"),
        ] {
            assert_eq!(parse_entry(entry), Some(ip(expected)), "{entry:?}");
        }
        for entry in [
            "",
            " ",
            "unknown",
            "_hidden",
            "203.0.113.7:65536",
            "203.0.113.7:-1",
            "203.0.113.7:",
            "203.0.113",
            "203.0.113.7.1",
            "[2001:db8::1",
            "2001:db8::1]",
            "[203.0.113.7]",
            "[203.0.113.7]:80",
            "[2001:db8::1]:",
            "[2001:db8::1]:443:1",
            "fe80::1%eth0",
            "[fe80::1%25eth0]:80",
            "\"203.0.113.7\"",
            "for=203.0.113.7",
            "203.0.113.7 203.0.113.8",
        ] {
            assert_eq!(parse_entry(entry), None, "{entry:?}");
        }
    }

    /// The last entry decides, whatever the client put before it: an `ip:port` there is read,
    /// not skipped; an unreadable one yields nothing rather than an earlier, forged entry.
    #[test]
    fn only_the_entry_the_proxy_appended_counts() {
        let cases: &[(&[&[u8]], Option<&str>)] = &[
            (&[b"6.6.6.1, 203.0.113.7:51234"], Some("203.0.113.7")),
            (&[b"6.6.6.1,203.0.113.7"], Some("203.0.113.7")),
            (&[b"6.6.6.1, [2001:db8::7]:443"], Some("2001:db8::7")),
            (&[b"6.6.6.1, 6.6.6.2", b"203.0.113.7"], Some("203.0.113.7")),
            (&[b"203.0.113.7"], Some("203.0.113.7")),
            // Unreadable last entries: nothing, never 6.6.6.x.
            (&[b"6.6.6.1, unknown"], None),
            (&[b"6.6.6.1, "], None),
            (&[b"6.6.6.1,"], None),
            (&[b"6.6.6.1, 203.0.113.7:99999"], None),
            (&[b"6.6.6.1", b"garbage"], None),
            (&[b"6.6.6.1", b""], None),
            (&[b"6.6.6.1", b"203.0.113.\xff"], None),
            (&[b""], None),
            (&[], None),
        ];
        for (lines, expected) in cases {
            assert_eq!(
                from_forwarded_for(&headers(lines)),
                expected.map(ip),
                "{lines:?}"
            );
        }
    }

    #[test]
    fn the_peer_answers_unless_a_trusted_proxy_does() {
        let peer = Some(ip("192.0.2.10"));
        let forwarded = headers(&[b"6.6.6.1, 203.0.113.7:51234"]);
        assert_eq!(client_ip(&forwarded, peer, true), Some(ip("203.0.113.7")));
        assert_eq!(client_ip(&forwarded, peer, false), peer);
        assert_eq!(client_ip(&HeaderMap::new(), peer, true), peer);
        // A proxy's unreadable entry: the proxy itself, never the forged entry before it.
        let unreadable = headers(&[b"6.6.6.1, unknown"]);
        assert_eq!(client_ip(&unreadable, peer, true), peer);
        assert_eq!(client_ip(&unreadable, None, true), None);
        // A dual-stack socket's IPv4 peers are IPv4 addresses.
        let mapped = Some(ip("::ffff:192.0.2.10"));
        assert_eq!(client_ip(&HeaderMap::new(), mapped, false), peer);
        let mapped_forwarded = headers(&[b"[::ffff:203.0.113.7]:80"]);
        assert_eq!(
            client_ip(&mapped_forwarded, None, true),
            Some(ip("203.0.113.7"))
        );
    }

    #[test]
    fn ipv6_clients_share_their_64_and_ipv4_clients_are_their_own() {
        assert_eq!(network(ip("203.0.113.7")), ip("203.0.113.7"));
        assert_eq!(network(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(
            network(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            ip("2001:db8:1:2::")
        );
        assert_ne!(
            network(ip("2001:db8:1:2::1")),
            network(ip("2001:db8:1:3::1"))
        );
        // Mapped IPv4 addresses are IPv4 clients, each its own: masking them as IPv6 would put
        // every IPv4 client in one budget.
        assert_eq!(network(ip("::ffff:203.0.113.7")), ip("203.0.113.7"));
        assert_ne!(
            network(ip("::ffff:203.0.113.7")),
            network(ip("::ffff:203.0.113.8"))
        );
        assert_eq!(network(ip("::1")), ip("::"));
    }
}
