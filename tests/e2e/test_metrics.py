"""The filter's metrics appear in Envoy's /stats/prometheus and count what happened."""

from __future__ import annotations

import harness
from scenarios import BENIGN_GET, SQLI_IN_QUERY, XSS_IN_JSON_BODY, assert_problem_json_403, wait_for

# Prometheus names as Envoy exports the filter's metrics (summed over the worker VMs).
REQUESTS = "apiward_requests_total"
DECISIONS = "apiward_decisions_total"  # label action
CLASSES = "apiward_detections_total"  # label class
INFERENCE_COUNT = "apiward_inference_us_count"


def _samples(envoy: harness.Envoy) -> dict[str, float]:
    return harness.prometheus_samples(envoy.stats_prometheus())


def test_filter_metrics_are_exported_in_prometheus_format(enforce_envoy):
    BENIGN_GET.send(enforce_envoy)
    samples = wait_for(lambda: _samples(enforce_envoy))
    names = {s.partition("{")[0] for s in samples}
    for name in (REQUESTS, DECISIONS, CLASSES, INFERENCE_COUNT):
        assert name in names, f"{name} not in {sorted(names)}"


def test_request_and_decision_counters_count_allows_and_denies(enforce_envoy):
    before = _samples(enforce_envoy)
    for _ in range(5):
        assert BENIGN_GET.send(enforce_envoy).status == 200
    for _ in range(3):
        assert_problem_json_403(SQLI_IN_QUERY.send(enforce_envoy))
    assert_problem_json_403(XSS_IN_JSON_BODY.send(enforce_envoy))

    def counted():
        after = _samples(enforce_envoy)
        return after if harness.series_total(after, REQUESTS) - harness.series_total(before, REQUESTS) >= 9 else None

    after = wait_for(counted)
    assert after, "requests counter did not grow by 9"
    assert harness.series_total(after, REQUESTS) - harness.series_total(before, REQUESTS) == 9
    assert harness.series_total(after, DECISIONS, action="deny") - harness.series_total(before, DECISIONS, action="deny") == 4
    assert harness.series_total(after, DECISIONS, action="allow") - harness.series_total(before, DECISIONS, action="allow") == 5
    assert (
        harness.series_total(after, CLASSES, **{"class": "sqli"}) - harness.series_total(before, CLASSES, **{"class": "sqli"})
        == 3
    )
    assert (
        harness.series_total(after, CLASSES, **{"class": "xss"}) - harness.series_total(before, CLASSES, **{"class": "xss"})
        == 1
    )


def test_inference_time_histogram_records_every_scored_request(enforce_envoy):
    before = harness.series_total(_samples(enforce_envoy), INFERENCE_COUNT)
    for _ in range(6):
        assert BENIGN_GET.send(enforce_envoy).status == 200
    # Histograms reach the admin endpoint at the next stats flush (5 s by default).
    grown = wait_for(
        lambda: harness.series_total(_samples(enforce_envoy), INFERENCE_COUNT) - before >= 6, timeout=20
    )
    assert grown, f"inference histogram count stayed near {before}"
