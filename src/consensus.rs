//! Value consensus: a suspicious value that many distinct clients send on a route is evidence
//! that it is the API's normal traffic (the same SDK user agent from forty customers, an
//! intranet Referer), so its risk is discounted, within bounds.
//!
//! **What is learned.** One fixed-size shared-data table (`apiward:v1:consensus:<bucket>`),
//! keyed by a fingerprint of (method + route template, location, normalised value). An entry
//! holds two 256-bit sketches (client networks; principals, or the network for a request
//! without one), the number of clients credited, and first- and last-seen times. Memory is
//! `buckets × entries × 112` bytes whatever the traffic; a full bucket evicts its least
//! recently seen entry, after entries that have not earned consensus.
//!
//! **Who counts as a client.** A network: an IPv4 /24 or an IPv6 /48 (what one operator
//! usually holds), so an attacker rotating addresses inside one network is one client. Where a
//! request carries a principal, the client is new only if its network *and* its principal are
//! both new to the value: one credential sprayed from forty networks is one client, and forty
//! stolen credentials from one network are one client too.
//!
//! **Time spread.** New clients are credited at most `ceil(min_clients / 4)` per quarter of
//! `min_age`, counted from the value's first sighting, and a value qualifies only once it is
//! `min_age` old. A botnet that sends a value from a thousand networks in one second earns a
//! quarter of `min_clients`; consensus needs new clients in four different quarters. A client
//! turned away by a full quarter is not remembered, so it counts when it comes back later.
//!
//! **What is recorded.** Only what a discount could change: the request's riskiest value when
//! its risk is at or above the route's annotate threshold and the discount would take it below
//! the threshold it reached (deny, or annotate). Benign traffic and clear attacks never touch
//! the table. Such a request is counted whatever it is decided (a value denied on every request
//! could otherwise never earn consensus), unless something else about it is suspicious: a
//! behaviour signal of any kind (rate, BOLA, a block, …) or an allowlisted client (exempt from
//! behaviour, so never cleared by it) means the request neither counts nor is discounted.
//!
//! **The discount.** At most `max_discount`, and less the surer the model is: the odds of an
//! attack are divided by the factor that takes the route's deny threshold down by exactly
//! `max_discount`, and the reduction is capped at `max_discount` below that. With the shipped
//! thresholds (deny 0.9155) and `max_discount` 0.25, a risk of 0.93 becomes 0.71, 0.97 becomes
//! 0.86, and from 0.984 a value stays denied however many clients send it; strong attack
//! scores hardly move.
//!
//! **Never discounted.** Values the model reads as a hard class (`exempt_classes`: always JNDI,
//! template injection and path traversal; by default also deserialization and XXE), or whose
//! attack probability is a third or more in those classes, or that carry their syntax (`${`,
//! `{{`, `#{`, `<%`, `../`, `<!entity`, `rO0AB`, …) whatever the model says: their payloads are
//! replayed verbatim by mass-exploitation campaigns from thousands of networks, which is what
//! consensus would otherwise learn. The fingerprint is the exact normalised value, so a
//! scanner's mutations never share consensus.
//!
//! Time is passed in; nothing here imports proxy-wasm. One shared-data read and one CAS write
//! per recorded request while a value accrues consensus; once it has it, one read, and a write
//! only for a newly credited client or once per `window / 8` (the table is never kept per
//! worker: two workers must agree on a security decision, and suspicious requests are rare).

use std::net::IpAddr;

use crate::behaviour::RequestFacts;
use crate::config::{ConfigError, ConsensusConfig, Thresholds};
use crate::decode;
use crate::hash::hash64_parts;
use crate::policy::ConsensusDiscount;
use crate::state::{
    DistinctSketch, FieldReader, FieldWriter, Record, SharedStore, StateError, Table,
};

/// Name of the shared-data table (and of its `apiward_state_errors_total` label).
pub const TABLE_NAME: &str = "consensus";
/// Parts of `min_age` over which new clients must arrive.
pub const SPREAD_SLOTS: u64 = 4;
/// Share of a value's attack probability in exempt classes from which it is exempt.
pub const EXEMPT_SHARE: f32 = 1.0 / 3.0;
/// A qualified value's entry is rewritten at least every `window / REFRESH_PARTS`.
const REFRESH_PARTS: u64 = 8;

const VALUE_SEED: u64 = 0x636f_6e73_656e_7375;
const NETWORK_SEED: u64 = 0x6e65_7477_6f72_6b31;

