"""Benchmarks, side by side in one run: python -m bench.run [--scale district|city] [--days N].

Measures what users wait for: a full ingest, an ingest with nothing new, adding one day to the
loaded days (against the full ingest), and every named query on the snapshot (what a page
refresh costs). Prints a table; timings on a shared machine are noisy, so compare the ratios.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from datetime import date
from pathlib import Path

from dashboard.data.ingest import ingest
from dashboard.data.queries import Snapshot, example_params, query_names
from dashboard.demo.generate import generate
from dashboard.settings import Settings

OUT = Path(__file__).parent / "out"


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    value = action()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=["district", "city"], default="district")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--repeat", type=int, default=20, help="runs per query")
    args = parser.parse_args()

    end = date(2022, 1, 14)
    data = OUT / f"{args.scale}-{args.days}"
    if not (data / "exports").is_dir():
        print(f"generating {args.scale} data into {data} …")
        generate(data, scale=args.scale, days=args.days, end_date=end, seed=42)
    days = sorted(p.name for p in (data / "exports").iterdir())
    held_back = OUT / "held-back"
    shutil.rmtree(held_back, ignore_errors=True)

    settings = Settings.from_env(data, OUT / f"{args.scale}.duckdb")
    settings.db_path.unlink(missing_ok=True)
    full, _ = timed(lambda: ingest(settings))
    unchanged, _ = timed(lambda: ingest(settings))
    # Take the last day away, ingest, then bring it back: the cost of one new day.
    (data / "exports" / days[-1]).rename(held_back)
    ingest(settings)
    (held_back).rename(data / "exports" / days[-1])
    one_day, _ = timed(lambda: ingest(settings))

    rows = [
        ("ingest: full, from nothing", full, 1.0),
        ("ingest: nothing changed", unchanged, unchanged / full),
        (f"ingest: add day {len(days)} to {len(days) - 1}", one_day, one_day / full),
    ]
    print(f"\n{args.scale} scale, {len(days)} days, snapshot {settings.db_path.stat().st_size / 1e6:,.0f} MB")
    print(f"{'what':<44} {'seconds':>9} {'vs full':>8}")
    for name, seconds, ratio in rows:
        print(f"{name:<44} {seconds:>9.2f} {ratio:>8.2f}")

    snapshot = Snapshot(settings.db_path)
    newest = date.fromisoformat(days[-1])
    print(f"\n{'query (warm, median of ' + str(args.repeat) + ')':<44} {'ms':>9} {'p95 ms':>8}")
    total = 0.0
    for name in query_names():
        bound = example_params(name, newest)
        snapshot.run(name, **bound)
        runs = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            snapshot.run(name, **bound)
            runs.append((time.perf_counter() - start) * 1000)
        runs.sort()
        median = statistics.median(runs)
        total += median
        print(f"{name:<44} {median:>9.1f} {runs[int(len(runs) * 0.95) - 1]:>8.1f}")
    print(f"{'all queries, one after another':<44} {total:>9.1f}")
    snapshot.close()


if __name__ == "__main__":
    main()
