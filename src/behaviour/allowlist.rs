//! Address ranges (IPv4 and IPv6 CIDRs) and the allowlist check.

use std::fmt;
use std::net::IpAddr;

use sha2::{Digest, Sha256};

use crate::config::Allowlist;

/// An address range: `10.0.0.0/8`, `2001:db8::/32`, or one address (`/32`, `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `addr/prefix` or a bare address; host bits must be zero (a typo such as
    /// `10.1.0.0/8` for `/16` would otherwise widen the range silently).
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("{text:?} is not an IPv4 or IPv6 address or CIDR"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("prefix length of {text:?} must be 0 to {max}")),
            },
        };
        let cidr = Cidr { network, prefix };
        if cidr.masked(network) != bits(network) {
            return Err(format!(
                "{text:?} has host bits set; the network is {}",
                Cidr {
                    network: from_bits(cidr.masked(network), network.is_ipv4()),
                    prefix
                }
            ));
        }
        Ok(cidr)
    }

    /// Whether `addr` is in the range; an IPv4-mapped IPv6 address matches IPv4 ranges.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = match addr {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        addr.is_ipv4() == self.network.is_ipv4() && self.masked(addr) == bits(self.network)
    }

    fn masked(&self, addr: IpAddr) -> u128 {
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let host_bits = width - u32::from(self.prefix);
        let mask = if host_bits >= 128 {
            0
        } else {
            u128::MAX << host_bits
        };
        bits(addr) & mask
    }
}

fn bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn from_bits(b: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(u32::try_from(b).unwrap_or(0).into())
    } else {
        IpAddr::V6(b.into())
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Parses a client address as [`crate::request::identify`] leaves it (no port, no brackets).
pub fn parse_ip(ip: &str) -> Option<IpAddr> {
    ip.trim().parse().ok()
}

/// SHA-256 of a credential, as allowlisted principals are stored.
pub fn credential_digest(credential: &[u8]) -> [u8; 32] {
    Sha256::digest(credential).into()
}

impl Allowlist {
    /// Why a request is exempt from behavioural steps, if it is: the matching range, principal
    /// or path prefix. `path` is the normalised path; a path with dot segments never matches.
    pub fn exempts(
        &self,
        addr: Option<IpAddr>,
        principal_digest: Option<&[u8; 32]>,
        path: &str,
    ) -> Option<String> {
        if let Some(addr) = addr {
            if let Some(c) = self.cidrs.iter().find(|c| c.contains(addr)) {
                return Some(format!("client in {c}"));
            }
        }
        if let Some(d) = principal_digest {
            if self.principals.iter().any(|p| p == d) {
                return Some("principal".to_string());
            }
        }
        let dotted = path.split(['/', '\\']).any(|s| s == "." || s == "..");
        if !dotted {
            if let Some(p) = self.paths.iter().find(|p| path.starts_with(p.as_str())) {
                return Some(format!("path {p}"));
            }
        }
        None
    }

    /// Whether any principal is allowlisted (so credentials must be digested).
    pub fn has_principals(&self) -> bool {
        !self.principals.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_and_ipv6_ranges_match_their_addresses_only() {
        let v4 = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(v4.contains(ip("10.255.1.2")));
        assert!(!v4.contains(ip("11.0.0.1")));
        assert!(v4.contains(ip("::ffff:10.1.2.3")), "v4-mapped v6");
        assert!(!v4.contains(ip("::1")));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let one = Cidr::parse("192.0.2.7").unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("2001:db8::1")));
        assert_eq!(v6.to_string(), "2001:db8::/32");
    }

    #[test]
    fn invalid_ranges_are_explained() {
        assert_eq!(
            Cidr::parse("10.1.0.0/8").unwrap_err(),
            "\"10.1.0.0/8\" has host bits set; the network is 10.0.0.0/8"
        );
        assert_eq!(
            Cidr::parse("10.0.0.0/33").unwrap_err(),
            "prefix length of \"10.0.0.0/33\" must be 0 to 32"
        );
        assert_eq!(
            Cidr::parse("example.com").unwrap_err(),
            "\"example.com\" is not an IPv4 or IPv6 address or CIDR"
        );
        assert!(Cidr::parse("::/129").is_err());
        assert!(Cidr::parse("10.0.0.0/x").is_err());
    }

    #[test]
    fn allowlist_names_what_matched_and_ignores_dot_segments() {
        let a = Allowlist {
            cidrs: vec![Cidr::parse("10.0.0.0/8").unwrap()],
            principals: vec![credential_digest(b"svc-key")],
            paths: vec!["/healthz".into()],
        };
        assert_eq!(
            a.exempts(Some(ip("10.0.0.9")), None, "/x").as_deref(),
            Some("client in 10.0.0.0/8")
        );
        assert_eq!(
            a.exempts(None, Some(&credential_digest(b"svc-key")), "/x")
                .as_deref(),
            Some("principal")
        );
        assert_eq!(
            a.exempts(None, None, "/healthz/live").as_deref(),
            Some("path /healthz")
        );
        assert_eq!(a.exempts(None, None, "/healthz/../admin"), None);
        assert_eq!(
            a.exempts(Some(ip("192.0.2.1")), Some(&[0; 32]), "/api"),
            None
        );
    }
}
