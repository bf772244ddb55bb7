"""Ingest whenever the data directory changes: the `ingest --watch` loop, which outlives any one
bad ingest (build.ingest has left its outcome in the status file by then)."""

from __future__ import annotations

import time

from dashboard.ingest.build import ingest
from dashboard.ingest.ids import mask_ids
from dashboard.ingest.inputs import fingerprint
from dashboard.ingest.status import summary_table
from dashboard.settings import Settings


def watch(settings: Settings, interval: float, report=print, rounds: int | None = None, after=None) -> None:
    """Ingest whenever the data directory changes; keeps going when one ingest fails. `after()`,
    when given, runs after every poll and returns a line to report (the alerts' tick: it knows
    nothing of the ingest but the snapshot it swapped in)."""
    last = None
    done = 0
    while rounds is None or done < rounds:
        try:
            current = fingerprint(settings.data_dir)
            if current != last:
                last = current
                report(summary_table(ingest(settings)))
        except Exception as error:  # a watcher must outlive any one bad ingest; ingest() logged it
            report(mask_ids(f"ERROR ingest failed: {error}"))
        if after is not None:
            try:
                line = after()
                if line:
                    report(line)
            except Exception as error:  # nor may a failing alert stop the ingest
                report(mask_ids(f"ERROR alerts: {type(error).__name__}: {error}"))
        done += 1
        if rounds is None or done < rounds:
            time.sleep(interval)
