"""A Lighthouse report (its JSON, `--output=json`) read for what a phone waits for, for bench/phone.py:
the performance score, FCP, LCP, TBT, bytes and requests by resource type, and the requests that
left the machine. A report from a failed or incomplete run raises LighthouseError, never figures.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from bench.markdown import markdown_table

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TIMINGS = {"fcp_ms": "first-contentful-paint", "lcp_ms": "largest-contentful-paint", "tbt_ms": "total-blocking-time"}
# Lighthouse's run warnings that mean its figures are partial (core/gather/driver/navigation.js).
INCOMPLETE = "Results may be incomplete"


class LighthouseError(RuntimeError):
    """Lighthouse failed, or its report says the run went wrong; the message says how."""


@dataclass
class Visit:
    score: float  # 0 to 1, as Lighthouse reports it
    fcp_ms: float
    lcp_ms: float
    tbt_ms: float
    bytes: int  # transferred (compressed, headers included), as Lighthouse's resource summary counts
    requests: int
    # resource type ("script", "document", "font", ...) -> [requests, bytes transferred]
    by_type: dict[str, list[int]] = field(default_factory=dict)
    external: list[str] = field(default_factory=list)  # requests to a host other than loopback
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def audit(report: dict, name: str) -> dict:
    found = report.get("audits", {}).get(name)
    if found is None:
        raise LighthouseError(f"the report has no {name!r} audit")
    if found.get("scoreDisplayMode") == "error" or found.get("errorMessage"):
        raise LighthouseError(f"audit {name!r} errored: {found.get('errorMessage', 'no message')}")
    return found


def visit_from_report(report: dict) -> Visit:
    """The figures of one Lighthouse navigation."""
    error = report.get("runtimeError")
    if error:
        raise LighthouseError(f"Lighthouse: {error.get('code', '?')}: {error.get('message', '')}")
    warnings = [str(warning) for warning in report.get("runWarnings", [])]
    incomplete = [warning for warning in warnings if INCOMPLETE in warning]
    if incomplete:
        raise LighthouseError(f"Lighthouse: {incomplete[0]}")
    score = report.get("categories", {}).get("performance", {}).get("score")
    if score is None:
        raise LighthouseError("the report has no performance score")
    timings = {}
    for key, name in TIMINGS.items():
        value = audit(report, name).get("numericValue")
        if value is None:
            raise LighthouseError(f"audit {name!r} has no value")
        timings[key] = float(value)
    summary = {item["resourceType"]: [int(item.get("requestCount", 0)), int(item.get("transferSize", 0))]
               for item in audit(report, "resource-summary").get("details", {}).get("items", [])}
    if "total" not in summary:
        raise LighthouseError("the resource summary has no total")
    requests, transferred = summary.pop("total")
    summary.pop("third-party", None)  # a cut across the types, not a type; `external` below lists them
    external = [item["url"] for item in audit(report, "network-requests").get("details", {}).get("items", [])
                if leaves_machine(item.get("url", ""))]
    return Visit(float(score), timings["fcp_ms"], timings["lcp_ms"], timings["tbt_ms"], transferred, requests,
                 {kind: counts for kind, counts in summary.items() if counts[0]}, external, warnings)


def leaves_machine(url: str) -> bool:
    """A request over the network to another host; data: and blob: URLs stay in the browser."""
    parts = urlsplit(url)
    return parts.scheme in {"http", "https", "ws", "wss"} and (parts.hostname or "") not in LOOPBACK


def median_visit(visits: list[Visit]) -> Visit:
    """Each figure's own median over the runs (so the figures may come from different runs)."""
    def median(values) -> float:
        return statistics.median(list(values))

    kinds = sorted({kind for visit in visits for kind in visit.by_type})
    by_type = {kind: [round(median(v.by_type.get(kind, [0, 0])[i] for v in visits)) for i in (0, 1)]
               for kind in kinds}
    return Visit(median(v.score for v in visits), median(v.fcp_ms for v in visits), median(v.lcp_ms for v in visits),
                 median(v.tbt_ms for v in visits), round(median(v.bytes for v in visits)),
                 round(median(v.requests for v in visits)), by_type,
                 sorted({url for v in visits for url in v.external}),
                 sorted({warning for v in visits for warning in v.warnings}))


def kilobytes(count: float) -> str:
    return f"{count / 1000:,.0f} kB"


def table(medians: dict[str, Visit]) -> str:
    """Markdown: the figures, then bytes and requests by resource type, a column per visit."""
    kinds = list(medians)
    header = ["", *[f"{kind} visit" for kind in kinds]]
    rows = [
        ["performance score", *[f"{medians[k].score:.2f}" for k in kinds]],
        ["first contentful paint", *[f"{medians[k].fcp_ms / 1000:.1f} s" for k in kinds]],
        ["largest contentful paint", *[f"{medians[k].lcp_ms / 1000:.1f} s" for k in kinds]],
        ["total blocking time", *[f"{medians[k].tbt_ms / 1000:.2f} s" for k in kinds]],
        ["transferred", *[kilobytes(medians[k].bytes) for k in kinds]],
        ["requests", *[str(medians[k].requests) for k in kinds]],
        ["requests leaving the machine", *[str(len(medians[k].external)) for k in kinds]],
    ]
    types = sorted({t for k in kinds for t in medians[k].by_type},
                   key=lambda t: -max(medians[k].by_type.get(t, [0, 0])[1] for k in kinds))
    by_type = [[t, *[f"{kilobytes(medians[k].by_type.get(t, [0, 0])[1])} in {medians[k].by_type.get(t, [0, 0])[0]}"
                     for k in kinds]] for t in types]
    out = [markdown_table(header, rows), "", "Transferred by resource type (median; kB = 1,000 bytes):", "",
           markdown_table(["resource type", *header[1:]], by_type)]
    warnings = sorted({w for k in kinds for w in medians[k].warnings})
    out += [f"\nLighthouse warned: {warning}" for warning in warnings]
    return "\n".join(out)

