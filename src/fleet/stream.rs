//! The CrowdSec LAPI decision stream (`GET /v1/decisions/stream`): `{"new": [...], "deleted":
//! [...]}` (either may be `null`), each decision with `type` (`ban`, `captcha`), `scope` (`Ip`,
//! `Range`), `value`, `duration` (a Go duration, negative once expired: `"3h59m58.5s"`,
//! `"-21.4ms"`), `origin`, `scenario` and `id`. Decisions of other types or scopes are skipped
//! and counted, never an error: a LAPI with more remediations must not stop the bouncer.

use std::net::IpAddr;

use serde::Deserialize;

/// What a decision asks the bouncer to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Remedy {
    /// Ask the client to prove itself: the ladder's challenge step.
    Captcha = 1,
    /// Refuse the client: 403.
    Ban = 2,
}

impl Remedy {
    /// Stored code (0 is "none").
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The remedy of a stored code.
    pub fn from_code(code: u8) -> Option<Remedy> {
        match code {
            1 => Some(Remedy::Captcha),
            2 => Some(Remedy::Ban),
            _ => None,
        }
    }

    /// The LAPI's name (`ban`, `captcha`).
    pub fn as_str(self) -> &'static str {
        match self {
            Remedy::Ban => "ban",
            Remedy::Captcha => "captcha",
        }
    }
}

/// An address range (`Range` scope): the network bits and the prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    /// Network bits, left-aligned in 128 bits (IPv4 in the low 32 bits' position of a v4 address,
    /// see [`ip_bits`]).
    pub bits: u128,
    /// Prefix length (0…32 for IPv4, 0…128 for IPv6).
    pub prefix: u8,
    /// IPv4 range.
    pub v4: bool,
}

/// The bits of an address as a `u128` (IPv4: the 32-bit value), IPv4-mapped IPv6 as IPv4.
pub fn ip_bits(addr: IpAddr) -> (u128, bool) {
    match canonical(addr) {
        IpAddr::V4(a) => (u128::from(u32::from(a)), true),
        IpAddr::V6(a) => (u128::from(a), false),
    }
}

/// `::ffff:a.b.c.d` is `a.b.c.d`: CrowdSec stores IPv4 decisions as IPv4.
pub fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(a),
        },
        v4 => v4,
    }
}

fn mask(bits: u128, prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let host = u32::from(width - prefix.min(width));
    let all = if width == 32 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    };
    bits & (all.checked_shl(host).unwrap_or(0) & all)
}

impl IpRange {
    /// Parses `a.b.c.d/n` or `v6::/n`; host bits are cleared (the LAPI keeps what it was given).
    pub fn parse(text: &str) -> Option<IpRange> {
        let (addr, prefix) = text.trim().split_once('/')?;
        let addr: IpAddr = addr.parse().ok()?;
        let (bits, v4) = ip_bits(addr);
        let width = if v4 { 32 } else { 128 };
        let mut prefix: u8 = prefix.parse().ok()?;
        if v4 && !addr.is_ipv4() {
            // ::ffff:a.b.c.d/n: the prefix counted the 96 mapped bits.
            prefix = prefix.checked_sub(96)?;
        }
        if prefix > width {
            return None;
        }
        Some(IpRange {
            bits: mask(bits, prefix, width),
            prefix,
            v4,
        })
    }

    /// Whether `addr` is in the range.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let (bits, v4) = ip_bits(addr);
        let width = if v4 { 32 } else { 128 };
        v4 == self.v4 && mask(bits, self.prefix, width) == self.bits
    }
}

/// Who a decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One address.
    Ip(IpAddr),
    /// A range.
    Range(IpRange),
}

/// One decision of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamDecision {
    /// LAPI decision id (0 if absent).
    pub id: u64,
    /// What to do.
    pub remedy: Remedy,
    /// To whom.
    pub target: Target,
    /// Time left when the LAPI answered (ms; ≤ 0 when expired).
    pub duration_ms: i64,
    /// Who decided (`cscli`, `crowdsec`, `apiward`, `CAPI`…).
    pub origin: String,
    /// Why.
    pub scenario: String,
}

/// One answer of the stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamBatch {
    /// Decisions to apply.
    pub new: Vec<StreamDecision>,
    /// Decisions to lift.
    pub deleted: Vec<StreamDecision>,
    /// Decisions of another type or scope, or with an unreadable value or duration.
    pub skipped: usize,
}

/// Why a stream answer could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError(pub String);

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "decision stream: {}", self.0)
    }
}

#[derive(Deserialize)]
struct RawStream {
    new: Option<Vec<RawDecision>>,
    deleted: Option<Vec<RawDecision>>,
}

#[derive(Deserialize)]
struct RawDecision {
    id: Option<u64>,
    #[serde(rename = "type")]
    kind: Option<String>,
    scope: Option<String>,
    value: Option<String>,
    duration: Option<String>,
    origin: Option<String>,
    scenario: Option<String>,
}

impl RawDecision {
    fn read(self) -> Option<StreamDecision> {
        let remedy = match self.kind?.to_ascii_lowercase().as_str() {
            "ban" => Remedy::Ban,
            "captcha" => Remedy::Captcha,
            _ => return None,
        };
        let value = self.value?;
        let target = match self.scope?.to_ascii_lowercase().as_str() {
            "ip" => Target::Ip(canonical(value.trim().parse().ok()?)),
            "range" => Target::Range(IpRange::parse(&value)?),
            _ => return None,
        };
        Some(StreamDecision {
            id: self.id.unwrap_or(0),
            remedy,
            target,
            duration_ms: parse_go_duration(&self.duration?)?,
            origin: self.origin.unwrap_or_default(),
            scenario: self.scenario.unwrap_or_default(),
        })
    }
}

