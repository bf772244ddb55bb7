"""Benchmarks, side by side in one run: python -m bench.run [--scale district|city] [--days N] [--layout field|contract].

Measures what users wait for, each against what DuckDB alone needs to read the same CSVs:
a full ingest against a bare `read_csv` of every testing file into a table, one new day added to
the loaded days against a bare `read_csv` of that day's testing file, an ingest with nothing new,
the peak memory (RSS) of each, the snapshot's size, every named query on the snapshot, and the
alerts' evaluation after a swap (--alerts-only: on the snapshot an earlier run left behind).
Each ingest runs as its own `python -m dashboard ingest` process, so its peak RSS is its own.
Timings on a shared machine are noisy: compare the ratios, taken in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from dashboard.demo.generate import generate
from dashboard.figures.queries import Snapshot, example_params, query_names
from dashboard.ingest import partitions

OUT = Path(__file__).parent / "out"
REPO = Path(__file__).resolve().parents[1]
# Reads the given testing files into a table of a fresh database file, all columns as text: the
# least any ingest must do.
BARE_READ = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("create table testing_records as select * from read_csv($files, all_varchar = true, header = true)",
            {"files": sys.argv[2:]})
con.close()
"""

# The least any ingest that may not store an ID number must do: read, apply the HMAC's two sha256
# calls to the ID column, write Parquet. No value is checked.
FLOOR_READ = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("set memory_limit = '1GB'")
con.execute("copy (select * replace (sha256(unhex(sha256(person_id))) as person_id)"
            " from read_csv($files, all_varchar = true, header = true))"
            " to $target (format parquet, compression zstd)", {"files": sys.argv[3:], "target": sys.argv[2]})
con.close()
"""


# The same with the HMAC as the ingest computes it (RFC 2104: the key's 64-byte pads make each of
# the two sha256 calls hash two blocks, not one) and the key it stores (128 bits, a UUID), written
# as the ingest writes its Parquet files: the floor above left the key out.
KEYED_FLOOR_READ = """
import sys, duckdb
from dashboard.ingest import ids, parse
con = duckdb.connect(sys.argv[1])
con.execute("set memory_limit = '1GB'")
parse.install_macros(con)
ids.use_key(con, b"k" * 32)
con.execute("copy (select * replace (hmac_key(getvariable('id_pads')[1], getvariable('id_pads')[2], person_id)"
            " as person_id) from read_csv($files, all_varchar = true, header = true))"
            " to $target (format parquet, compression zstd, compression_level 1)",
            {"files": sys.argv[3:], "target": sys.argv[2]})