/// Syntax of the hard classes, found in the lower-cased normalised value whatever class the
/// model gave it. A marker applies when its class is exempt.
const MARKERS: &[(&str, &[&str])] = &[
    ("jndi", &["${", "jndi:"]),
    ("ssti", &["{{", "{%", "${", "#{", "<%"]),
    ("path_traversal", &["../", "..\\", "..;", "\0"]),
    ("deserialization", &["ro0ab", "aced0005", "!!python/"]),
    ("xxe", &["<!entity", "<!doctype"]),
];

/// Per value on a route: who sent it and since when. 96 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ConsensusRecord {
    /// Client networks credited.
    pub networks: DistinctSketch,
    /// Principals credited (the network hash for a request without one).
    pub identities: DistinctSketch,
    /// First sighting (ms since the epoch; 0: never).
    pub first_seen_ms: u64,
    /// Last sighting (ms).
    pub last_seen_ms: u64,
    /// A qualified value is kept before others in a full bucket until then (ms).
    pub protect_until_ms: u64,
    /// Distinct clients credited.
    pub clients: u16,
    /// Quarter of `min_age` since `first_seen_ms` of the last credit.
    pub slot: u32,
    /// Clients credited in that quarter.
    pub slot_clients: u16,
}

impl Record for ConsensusRecord {
    const TAG: u8 = 0x20;
    const SIZE: usize = 2 * DistinctSketch::SIZE + 3 * 8 + 2 + 4 + 2;

    fn encode(&self, out: &mut [u8]) {
        FieldWriter::new(out)
            .record(&self.networks)
            .record(&self.identities)
            .u64(self.first_seen_ms)
            .u64(self.last_seen_ms)
            .u64(self.protect_until_ms)
            .bytes(&self.clients.to_le_bytes())
            .u32(self.slot)
            .bytes(&self.slot_clients.to_le_bytes());
    }

    fn decode(b: &[u8]) -> Self {
        let mut r = FieldReader::new(b);
        ConsensusRecord {
            networks: r.record(),
            identities: r.record(),
            first_seen_ms: r.u64(),
            last_seen_ms: r.u64(),
            protect_until_ms: r.u64(),
            clients: u16::from_le_bytes(r.array()),
            slot: r.u32(),
            slot_clients: u16::from_le_bytes(r.array()),
        }
    }

    fn eviction_protected(&self, now_ms: u64) -> bool {
        now_ms < self.protect_until_ms
    }
}

/// The counting rules, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Clients a value needs.
    pub min_clients: u32,
    /// Age a value needs (ms).
    pub min_age_ms: u64,
    /// Idle time after which a value starts over (ms).
    pub window_ms: u64,
    /// Length of a spread slot (ms): `min_age / 4`.
    pub slot_ms: u64,
    /// Clients credited per slot: `ceil(min_clients / 4)`.
    pub slot_cap: u32,
}

impl Rules {
    /// The rules of `config`.
    pub fn of(config: &ConsensusConfig) -> Rules {
        Rules {
            min_clients: config.min_clients,
            min_age_ms: config.min_age_ms,
            window_ms: config.window_ms,
            slot_ms: (config.min_age_ms / SPREAD_SLOTS).max(1),
            slot_cap: config.min_clients.div_ceil(SPREAD_SLOTS as u32).max(1),
        }
    }
}

impl ConsensusRecord {
    /// Counts a sighting of the value by `client` at `now_ms`; true if the client was credited
    /// (new to the value, and room in the current quarter). A record idle for longer than the
    /// window starts over.
    pub fn observe(&mut self, client: ClientKey, now_ms: u64, rules: &Rules) -> bool {
        let idle = now_ms.saturating_sub(self.last_seen_ms) > rules.window_ms;
        if self.first_seen_ms == 0 || idle {
            *self = ConsensusRecord {
                first_seen_ms: now_ms.max(1),
                ..ConsensusRecord::default()
            };
        }
        let slot = now_ms.saturating_sub(self.first_seen_ms) / rules.slot_ms;
        let slot = u32::try_from(slot).unwrap_or(u32::MAX);
        // A clock that stepped back stays in the current slot rather than opening an old one.
        if slot > self.slot {
            self.slot = slot;
            self.slot_clients = 0;
        }
        let new =
            !self.networks.contains(client.network) && !self.identities.contains(client.identity);
        let credited = new && u32::from(self.slot_clients) < rules.slot_cap;
        if credited {
            self.networks.insert(client.network);
            self.identities.insert(client.identity);
            self.slot_clients = self.slot_clients.saturating_add(1);
            self.clients = self.clients.saturating_add(1);
        }
        self.last_seen_ms = self.last_seen_ms.max(now_ms);
        if self.qualifies(now_ms, rules) {
            self.protect_until_ms = now_ms.saturating_add(rules.window_ms);
        }
        credited
    }