/// Parses a stream answer.
pub fn parse_stream(body: &[u8]) -> Result<StreamBatch, StreamError> {
    let raw: RawStream =
        serde_json::from_slice(body).map_err(|e| StreamError(format!("not JSON: {e}")))?;
    let mut batch = StreamBatch::default();
    for (list, out) in [(raw.new, &mut batch.new), (raw.deleted, &mut batch.deleted)] {
        for d in list.unwrap_or_default() {
            match d.read() {
                Some(d) => out.push(d),
                None => batch.skipped += 1,
            }
        }
    }
    Ok(batch)
}

/// A Go `time.Duration` string (`"3h59m58.5s"`, `"-21.4ms"`, `"0s"`) in milliseconds, rounded
/// toward zero; `None` if it is not one.
pub fn parse_go_duration(text: &str) -> Option<i64> {
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total_ns: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_end);
        if num.is_empty() || num == "." {
            return None;
        }
        let value: f64 = num.parse().ok()?;
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total_ns += value * scale;
        rest = tail;
    }
    // Decisions last at most years: f64 holds the milliseconds exactly enough.
    let ms = (total_ns / 1e6).trunc();
    if !ms.is_finite() || ms > 1e15 {
        return None;
    }
    let ms = ms as i64;
    Some(if negative { -ms } else { ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_as_the_lapi_writes_them() {
        let cases: &[(&str, Option<i64>)] = &[
            ("3h59m58.5s", Some(14_398_500)),
            ("59m58.9326606s", Some(3_598_932)),
            ("-21.410702ms", Some(-21)),
            ("-8.67639168s", Some(-8_676)),
            ("600s", Some(600_000)),
            ("1h", Some(3_600_000)),
            ("1.5h", Some(5_400_000)),
            ("250us", Some(0)),
            ("0s", Some(0)),
            ("0", Some(0)),
            ("", None),
            ("5", None),
            ("5d", None),
            ("h", None),
            ("1h-3m", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_go_duration(text), *want, "{text:?}");
        }
    }

    #[test]
    fn stream_answer_from_crowdsec_1_4_is_read() {
        // As Debian's crowdsec 1.4.6 answered on this machine after `cscli decisions add`.
        let body = br#"{"deleted":[{"duration":"-52.716777ms","id":1,"origin":"cscli","scenario":"test","scope":"Ip","type":"ban","value":"203.0.113.7"}],"new":[{"duration":"3h59m59.120477498s","id":2,"origin":"cscli","scenario":"manual 'captcha' from 'cli'","scope":"Range","type":"captcha","value":"198.51.100.0/24"}]}"#;
        let b = parse_stream(body).unwrap();
        assert_eq!(b.skipped, 0);
        assert_eq!(b.deleted.len(), 1);
        assert_eq!(b.deleted[0].id, 1);
        assert_eq!(b.deleted[0].remedy, Remedy::Ban);
        assert_eq!(
            b.deleted[0].target,
            Target::Ip("203.0.113.7".parse().unwrap())
        );
        assert_eq!(b.deleted[0].duration_ms, -52);
        let n = &b.new[0];
        assert_eq!((n.id, n.remedy), (2, Remedy::Captcha));
        assert_eq!(n.duration_ms, 14_399_120);
        assert_eq!(n.origin, "cscli");
        let Target::Range(r) = n.target else {
            panic!("not a range: {:?}", n.target)
        };
        assert!(r.contains("198.51.100.77".parse().unwrap()));
        assert!(!r.contains("198.51.101.1".parse().unwrap()));
    }

    #[test]
    fn null_lists_and_unknown_types_and_scopes_are_skipped_not_errors() {
        let b = parse_stream(br#"{"deleted":null,"new":null}"#).unwrap();
        assert_eq!(b, StreamBatch::default());
        let body = br#"{"new":[
            {"type":"throttle","scope":"Ip","value":"192.0.2.1","duration":"1h","id":3},
            {"type":"ban","scope":"Country","value":"FR","duration":"1h","id":4},
            {"type":"ban","scope":"Ip","value":"not-an-ip","duration":"1h","id":5},
            {"type":"ban","scope":"Ip","value":"192.0.2.1","duration":"forever","id":6},
            {"type":"ban","scope":"ip","value":"::ffff:192.0.2.9","duration":"1m","id":7}
        ]}"#;
        let b = parse_stream(body).unwrap();
        assert_eq!(b.skipped, 4);
        assert_eq!(b.new.len(), 1);
        assert_eq!(b.new[0].target, Target::Ip("192.0.2.9".parse().unwrap()));
        assert!(parse_stream(b"<html>").is_err());
        assert!(parse_stream(br#"{"new":5}"#).is_err());
    }

    #[test]
    fn ranges_clear_host_bits_and_match_by_family() {
        let r = IpRange::parse("10.1.2.3/8").unwrap();
        assert_eq!(r, IpRange::parse("10.0.0.0/8").unwrap());
        assert!(r.contains("10.255.0.1".parse().unwrap()));
        assert!(r.contains("::ffff:10.9.9.9".parse().unwrap()));
        assert!(!r.contains("11.0.0.1".parse().unwrap()));
        let v6 = IpRange::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        let all = IpRange::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("203.0.113.1".parse().unwrap()));
        assert!(IpRange::parse("10.0.0.0/33").is_none());
        assert!(IpRange::parse("10.0.0.0").is_none());
        assert!(IpRange::parse("2001:db8::/129").is_none());
        assert!(IpRange::parse("::ffff:10.0.0.0/104")
            .unwrap()
            .contains("10.2.3.4".parse().unwrap()));
    }
}
