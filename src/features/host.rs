//! Does a value point at an internal address? The strongest SSRF evidence, and one that n-grams
//! miss because the same host has many spellings: `127.0.0.1`, `2130706433`, `0x7f000001`,
//! `0177.0.0.1`, `127.1`, `[::ffff:127.0.0.1]`, `localhost`, `metadata.google.internal`.

use std::net::Ipv6Addr;

/// True when some URL authority in `lower` names a loopback, private, link-local, carrier-grade
/// NAT or unspecified address, or a well-known internal name. `lower` is the lower-cased,
/// decoded value. An authority starts after `//` (or `\\`, which browsers read the same way)
/// unless a word or a dot runs into it: `http://`, `url=//` and an encoded `%2F%2F` appended to a
/// path (`/api/x///10.0.0.1/`) start one; `a//b` and `example.com//10.1.2` are paths.
pub fn names_internal_host(lower: &str) -> bool {
    authorities(lower).any(|authority| is_internal(host_of(authority)))
}

/// The text after each `//` that can start an authority, up to the end of that authority.
fn authorities(lower: &str) -> impl Iterator<Item = &str> {
    let bytes = lower.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i + 1 < bytes.len() {
            let at = i;
            i += 1;
            if !(is_slash(bytes[at]) && is_slash(bytes[at + 1])) {
                continue;
            }
            if at > 0 && continues_path(bytes[at - 1]) {
                continue;
            }
            // `http:///127.0.0.1` and `http:\/\127.0.0.1` reach the same host as `http://`.
            let mut start = at + 2;
            while start < bytes.len() && is_slash(bytes[start]) {
                start += 1;
            }
            let rest = &lower[start..];
            let end = rest
                .find(|c: char| {
                    c.is_whitespace()
                        || matches!(c, '/' | '\\' | '?' | '#' | '"' | '\'' | '<' | '>')
                })
                .unwrap_or(rest.len());
            i = start + end;
            return Some(&rest[..end]);
        }
        None
    })
}

fn is_slash(b: u8) -> bool {
    b == b'/' || b == b'\\'
}

/// A byte before `//` that makes the `//` part of a path (`a//b`, `v1//x`, `..//`) rather than
/// the start of an authority.
fn continues_path(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b'%') || b >= 0x80
}

