"""`python -m dashboard briefing`: one area's briefing built, written and posted to a group robot;
with --all-areas, the district's and every configured area's, each posted to its own robot.

No line printed here carries a webhook URL: it holds the robot's key.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from dashboard.briefing import document, send
from dashboard.figures.attention import attention_list
from dashboard.figures.headline import build_report, headline_figures
from dashboard.figures.queries import Snapshot
from dashboard.figures.trends import trends
from dashboard.i18n import t
from dashboard.settings import WHOLE_DISTRICT, Thresholds


@dataclass(frozen=True)
class BriefingRun:
    """What every area's briefing of one run shares."""

    snapshot: Snapshot
    thresholds: Thresholds
    day: date
    at: datetime
    lang: str
    out_dir: Path


def write_area_briefing(run: BriefingRun, area: str, area_name: str | None) -> tuple[list[Path], dict]:
    """One area's briefing ("" the whole district): its figures, attention list and trends, written
    as Markdown and HTML; the files, and the message for its group's robot."""
    figures = headline_figures(run.snapshot.run, run.day, run.at, area, follow_stale=True)
    inputs = document.BriefingInputs(
        report=build_report(run.snapshot, run.day, run.at, area), lang=run.lang, area_name=area_name,
        # Sent to a group: the list without the fatigue lines, which only roles that see names get.
        attention=[(t(f"attention.kind.{item.kind}", run.lang), item.text)
                   for item in attention_list(run.snapshot.run, figures, run.day, area, run.lang, run.thresholds,
                                              names_allowed=False, now=datetime.now())],
        awaiting=run.snapshot.run("isolation/awaiting_by_community", day=run.day, area=area),
        data_as_of=run.snapshot.run("health/feed_status", day=run.day)["ingested_at"].max(),
        trends=trends(run.snapshot.run, run.day, area, run.lang))
    stem = f"briefing-{run.day.isoformat()}-{area or WHOLE_DISTRICT}-{run.lang}"
    return document.write(inputs, run.out_dir, stem), document.robot_message(inputs)


def one_area(run: BriefingRun, area: str, area_name: str | None, url: str | None) -> int:
    """Write the area's briefing, then post it when there is a robot: 1 when it was not taken."""
    written, message = write_area_briefing(run, area, area_name)
    print("written: " + ", ".join(str(path) for path in written))
    if url:
        try:
            send.post(url, message)
        except send.NotSent as error:
            print(f"ERROR briefing not sent: {error}; the files above were written", file=sys.stderr)
            return 1
        print("posted to the webhook")
    return 0


def every_area(run: BriefingRun, names: dict[str, str], webhooks: dict[str, str]) -> int:
    """The district's briefing and one for every area with a robot in `webhooks`, each posted to its
    own robot; an area without one is not written. One robot failing, or a code that is no area of
    the snapshot, never stops the others: each is named, and the exit status is 1."""
    unknown = sorted(code for code in webhooks if code != WHOLE_DISTRICT and code not in names)
    areas = [("", None)] + [(code, names[code]) for code in sorted(webhooks) if code in names]
    failed = []
    for code in unknown:
        reason = "no street or community of the snapshot has this code"
        failed.append(f"{code} ({reason})")
        _say(f"ERROR {code} in [briefing.webhooks]: {reason} (see reference/areas.csv; the whole district is"
             f" \"{WHOLE_DISTRICT}\"); nothing written or sent", error=True)
    posted = 0
    for area, area_name in areas:
        label = f"{area or WHOLE_DISTRICT} {area_name or t('sidebar.whole_district', run.lang)}"
        written, message = write_area_briefing(run, area, area_name)
        files = ", ".join(str(path) for path in written)
        url = webhooks.get(area or WHOLE_DISTRICT)
        if not url:
            _say(f"{label}: written {files}; not posted, no robot in [briefing.webhooks]")
            continue
        try:
            send.post(url, message)
        except send.NotSent as error:
            failed.append(f"{label} ({error})")
            _say(f"ERROR {label}: written {files}; briefing not sent: {error}", error=True)
            continue
        posted += 1
        _say(f"{label}: written {files}; posted")
    _say(f"posted {posted} of {len(webhooks)}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def _say(line: str, error: bool = False) -> None:
    # Flushed, so that a log taking both streams (cron's `>> log 2>&1`) keeps the lines in order
    # and the summary last.
    print(line, file=sys.stderr if error else sys.stdout, flush=True)