    /// Enough clients, over enough time.
    pub fn qualifies(&self, now_ms: u64, rules: &Rules) -> bool {
        self.first_seen_ms > 0
            && u32::from(self.clients) >= rules.min_clients
            && self.age_ms(now_ms) >= rules.min_age_ms
    }

    /// Time since the first sighting (ms).
    pub fn age_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.first_seen_ms)
    }
}

/// Who sent a value, as consensus counts clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientKey {
    /// Hash of the client's network (IPv4 /24, IPv6 /48).
    pub network: u64,
    /// Hash of the principal, or the network's for a request without one.
    pub identity: u64,
}

impl ClientKey {
    /// The key of a client at `addr` with an optional principal fingerprint.
    pub fn new(addr: IpAddr, principal_fp: Option<u64>) -> ClientKey {
        let network = network_of(addr);
        ClientKey {
            network,
            identity: principal_fp.unwrap_or(network),
        }
    }
}

/// Hash of the network of `addr`: its IPv4 /24, or its IPv6 /48 (an IPv4-mapped IPv6 address
/// is its IPv4 address).
pub fn network_of(addr: IpAddr) -> u64 {
    let v4 = |o: [u8; 4]| hash64_parts(NETWORK_SEED, &[b"4", &o[..3]]);
    match addr {
        IpAddr::V4(a) => v4(a.octets()),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(m) => v4(m.octets()),
            None => hash64_parts(NETWORK_SEED, &[b"6", &a.octets()[..6]]),
        },
    }
}

/// Fingerprint of a value on a route: method + template fingerprint, location, normalised text.
pub fn value_fingerprint(route_fp: u64, location: &str, normalised: &str) -> u64 {
    hash64_parts(
        VALUE_SEED,
        &[
            &route_fp.to_le_bytes(),
            location.as_bytes(),
            b"\0",
            normalised.as_bytes(),
        ],
    )
}

/// The discounted risk: `risk` less at most `max_discount`, less the surer the model is. The
/// odds are divided by the factor that takes `deny` down by exactly `max_discount`; below that
/// the reduction is `max_discount`. Never above `risk`, never more than `max_discount` below.
pub fn discounted(risk: f32, deny: f32, max_discount: f32) -> f32 {
    let r = f64::from(risk.clamp(0.0, 1.0));
    let d = f64::from(max_discount.clamp(0.0, 1.0));
    let deny = f64::from(deny.clamp(0.0, 1.0));
    let floor = (r - d).max(0.0);
    let logit = |p: f64| (p / (1.0 - p)).ln();
    let target = deny - d;
    let shift = logit(deny) - logit(target);
    let shifted = if target > 0.0 && shift.is_finite() && r < 1.0 {
        let z = logit(r) - shift;
        if z.is_finite() {
            1.0 / (1.0 + (-z).exp())
        } else if r > 0.0 {
            r
        } else {
            0.0
        }
    } else if r >= 1.0 {
        1.0
    } else {
        floor
    };
    (shifted.max(floor).min(r)) as f32
}

/// The syntax marker of an exempt class found in `lower` (a lower-cased normalised value), as
/// `class (marker)`.
pub fn hard_marker(lower: &str, exempt_classes: &[String]) -> Option<String> {
    MARKERS
        .iter()
        .filter(|(class, _)| exempt_classes.iter().any(|c| c == class))
        .find_map(|(class, needles)| {
            needles
                .iter()
                .find(|n| lower.contains(*n))
                .map(|n| format!("{class} ({})", n.escape_debug()))
        })
}

/// The riskiest value of a request, as the engine scored it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// Its location (`header:user-agent`).
    pub location: &'a str,
    /// The value as inspected (normalised here).
    pub raw: &'a str,
    /// The model's class for it.
    pub class: &'a str,
    /// Share of its attack probability in exempt classes (0…1).
    pub exempt_share: f32,
    /// Its calibrated risk.
    pub risk: f32,
}

