"""The daily briefing (日报) as files and as a group-robot message.

Markdown and a self-contained HTML page hold the same sections: the report's figures, the ranked
attention list, positives awaiting transfer, corrections, 14-day trends (SVG drawn here, so the
page makes no request), the filters, the data-as-of line and the stale feeds. The posted message
is the Markdown without the pictures, which robots do not show.
"""

from __future__ import annotations

import base64
import html
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dashboard.data.report import to_markdown as report_markdown
from dashboard.i18n import WORD_JOINER, enum, is_missing, literal, moment, num, short_day, spreadsheet_safe, t

# WeCom's markdown message takes at most 4,096 bytes of content.
ROBOT_LIMIT_BYTES = 4096
POST_TIMEOUT_SECONDS = 10
FIGURE_NAMES = {"rows": "figure.rows", "samples_on_day": "figure.samples_on_day",
                "positives_on_day": "figure.positives_on_day", "staff_on_duty": "figure.staff_on_duty"}


@dataclass(frozen=True)
class Trend:
    title: str
    days: list  # calendar days, oldest first
    values: list  # a number per day, None where that day has no export
    color: str = "#2563eb"


@dataclass(frozen=True)
class BriefingInputs:
    report: dict
    lang: str
    area_name: str | None
    attention: list[tuple[str, str]]  # (kind, line) in rank order, as the overview lists them
    awaiting: pd.DataFrame  # isolation/awaiting_by_community
    data_as_of: object  # the newest ingest time of the feeds the figures use, or None
    trends: list[Trend] = field(default_factory=list)


def trends(run, day, area: str, lang: str) -> list[Trend]:
    """The overview's 14-day trends, from the same named queries: positives, samples, people in
    isolation and sealed zones; a day without its export stays empty."""
    testing = run("testing/trend", day=day, area=area)
    isolation = run("isolation/daily", day=day, area=area).groupby("day", sort=True)["active"].sum(min_count=1)
    zones = run("zones/trend", day=day, area=area)
    sealed = zones[zones["level"] == "sealed"]
    return [
        Trend(t("trend.positives", lang), list(testing["day"]), list(testing["positives"]), "#dc2626"),
        Trend(t("trend.samples", lang), list(testing["day"]), list(testing["samples"])),
        Trend(t("trend.isolation_total", lang), list(isolation.index), list(isolation.values), "#7c3aed"),
        Trend(t("kpi.zones_sealed", lang), list(sealed["day"]), list(sealed["zones"]), "#b91c1c"),
    ]


class NotSent(RuntimeError):
    """The webhook did not take the briefing; the message says where and why."""


def changes(before: dict, after: dict, lang: str) -> str:
    """Every figure a correction changed, "阳性 3→8", or all of them when none changed."""
    def flat(figures: dict) -> dict:
        out = {}
        for key, value in figures.items():
            if isinstance(value, dict):
                kind = "level" if key == "zones_active" else "isolation_kind"
                out.update({enum(kind, part, lang): v for part, v in value.items()})
            else:
                out[t(FIGURE_NAMES.get(key, "figure.rows"), lang)] = value
        return out

    old, new = flat(before), flat(after)
    changed = [name for name in new if old.get(name) != new[name]] or list(new)
    return ("、" if lang == "zh" else ", ").join(f"{n} {num(old.get(n), lang)}→{num(new[n], lang)}" for n in changed)