/// The host of an authority: after any userinfo (`user@`), without the port, the brackets of
/// an IPv6 literal or its zone (`%eth0`), and cut at the first character no host can contain
/// (`jar:http://127.0.0.1!/`).
fn host_of(authority: &str) -> &str {
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.split(']').next().unwrap_or(inner);
        return inner.split('%').next().unwrap_or(inner);
    }
    let end = host
        .find(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')))
        .unwrap_or(host.len());
    let host = &host[..end];
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Names that resolve to an internal address wherever they are looked up: reserved top-level
/// names, cloud metadata services, cluster DNS and public names of loopback.
const INTERNAL_NAMES: &[&str] = &[
    "localhost",
    "localdomain",
    "internal",
    "local",
    "intranet",
    "home.arpa",
    "metadata",
    "instance-data",
    "svc",
    "consul",
    "localtest.me",
    "lvh.me",
];

fn is_internal(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if host.is_empty() {
        return false;
    }
    if host.contains(':') {
        return host.parse::<Ipv6Addr>().is_ok_and(internal_v6);
    }
    if let Some(addr) = ipv4(host) {
        return internal_v4(addr);
    }
    INTERNAL_NAMES.iter().any(|name| {
        host.strip_suffix(name)
            .is_some_and(|head| head.is_empty() || head.ends_with('.'))
    }) || embeds_internal_v4(host)
}

/// An IPv4 address as `inet_aton` (and the WHATWG URL parser) reads it: 1 to 4 parts, each
/// decimal, octal (`0` prefix) or hex (`0x`), the last part filling the remaining bytes.
fn ipv4(host: &str) -> Option<u32> {
    let mut parts = [0u64; 4];
    let mut count = 0;
    for part in host.split('.') {
        let slot = parts.get_mut(count)?;
        let (digits, radix) = if let Some(hex) = part.strip_prefix("0x") {
            (hex, 16)
        } else if let Some(octal) = part.strip_prefix('0').filter(|o| !o.is_empty()) {
            (octal, 8)
        } else if part.is_empty() {
            return None;
        } else {
            (part, 10)
        };
        // `0x` alone is 0, as for `inet_aton`; a sign is no digit (`from_str_radix` takes `+`).
        *slot = if digits.is_empty() {
            0
        } else if digits.bytes().all(|b| char::from(b).is_digit(radix)) {
            u64::from_str_radix(digits, radix).ok()?
        } else {
            return None;
        };
        count += 1;
    }
    let (last, head) = parts[..count].split_last()?;
    let mut addr: u64 = 0;
    for (i, n) in head.iter().enumerate() {
        if *n > 255 {
            return None;
        }
        addr |= n << (24 - 8 * i);
    }
    let tail_bits = 32 - 8 * head.len();
    if *last >= 1u64 << tail_bits {
        return None;
    }
    u32::try_from(addr | last).ok()
}

/// Loopback, RFC 1918, link-local (cloud metadata), carrier-grade NAT (Alibaba metadata),
/// IETF protocol assignments (Oracle metadata) and `0.0.0.0`, which Linux routes to loopback.
fn internal_v4(addr: u32) -> bool {
    let [b0, b1, b2, _] = addr.to_be_bytes();
    addr == 0
        || b0 == 127
        || b0 == 10
        || (b0 == 172 && (16..32).contains(&b1))
        || (b0 == 192 && b1 == 168)
        || (b0 == 192 && b1 == 0 && b2 == 0)
        || (b0 == 169 && b1 == 254)
        || (b0 == 100 && (64..128).contains(&b1))
}

/// Loopback, unspecified, unique local (`fc00::/7`), link-local and site-local
/// (`fe80::/10`, `fec0::/10`), and internal IPv4 addresses embedded as IPv4-mapped
/// (`::ffff:127.0.0.1`), IPv4-compatible (`::10.0.0.1`) or NAT64 (`64:ff9b::a00:1`).
fn internal_v6(addr: Ipv6Addr) -> bool {
    let s = addr.segments();
    if addr.is_loopback()
        || addr.is_unspecified()
        || s[0] & 0xfe00 == 0xfc00
        || s[0] & 0xffc0 == 0xfe80
        || s[0] & 0xffc0 == 0xfec0
    {
        return true;
    }
    let embedded = (u32::from(s[6]) << 16) | u32::from(s[7]);
    let mapped_or_compatible = s[..5] == [0; 5] && (s[5] == 0 || s[5] == 0xffff);
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    (mapped_or_compatible || nat64) && internal_v4(embedded)
}

/// A name that spells an internal IPv4 address in four of its labels, which wildcard DNS
/// services resolve to that address: `127.0.0.1.nip.io`, `app.10.0.0.5.sslip.io`.
fn embeds_internal_v4(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() > 4
        && labels.windows(4).any(|quad| {
            let mut addr = 0u32;
            for label in quad {
                let is_octet = !label.is_empty()
                    && label.len() <= 3
                    && label.bytes().all(|b| b.is_ascii_digit());
                match label.parse::<u8>() {
                    Ok(octet) if is_octet => addr = (addr << 8) | u32::from(octet),
                    _ => return false,
                }
            }
            internal_v4(addr)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised_in_every_spelling() {
        for v in [
            "http://127.0.0.1/",
            "https://127.0.0.1:8443/admin",
            "//10.0.0.1:6379/",
            "http://2130706433/",
            "http://0x7f000001/x",
            "http://0x7f.0x0.0x0.0x1/",
            "http://0177.0.0.1/",
            "http://017700000001/",
            "http://127.1/",
            "http://127.0.1/",
            "//0300.0250.01.01:10250/pods",
            "http://169.254.169.254/latest/meta-data/",
            "http://169.254.169.254#@example.com/",
            "http://[::1]:8080/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[0:0:0:0:0:ffff:127.0.0.1]/",
            "http://[0:0:0:0:0:ffff:7f00:1]/",
            "http://[::ffff:a9fe:a9fe]/latest/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[fe80::1%eth0]/",
            "/api/v1/fetch///kubernetes.default.svc:8500/v1/agent/self",
            "/proxy/http://169.254.169.254/latest",
            "http://[fd00:ec2::254]/latest/meta-data/",
            "http://attacker.example@192.168.1.1/",
            "http://user:pass@10.1.2.3:8080/x",
            "gopher://localhost:25/_helo",
            "dict://127.0.0.1:11211/stats",
            "jar:http://127.0.0.1!/",
            "http://localhost./",
            "http://api.localhost/",
            "http://metadata.google.internal/computemetadata/v1/",
            "http://metadata/computemetadata/v1/",
            "http://instance-data/latest/",
            "https://kubernetes.default.svc/api",
            "http://redis.prod.svc.cluster.local:6379/",
            "http://printer.local/",
            "http://consul.service.consul:8500/v1/agent/self",
            "http://127.0.0.1.nip.io/",
            "http://app.10.0.0.5.sslip.io/",
            "http://localtest.me/",
            "http://100.100.100.200/latest/meta-data",
            "http://192.0.0.192/opc/v1/instance/",
            "http://0.0.0.0:2375/containers/json",
            "http://0/",
            "http:///127.0.0.1/",
            "http:\\\\127.0.0.1\\admin",
            "\\\\10.0.0.5\\share",
            "url=//172.16.0.1/x",
            "fetch http://192.168.0.10/status please",
            "{\"callback\": \"http://10.0.0.1/hook\"}",
        ] {
            assert!(names_internal_host(v), "{v}");
        }
    }

    #[test]
    fn public_hosts_and_plain_text_are_not_internal() {
        for v in [
            "https://api.example.com/v1/users",
            "http://8.8.8.8/",
            "https://172.32.0.1/",
            "https://172.15.255.255/",
            "http://192.169.0.1/",
            "http://11.0.0.1/",
            "http://100.128.0.1/",
            "http://1.2.3/",
            "http://999.1.1.1/",
            "http://1.2.3.4.5/",
            "http://0x1g.0.0.1/",
            "http://08.0.0.1/",
            "http://[2001:db8::1]/",
            "http://[2001:db8:ffff:1:2:3:a00:1]/",
            "http://[::ffff:8.8.8.8]/",
            "http://[fe7f::1]/",
            "//cdn.example.net/x.js",
            "https://10.example.com/",
            "https://127.example.org/",
            "https://0.pool.ntp.org/",
            "https://local.example.com/",
            "https://internal.example.com/",
            "https://metadata.example.com/",
            "https://my-localhost.example.com/",
            "https://example.local.example.com/",
            "https://1.2.3.4.nip.io/",
            "https://v10.0.0.1.example.com/",
            "https://localhostel.example/",
            "http://2024/",
            "see https://www.wikipedia.org//wiki",
            "https://example.com//10.1.2/x",
            "https://example.com/files//127.0.0.1",
            "a//b",
            "//",
            "http://",
            "http://@/",
            "http://[/",
            "http://:80/",
        ] {
            assert!(!names_internal_host(v), "{v}");
        }
    }

    #[test]
    fn ids_versions_and_addresses_outside_urls_are_not_hosts() {
        for v in [
            "1.2.3",
            "10.0.0.1",
            "127.0.0.1",
            "localhost",
            "v1.2.3",
            "2130706433",
            "0x7f000001",
            "550e8400-e29b-41d4-a716-446655440000",
            "192.168.1.1 is the gateway",
            "ratio 10//3",
            "path/to//file",
            "../..//etc/passwd",
            "",
            "/",
        ] {
            assert!(!names_internal_host(v), "{v}");
        }
    }

    #[test]
    fn inet_aton_forms_parse_to_the_same_address() {
        let loopback = 0x7f00_0001;
        for form in [
            "127.0.0.1",
            "2130706433",
            "0x7f000001",
            "0x7f.1",
            "0177.0.0.1",
            "017700000001",
            "127.1",
            "127.0.1",
            "0x7f.0.0.0x1",
        ] {
            assert_eq!(ipv4(form), Some(loopback), "{form}");
        }
        for not_v4 in [
            "",
            ".",
            "1..2",
            "256.1.1.1",
            "1.2.3.256",
            "1.2.65536",
            "1.2.3.4.5",
            "08",
            "0x1g",
            "a.b.c.d",
            "1.2.3.-4",
            "1.2.3.+4",
            "0x+7f.1",
            "99999999999999999999",
        ] {
            assert_eq!(ipv4(not_v4), None, "{not_v4}");
        }
        assert_eq!(ipv4("0"), Some(0));
        assert_eq!(ipv4("0x"), Some(0));
        assert_eq!(ipv4("1.2.3"), Some(0x0102_0003));
    }

    #[test]
    fn host_is_cut_from_userinfo_port_brackets_and_trailing_junk() {
        assert_eq!(host_of("user:pw@10.0.0.1:8080"), "10.0.0.1");
        assert_eq!(host_of("a@b@127.0.0.1"), "127.0.0.1");
        assert_eq!(host_of("[::1]:443"), "::1");
        assert_eq!(host_of("[fe80::1%eth0]"), "fe80::1");
        assert_eq!(host_of("127.0.0.1!"), "127.0.0.1");
        assert_eq!(host_of("example.com"), "example.com");
        assert_eq!(host_of("example.com:"), "example.com");
    }
}
