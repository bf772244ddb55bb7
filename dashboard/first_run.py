"""A fresh clone's first run: generate the bundled demo and ingest it while the newcomer watches.

The one place where the web side starts an ingest, and, with the command line, the only importer
of the demo. The newest FIRST_RUN_DAYS are generated and ingested at once, with the steps and
counts on screen; the older days are generated, then ingested by a second, ordinary ingest, in a
background thread at a lower priority, while the pages say what they still lack. Only the bundled
demo does this (Settings.may_start_first_ingest): a replica of configured data waits for its own
ingest (web.cache.snapshot).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from datetime import date

import streamlit as st

from dashboard.i18n import t
from dashboard.ingest.build import Progress, ingest
from dashboard.ingest.inputs import discover
from dashboard.settings import Settings

# Two: the KPIs have the day before to compare with; each further day is seconds more of the
# newcomer's wait (docs/performance.md, "A fresh clone's first run").
FIRST_RUN_DAYS = 2
# The bundled demo's length: the newest FIRST_RUN_DAYS are generated first, the rest in the background.
DEMO_DAYS = 14
LOGGER = logging.getLogger("dashboard.first_run")
# What a first run left for its background thread (ensure_snapshot's answer).
OLDER_TO_GENERATE, OLDER_TO_INGEST = "generate", "ingest"
# How much lower the older days' ingest runs than the page (nice(1): 10 is the usual "background").
OLDER_DAYS_NICENESS = 10
_older_days_loading = threading.Event()
_older_days_failed = threading.Event()
# Once per process and snapshot path, as a cache_resource was: a run that finds the file made
# by another session's first run does nothing.
_prepared: set[tuple[str, str]] = set()
_prepared_lock = threading.Lock()


def ensure_snapshot(settings: Settings, progress: Progress | None = None, newest_days: int | None = None,
                    end_date: date | None = None) -> str | None:
    """First run needs nothing: with no data configured, generate the district demo and ingest it.

    With newest_days, only those days are generated and ingested (see ingest); returns what was
    left for later: OLDER_TO_GENERATE (generate_older_days, then a second ingest), OLDER_TO_INGEST
    (their files are there), or None. end_date: the demo's last day (today), the same for both halves.
    """
    if settings.db_path.exists():
        return None
    generated_newest = False
    if settings.is_demo and not (settings.data_dir / "exports").is_dir():
        from dashboard.demo.generate import generate  # the demo is needed on this one path only

        newest = range(DEMO_DAYS - newest_days, DEMO_DAYS) if newest_days else None
        generate(settings.data_dir, days=DEMO_DAYS, end_date=end_date, only_days=newest,
                 on_day=(lambda done, days: progress("generate", done, days)) if progress else None)
        generated_newest = newest is not None
    ingest(settings, progress, newest_days)
    if generated_newest:
        return OLDER_TO_GENERATE
    # The days the ingest sees: files of the contract's names and the files it tells by their
    # header (the field's names). Counting the first only, a first run on the demo as the field
    # sends it took its three days for all there were and never ingested the rest.
    inputs = discover(settings.data_dir)
    all_days = {day for _, day, _ in inputs.files if day is not None} | {day for day, _ in inputs.candidates}
    return OLDER_TO_INGEST if newest_days and len(all_days) > newest_days else None


def generate_older_days(settings: Settings, end_date: date | None) -> None:
    """The demo's days before the newest FIRST_RUN_DAYS, once a first run generated only those.
    Each day's files are the same whichever days are generated together (tests/test_first_run.py)."""
    from dashboard.demo.generate import generate

    generate(settings.data_dir, days=DEMO_DAYS, end_date=end_date, only_days=range(DEMO_DAYS - FIRST_RUN_DAYS))


def _ingest_older_days(config: Settings, left: str, end_date: date | None = None) -> None:
    _yield_to_the_page()
    try:
        try:
            if left == OLDER_TO_GENERATE:
                generate_older_days(config, end_date)
        except Exception:  # noqa: BLE001 - the page says so; the newest days stay served
            LOGGER.exception("the first run could not generate the demo's older days")
            _older_days_failed.set()
            return
        ingest(config)  # a failure is in the status file, which the banner shows
    finally:
        _older_days_loading.clear()


def _yield_to_the_page() -> None:
    """Run this thread, and the DuckDB workers it starts, at a lower priority (Linux: niceness is
    per thread, and threads inherit it): on two cores the older days' ingest would otherwise take
    the CPU from the first page's queries and the newcomer's browser drawing it."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), OLDER_DAYS_NICENESS)


def prepare(config: Settings, lang: str) -> None:
    """With no snapshot of the bundled demo yet, make one here, saying what is happening with
    counts, not a bare spinner; the steps go once the pages can be drawn."""
    key = (str(config.data_dir), str(config.db_path))
    if config.db_path.exists() or not config.may_start_first_ingest or key in _prepared:
        return
    holder = st.empty()
    with holder.status(t("app.preparing", lang), expanded=True):
        line = st.empty()

        def show(stage: str, done: int, total: int) -> None:
            line.write(t(f"app.preparing.{stage}", lang, done=done, total=total, days=FIRST_RUN_DAYS))

        with _prepared_lock:
            if key not in _prepared:
                today = date.today()  # both halves of the demo end on the same day, even past midnight
                left = ensure_snapshot(config, show, newest_days=FIRST_RUN_DAYS, end_date=today)
                if left:
                    _older_days_loading.set()
                    threading.Thread(target=_ingest_older_days, args=(config, left, today),
                                     name="first-run-older-days", daemon=True).start()
                _prepared.add(key)
    holder.empty()


def notice(lang: str) -> None:
    """While a first run's older days are still being ingested, say what the page lacks."""
    if _older_days_loading.is_set():
        st.info(t("app.loading_older", lang, days=FIRST_RUN_DAYS))
    elif _older_days_failed.is_set():
        st.warning(t("app.older_days_failed", lang, days=FIRST_RUN_DAYS))
