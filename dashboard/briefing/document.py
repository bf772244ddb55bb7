"""The daily briefing (日报) as files and as a group-robot message.

Markdown and a self-contained HTML page hold the same sections: the report's figures, the ranked
attention list, positives awaiting transfer, corrections, 14-day trends (SVG drawn here, so the
page makes no request), the filters, the data-as-of line and the stale feeds. The posted message
is the Markdown without the pictures, which robots do not show.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dashboard.figures.corrections import changes
from dashboard.figures.trends import Trend
from dashboard.i18n import (
    DEFAULT_LANG,
    WORD_JOINER,
    enum,
    is_missing,
    literal,
    moment,
    num,
    pct,
    short_day,
    spreadsheet_safe,
    t,
)
from dashboard.ingest.contract import ISOLATION_KINDS, ZONE_LEVELS

# WeCom's markdown message takes at most 4,096 bytes of content.
ROBOT_LIMIT_BYTES = 4096


def report_markdown(report: dict, lang: str = DEFAULT_LANG, area_name: str | None = None) -> str:
    """The day's briefing with the same figures as the JSON, in the language, naming the area."""
    zones = report["zones_active"] or {}
    isolation = report["isolation_active"] or {}

    def n(value) -> str:
        return num(value, lang)

    def line(key: str, **values) -> str:
        return "- " + t(key, lang, **values)

    area = area_name or t("sidebar.whole_district", lang)
    title = t("brief.title_area", lang, area=area, day=report["as_of"]) if area_name else \
        t("brief.title", lang, day=report["as_of"])
    lines = [
        f"# {title}",
        "",
        t("brief.scope", lang, area=area, at=report["at"].replace("T", " ")),
        "",
        f"## {t('page.zones', lang)}",
        *(line("brief.zones", level=enum("level", level, lang), n=n(zones.get(level))) for level in ZONE_LEVELS),
        line("brief.population_sealed", n=n(report["population_sealed"])),
        "",
        f"## {t('page.testing', lang)}",
        line("brief.samples", samples=n(report["samples_on_day"]), positives=n(report["positives_on_day"])),
        line("brief.round", round=n(report["current_round"]), coverage=pct(report["round_coverage"], lang, 2)),
        "",
        f"## {t('page.isolation', lang)}",
        *(line("brief.isolation", kind=enum("isolation_kind", kind, lang), n=n(isolation.get(kind)))
          for kind in ISOLATION_KINDS),
        line("brief.releases_due", n=n(report["releases_due_next_day"])),
        line("brief.hotel_occupancy", share=pct(report["hotel_occupancy"], lang, 2)),
        "",
        f"## {t('page.staff', lang)}",
        line("brief.on_duty", n=n(report["staff_on_duty"])),
        line("brief.understaffed", n=n(report["posts_understaffed"])),
        "",
        f"## {t('page.health', lang)}",
    ]
    for kind, feed in report["feeds"].items():
        if feed["latest_export"] is None:
            state = t("no_data", lang)
        elif feed["stale"]:
            state = t("brief.feed_stale", lang, day=feed["latest_export"])
        else:
            state = t("brief.feed_fresh", lang)
        lines.append(line("brief.feed", feed=t(f"feed.{kind}", lang), state=state))
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class BriefingInputs:
    report: dict
    lang: str
    area_name: str | None
    attention: list[tuple[str, str]]  # (kind, line) in rank order, as the overview lists them
    awaiting: pd.DataFrame  # isolation/awaiting_by_community
    data_as_of: object  # the newest ingest time of the feeds the figures use, or None
    trends: list[Trend] = field(default_factory=list)


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


def briefing_markdown(inputs: BriefingInputs, *, with_pictures: bool = True) -> str:
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
    content = briefing_markdown(inputs, with_pictures=False)
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
    markdown.write_text(briefing_markdown(inputs), encoding="utf-8")
    page.write_text(to_html(inputs), encoding="utf-8")
    return [markdown, page]