con.close()
"""


def run_measured(command: list[str], cwd: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one child process, which must succeed."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds, usage.ru_maxrss / 1024


def bare_read(files: list[Path]) -> tuple[float, float]:
    target = OUT / "bare.duckdb"
    target.unlink(missing_ok=True)
    measured = run_measured([sys.executable, "-c", BARE_READ, str(target), *map(str, files)], REPO)
    target.unlink(missing_ok=True)
    return measured


def floor_read(files: list[Path], script: str = FLOOR_READ) -> tuple[float, float]:
    target, parquet = OUT / "floor.duckdb", OUT / "floor.parquet"
    measured = run_measured([sys.executable, "-c", script, str(target), str(parquet), *map(str, files)], REPO)
    target.unlink(missing_ok=True)
    parquet.unlink(missing_ok=True)
    return measured


def floor_rows(day_files: list[Path], repeat: int, one_day: float | None = None) -> None:
    """The bare read of one day beside the floor of an ingest of it, alternating, median of repeat;
    with one_day, the seconds the ingest took to add that day, against each floor."""
    bare, floor, keyed = [], [], []
    for _ in range(repeat):
        bare.append(bare_read(day_files)[0])
        floor.append(floor_read(day_files)[0])
        keyed.append(floor_read(day_files, KEYED_FLOOR_READ)[0])
    bare_s = statistics.median(bare)
    print(f"{'bare read_csv of ' + day_files[0].parent.name + ' (median of ' + str(repeat) + ')':<46}"
          f" {bare_s:>9.2f}")
    for name, runs in (("read + two sha256 of the IDs + Parquet", floor), ("read + the keyed HMAC + Parquet", keyed)):
        print(f"{name:<46} {statistics.median(runs):>9.2f} {bare_s:>8.2f} {statistics.median(runs) / bare_s:>6.2f}x")
        if one_day:
            print(f"{'  the day added, against it':<46} {one_day:>9.2f} {statistics.median(runs):>8.2f}"
                  f" {one_day / statistics.median(runs):>6.2f}x")


def size_mb(path: Path) -> float:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6
    return path.stat().st_size / 1e6 if path.exists() else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=["district", "city"], default="district")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--layout", choices=["field", "contract"], default="field",
                        help="the demo's files as the field sends them (per sender, workbooks), or one canonical"
                             " file per kind and day (what code before issue 18 reads)")
    parser.add_argument("--repeat", type=int, default=20, help="runs per query")
    parser.add_argument("--cheap-repeat", type=int, default=3, help="runs of the bare one-day read (median)")
    parser.add_argument("--code", type=Path, default=REPO,
                        help="a checkout whose `python -m dashboard ingest` is measured (default: this one)")
    parser.add_argument("--no-queries", action="store_true")
    parser.add_argument("--alerts-only", action="store_true",
                        help="only the alerts' evaluation, on the snapshot an earlier run left in bench/out/")
    parser.add_argument("--floor-only", action="store_true",
                        help="only the newest day's bare read beside the least an ingest must do with it")
    args = parser.parse_args()

    end = date(2022, 1, 14)
    data = OUT / f"{args.scale}-{args.days}" if args.layout == "contract" else OUT / f"{args.scale}-{args.days}-field"
    if not (data / "exports").is_dir():
        print(f"generating {args.scale} data into {data} …")
        start = time.perf_counter()
        generate(data, scale=args.scale, days=args.days, end_date=end, seed=42, layout=args.layout)
        print(f"generated in {time.perf_counter() - start:.1f} s")
    # The same testing rows either way: one file a day, or the fixed sites' and the vehicles' files.
    testing_glob = "testing_records.csv" if args.layout == "contract" else "核酸采样_*.csv"
    days = sorted(p.name for p in (data / "exports").iterdir())
    OUT.mkdir(exist_ok=True)
    newest_testing = sorted((data / "exports" / days[-1]).glob(testing_glob))
    if args.floor_only:
        floor_rows(newest_testing, args.cheap_repeat)
        return
    if args.alerts_only:
        alert_runs(OUT / f"{args.scale}.duckdb", date.fromisoformat(days[-1]), args.cheap_repeat)
        return
    held_back = OUT / "held-back"
    shutil.rmtree(held_back, ignore_errors=True)
    db = OUT / f"{args.scale}.duckdb"
    for leftover in OUT.glob(f"{args.scale}.duckdb*"):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    ingest = [sys.executable, "-m", "dashboard", "ingest", "--data", str(data), "--db", str(db)]

    testing_files = sorted((data / "exports").glob(f"*/{testing_glob}"))
    testing_rows = sum(max(0, sum(1 for _ in f.open("rb")) - 1) for f in testing_files)
    bare_full = bare_read(testing_files)
    full = run_measured(ingest, args.code)
    unchanged = run_measured(ingest, args.code)
    # Take the last day away, ingest, then bring it back: the cost of one new day.
    (data / "exports" / days[-1]).rename(held_back)
    run_measured(ingest, args.code)
    held_back.rename(data / "exports" / days[-1])
    one_day = run_measured(ingest, args.code)
    bare_day = [bare_read(newest_testing) for _ in range(args.cheap_repeat)]
    bare_day_seconds = statistics.median(s for s, _ in bare_day)

    staging = partitions.folder(db)
    print(f"\n{args.scale} scale, {args.layout} layout, {len(days)} days, {testing_rows:,} testing rows;"
          f" code: {args.code}")
    print(f"served snapshot {size_mb(db):,.0f} MB; Parquet files of testing rows {size_mb(staging):,.0f} MB")
    print(f"{'what':<46} {'seconds':>9} {'bare s':>8} {'ratio':>7} {'peak RSS MB':>12}")
    rows = [
        ("ingest: full, from nothing", full, bare_full[0]),
        (f"ingest: add day {len(days)} to {len(days) - 1}", one_day, bare_day_seconds),
        ("ingest: nothing changed", unchanged, None),
        ("bare read_csv: every testing file", bare_full, None),
        (f"bare read_csv: day {len(days)} (median of {args.cheap_repeat})", (bare_day_seconds, bare_day[0][1]), None),
    ]
    for name, (seconds, rss), bare in rows:
        ratio = f"{seconds / bare:>6.2f}x" if bare else f"{'':>7}"
        print(f"{name:<46} {seconds:>9.2f} {bare or 0:>8.2f} {ratio} {rss:>12,.0f}")
    floor_rows(newest_testing, args.cheap_repeat, one_day[0])
    if args.no_queries:
        return

    snapshot = Snapshot(db)
    newest = date.fromisoformat(days[-1])
    print(f"\n{'query (warm, median of ' + str(args.repeat) + ')':<46} {'ms':>9} {'p95 ms':>8}")
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
        print(f"{name:<46} {median:>9.1f} {runs[int(len(runs) * 0.95) - 1]:>8.1f}")
    print(f"{'all queries, one after another':<46} {total:>9.1f}")
    snapshot.close()
    alert_runs(db, newest, args.cheap_repeat)
    page_runs(data, db, args.cheap_repeat)


def alert_runs(db: Path, newest: date, repeat: int) -> None:
    """The alerts' evaluation as it runs after a swap: a snapshot just opened (no warm connection),
    every rule at 12:00 of the newest day, the result recorded into a fresh store."""
    from dashboard.alerts.rules import evaluate
    from dashboard.alerts.store import AlertStore
    from dashboard.settings import Thresholds

    at = datetime.combine(newest, datetime.min.time()).replace(hour=12)
    runs, recorded = [], []
    for attempt in range(repeat + 1):
        store_path = OUT / "alerts-bench.sqlite"
        store_path.unlink(missing_ok=True)
        snapshot = Snapshot(db)
        start = time.perf_counter()
        evaluation = evaluate(snapshot.run, Thresholds(), at)
        middle = time.perf_counter()
        AlertStore(store_path).record(at, evaluation.alerts, evaluation.evaluated_rules, lambda alert: ["on_duty"],
                                      timedelta(hours=2))
        end = time.perf_counter()
        snapshot.close()
        if attempt:  # the first run also imports and reads the SQL files
            runs.append(middle - start)
            recorded.append(end - start)
    print(f"\n{'alerts after a swap (median of ' + str(repeat) + ')':<46} {'s':>9}   alerts")
    print(f"{'evaluate every rule at ' + at.strftime('%m-%d %H:%M'):<46} {statistics.median(runs):>9.3f}"
          f" {len(evaluation.alerts):>8}")
    print(f"{'evaluate and record':<46} {statistics.median(recorded):>9.3f}")


def page_runs(data: Path, db: Path, repeat: int) -> None:
    """Each page's whole script run in-process (AppTest), warm: what a rerun costs the server."""
    from streamlit.testing.v1 import AppTest

    from dashboard.web.pages import PAGES

    os.environ.update(DASHBOARD_DATA=str(data), DASHBOARD_DB=str(db))
    app = REPO / "dashboard" / "app.py"
    print(f"\n{'page script run (warm, AppTest, median of ' + str(repeat) + ')':<46} {'s':>9}")
    for spec in PAGES:
        at = AppTest.from_file(str(app), default_timeout=300)
        at.switch_page(f"app_pages/{spec.file}")
        at.run()  # cold: fills the caches
        if at.exception:
            raise SystemExit(f"{spec.file}: {at.exception[0].message}")
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            at.run()
            runs.append(time.perf_counter() - start)
        print(f"{spec.file:<46} {statistics.median(runs):>9.2f}")


if __name__ == "__main__":
    main()