def _sections(inputs: BriefingInputs) -> list[tuple[str, list[str]]]:
    """(heading, lines) for everything after the report's own figures: plain text, escaped.

    Names from exports also go through spreadsheet_safe: the page is pasted into Excel or WPS,
    where a line that starts like a formula would run."""
    lang, report = inputs.lang, inputs.report
    awaiting_lines = [t("brief.awaiting_transfer", lang, n=num(report.get("positives_awaiting_transfer"), lang)),
                      t("brief.releases_overdue", lang, n=num(report.get("releases_overdue"), lang))]
    awaiting_lines += [t("brief.awaiting_line", lang, community=literal(spreadsheet_safe(row.name)), n=num(row.awaiting, lang),
                         hours=num(row.longest_wait_hours, lang)) for row in inputs.awaiting.itertuples(index=False)]
    corrections = [t("brief.correction_line", lang, day=short_day(c["day"], lang), feed=t(f"feed.{c['kind']}", lang),
                     at=moment(c["ingested_at"], lang), changes=changes(c["before"], c["after"], lang))
                   for c in report.get("corrections") or []]
    attention = [(f"{literal(spreadsheet_safe(kind))}：" if lang == "zh" else f"{literal(spreadsheet_safe(kind))}: ")
                 + literal(spreadsheet_safe(item)) for kind, item in inputs.attention]
    stale = [t(f"feed.{kind}", lang) for kind, feed in report["feeds"].items() if feed["stale"]]
    area = spreadsheet_safe(inputs.area_name) or t("sidebar.whole_district", lang)
    context = [
        t("brief.filters", lang, day=report["as_of"], area=literal(area), language=lang),
        t("brief.data_as_of", lang, day=report["as_of"], moment=moment(inputs.data_as_of, lang)),
        t("brief.stale_feeds", lang, feeds=("、" if lang == "zh" else ", ").join(stale)) if stale
        else t("brief.no_stale_feeds", lang),
    ]
    return [
        (t("brief.attention", lang), attention or [t("brief.none", lang)]),
        (t("kpi.awaiting_transfer", lang), awaiting_lines),
        (t("brief.corrections", lang), corrections or [t("brief.none", lang)]),
        (t("brief.context", lang), context),
    ]


def to_markdown(inputs: BriefingInputs, *, with_pictures: bool = True) -> str:
    area_name = literal(spreadsheet_safe(inputs.area_name)) if inputs.area_name else None  # names come from an export
    text = report_markdown(inputs.report, inputs.lang, area_name)
    for heading, lines in _sections(inputs):
        text += f"\n## {heading}\n" + "".join(f"- {line}\n" for line in lines)
    if with_pictures and inputs.trends:
        text += f"\n## {t('brief.trends', inputs.lang)}\n"
        for trend in inputs.trends:
            encoded = base64.b64encode(trend_svg(trend, inputs.lang).encode()).decode()
            text += f"\n![{literal(trend.title)}](data:image/svg+xml;base64,{encoded})\n"
    return text


def robot_message(inputs: BriefingInputs) -> dict:
    """What WeCom and DingTalk group robots accept; cut to their size limit on a line boundary."""
    content = to_markdown(inputs, with_pictures=False)
    while len(content.encode()) > ROBOT_LIMIT_BYTES:
        content = content[: content.rstrip("\n").rfind("\n") + 1] if "\n" in content.rstrip("\n") else ""
    return {"msgtype": "markdown", "markdown": {"content": content}}


