"""The phone bench reads a Lighthouse report for its figures, and never reads figures from a run
that went wrong (bench/phone_report.py). The reports here are written by hand, cut to what the
reader looks at."""

from __future__ import annotations

import copy

import pytest

from bench.phone_report import LighthouseError, median_visit, visit_from_report


def report(score=0.5, lcp=4000.0, script_bytes=700_000) -> dict:
    return {
        "categories": {"performance": {"score": score}},
        "runWarnings": [],
        "audits": {
            "first-contentful-paint": {"numericValue": 1500.0},
            "largest-contentful-paint": {"numericValue": lcp},
            "total-blocking-time": {"numericValue": 900.0},
            "resource-summary": {"details": {"items": [
                {"resourceType": "total", "requestCount": 3, "transferSize": script_bytes + 3000},
                {"resourceType": "script", "requestCount": 2, "transferSize": script_bytes},
                {"resourceType": "document", "requestCount": 1, "transferSize": 3000},
                {"resourceType": "font", "requestCount": 0, "transferSize": 0},
                {"resourceType": "third-party", "requestCount": 1, "transferSize": 10},
            ]}},
            "network-requests": {"details": {"items": [
                {"url": "http://127.0.0.1:8080/"}, {"url": "data:image/png;base64,AAAA"},
                {"url": "https://fonts.example.org/a.woff2"},
            ]}},
        },
    }


def test_a_report_gives_its_figures_by_type_and_the_requests_that_left_the_machine():
    visit = visit_from_report(report())
    assert (visit.score, visit.fcp_ms, visit.lcp_ms, visit.tbt_ms) == (0.5, 1500.0, 4000.0, 900.0)
    assert (visit.bytes, visit.requests) == (703_000, 3)
    # A type with no request is left out; "third-party" is a cut across types, not a type.
    assert visit.by_type == {"script": [2, 700_000], "document": [1, 3000]}
    assert visit.external == ["https://fonts.example.org/a.woff2"]


def test_the_median_is_taken_per_figure():
    visits = [visit_from_report(report(score, lcp, size)) for score, lcp, size in
              ((0.2, 9000.0, 100), (0.6, 3000.0, 900), (0.4, 5000.0, 500))]
    middle = median_visit(visits)
    assert (middle.score, middle.lcp_ms, middle.by_type["script"]) == (0.4, 5000.0, [2, 500])


@pytest.mark.parametrize("spoil", [
    lambda r: r.update(runtimeError={"code": "NO_FCP", "message": "The page did not paint"}),
    lambda r: r["runWarnings"].append("Results may be incomplete: the page loaded too slowly"),
    lambda r: r["audits"]["largest-contentful-paint"].update(scoreDisplayMode="error", errorMessage="NO_LCP"),
    lambda r: r["audits"].pop("resource-summary"),
    lambda r: r["categories"]["performance"].update(score=None),
])
def test_a_run_that_went_wrong_gives_no_figures(spoil):
    broken = copy.deepcopy(report())
    spoil(broken)
    with pytest.raises(LighthouseError):
        visit_from_report(broken)