/// What consensus did for a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A hard-class value: neither counted nor discounted (why).
    Exempt(String),
    /// Counted; not (yet) enough clients or age.
    Recorded {
        /// Clients credited so far.
        clients: u32,
    },
    /// Counted, and discounted.
    Discounted(ConsensusDiscount),
}

/// Value consensus over a [`SharedStore`]: built once from configuration.
#[derive(Debug, Clone)]
pub struct Consensus {
    config: ConsensusConfig,
    rules: Rules,
    table: Table<ConsensusRecord>,
}

impl Consensus {
    /// Builds the table; a size the state layer refuses names its field.
    pub fn new(config: &ConsensusConfig) -> Result<Consensus, ConfigError> {
        let table = Table::new(TABLE_NAME, config.table)
            .map_err(|e| ConfigError::new("consensus.table", e.to_string()))?;
        Ok(Consensus {
            rules: Rules::of(config),
            config: config.clone(),
            table,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ConsensusConfig {
        &self.config
    }

    /// The table.
    pub fn table(&self) -> &Table<ConsensusRecord> {
        &self.table
    }

    /// Whether a discount could change the decision on a value at `risk`: it is at least
    /// `annotate`, and the discount would take it below the threshold it reached.
    pub fn in_zone(&self, risk: f32, t: Thresholds) -> bool {
        let to = discounted(risk, t.deny, self.config.max_discount);
        if risk >= t.deny {
            to < t.deny
        } else if risk >= t.annotate {
            to < t.annotate
        } else {
            false
        }
    }

    /// Why `c` is never discounted, if it is not: an exempt class, a third of its attack
    /// probability in exempt classes, or a hard class's syntax.
    pub fn exemption(&self, c: &Candidate<'_>, normalised: &str) -> Option<String> {
        if self.config.exempt_classes.iter().any(|e| e == c.class) {
            return Some(format!("class {}", c.class));
        }
        if c.exempt_share >= EXEMPT_SHARE {
            return Some(format!(
                "{:.0}% of its attack probability in exempt classes",
                c.exempt_share * 100.0
            ));
        }
        hard_marker(&normalised.to_lowercase(), &self.config.exempt_classes)
    }

    /// Counts the riskiest value `c` of a request and says whether it is discounted. `None`
    /// (and nothing written) when a discount could not change the decision, when the request
    /// is under suspicion (`cleared` false: behaviour signals, allowlisted), or when its client
    /// has no network. Store errors withhold the discount and are returned.
    pub fn assess<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        facts: &RequestFacts,
        c: &Candidate<'_>,
        t: Thresholds,
        cleared: bool,
        now_ms: u64,
    ) -> Result<Option<Outcome>, StateError> {
        if !self.config.enabled || !self.in_zone(c.risk, t) {
            return Ok(None);
        }
        let normalised = decode::decoded(c.raw).text;
        if let Some(why) = self.exemption(c, &normalised) {
            return Ok(Some(Outcome::Exempt(why)));
        }
        let Some(addr) = facts.client.as_ref().and_then(|cl| cl.addr) else {
            return Ok(None);
        };
        if !cleared {
            return Ok(None);
        }
        let client = ClientKey::new(addr, facts.principal.as_ref().map(|p| p.fp));
        let fp = value_fingerprint(facts.route_fp, c.location, &normalised);
        let rules = self.rules;
        // A value that already has consensus, seen again by a client it knows, is only read:
        // written when a client is credited, or to keep its last sighting within a refresh
        // period (so a popular value is one shared-data get per request, not a contended CAS).
        let refresh_ms = (rules.window_ms / REFRESH_PARTS).max(1);
        let (rec, _) = self.table.update_if(store, fp, now_ms, |rec, _| {
            let before = *rec;
            let credited = rec.observe(client, now_ms, &rules);
            let fresh = now_ms.saturating_sub(before.last_seen_ms) < refresh_ms;
            let write = credited || !fresh || !before.qualifies(now_ms, &rules);
            (*rec, write)
        })?;
        if !rec.qualifies(now_ms, &rules) {
            return Ok(Some(Outcome::Recorded {
                clients: u32::from(rec.clients),
            }));
        }
        Ok(Some(Outcome::Discounted(ConsensusDiscount {
            clients: u32::from(rec.clients),
            age_ms: rec.age_ms(now_ms),
            location: c.location.to_string(),
            from: c.risk,
            to: discounted(c.risk, t.deny, self.config.max_discount),
        })))
    }
}

#[cfg(test)]
mod tests;