def trend_svg(trend: Trend, lang: str, width: int = 560, height: int = 170) -> str:
    """Daily bars with the day under each, the last value written above its bar; a day with no
    export is an empty slot marked "–", never a zero bar."""
    left, right, top, bottom = 8, 8, 26, 24
    slot = (width - left - right) / max(len(trend.days), 1)
    present = [float(v) for v in trend.values if not is_missing(v)]
    largest = max(present + [1.0])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(trend.title)}">',
             f'<text x="{left}" y="16" font-size="14" font-weight="bold">{html.escape(trend.title)}</text>']
    base = height - bottom
    for index, (day, value) in enumerate(zip(trend.days, trend.values)):
        x = left + index * slot
        centre = x + slot / 2
        if is_missing(value):
            parts.append(f'<text x="{centre:.1f}" y="{base - 4}" font-size="11" text-anchor="middle" '
                         'fill="#9ca3af">–</text>')
        else:
            bar = (base - top) * float(value) / largest
            parts.append(f'<rect x="{x + slot * 0.15:.1f}" y="{base - bar:.1f}" width="{slot * 0.7:.1f}" '
                         f'height="{bar:.1f}" fill="{html.escape(trend.color)}"><title>'
                         f'{html.escape(short_day(day, lang))}: {html.escape(num(value, lang))}</title></rect>')
        if index == len(trend.days) - 1 and not is_missing(value):
            parts.append(f'<text x="{centre:.1f}" y="{base - (base - top) * float(value) / largest - 4:.1f}" '
                         f'font-size="11" text-anchor="middle">{html.escape(num(value, lang))}</text>')
        parts.append(f'<text x="{centre:.1f}" y="{height - 8}" font-size="10" text-anchor="middle" '
                     f'fill="#4b5563">{html.escape(short_day(day, lang))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def to_html(inputs: BriefingInputs) -> str:
    """One page, every value escaped, styles and pictures inline: it opens offline."""
    lang = inputs.lang
    area_name = spreadsheet_safe(inputs.area_name)
    body = []
    for line in report_markdown(inputs.report, lang, area_name).splitlines():
        if line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("- "):
            body.append(f"<li>{html.escape(line[2:])}</li>")
        elif line:
            body.append(f"<p>{html.escape(line)}</p>")
    for heading, lines in _sections(inputs):
        body.append(f"<h2>{html.escape(heading)}</h2>")
        # The lines were escaped for Markdown; the page shows them as typed.
        body.append("<ul>" + "".join(f"<li>{html.escape(_unescape_markdown(line))}</li>" for line in lines) + "</ul>")
    if inputs.trends:
        body.append(f"<h2>{html.escape(t('brief.trends', lang))}</h2>")
        body.append("".join(f"<figure>{trend_svg(trend, lang)}</figure>" for trend in inputs.trends))
    title = html.escape(next((line[2:] for line in report_markdown(inputs.report, lang, area_name)
                              .splitlines() if line.startswith("# ")), ""))
    return (f'<!doctype html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
            "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:960px;margin:2em auto;"
            "padding:0 1em;color:#111827}h2{border-bottom:1px solid #e5e7eb;margin-top:1.6em}"
            "figure{display:inline-block;margin:0 1em 1em 0}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _unescape_markdown(text: str) -> str:
    out, escaped = [], False
    for char in text.replace(WORD_JOINER, ""):
        if escaped or char != "\\":
            out.append(char)
            escaped = False
        else:
            escaped = True
    return "".join(out)


def write(inputs: BriefingInputs, out_dir: Path, stem: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown, page = out_dir / f"{stem}.md", out_dir / f"{stem}.html"
    markdown.write_text(to_markdown(inputs), encoding="utf-8")
    page.write_text(to_html(inputs), encoding="utf-8")
    return [markdown, page]


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """urllib follows a 302 by turning the POST into a GET, which a robot answers with a page: the
    message was never delivered. A redirect is reported, not followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_RefuseRedirects())


def webhook_problem(url: str) -> str:
    """Why this is no webhook URL ("" when it is one). Never quotes the URL: it carries the key."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the webhook URL is not an http(s) URL"
    if any(char.isspace() or ord(char) < 32 for char in url):
        return "the webhook URL contains a space or a control character"
    return ""


def _robot_errcode(answer: bytes):
    """The robot's errcode (0 = taken), or None when the reply is not a robot's JSON answer."""
    try:
        reply = json.loads(answer)
    except ValueError:
        return None
    code = reply.get("errcode") if isinstance(reply, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def post(url: str, message: dict, *, attempts: int = 4, first_wait: float = 1.0) -> None:
    """POST the message; retry with doubling waits; NotSent unless the robot answered with JSON
    whose errcode is 0 (WeCom and DingTalk both answer so). A refusal (a non-zero errcode, a
    redirect, a 4xx) is not retried. No message or traceback carries the URL, which holds the key."""
    problem = webhook_problem(url)
    if problem:
        raise NotSent(problem)
    data = json.dumps(message, ensure_ascii=False).encode("utf-8")
    for attempt in range(attempts):
        if attempt:
            time.sleep(first_wait * 2 ** (attempt - 1))
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with _OPENER.open(request, timeout=POST_TIMEOUT_SECONDS) as response:
                answer = response.read(65536)
        except urllib.error.HTTPError as error:
            problem = f"HTTP {error.code} {error.reason}"
            if 300 <= error.code < 400:
                raise NotSent(f"the webhook answered with a redirect ({problem}), not followed") from None
            if error.code < 500 and error.code != 429:
                break
            continue
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
            # Named by its reason or type only: str() of some of these quotes the URL.
            reason = getattr(error, "reason", error)
            problem = getattr(reason, "strerror", None) or type(reason).__name__
            continue
        errcode = _robot_errcode(answer)
        if errcode is None:
            raise NotSent("the webhook's reply was not a robot's JSON answer with an errcode: not delivered")
        if errcode:
            raise NotSent(f"the webhook refused the briefing (errcode {errcode})")
        return
    raise NotSent(f"the webhook did not take the briefing after {attempt + 1} attempt(s): {problem}")
