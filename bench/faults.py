"""kill -9 during a city day's ingest: python -m bench.faults [--scale city] [--kills 20].

Uses the data and snapshot `python -m bench.run --scale SCALE` left in bench/out/. Holds the newest
day back and ingests the rest (the "before" snapshot), then, KILLS times, puts that snapshot back,
starts the ingest that adds the day and kills it at a random moment of its run. After every kill
the snapshot must open with the figures of before or of after, whole, and every Parquet file it
names must be readable. The suite's tests/test_ingest_faults.py does the same on the small fixture.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from dashboard.ingest import partitions

OUT = Path(__file__).parent / "out"
REPO = Path(__file__).resolve().parents[1]
FIGURES = ("select (select sum(samples) from testing_daily), (select sum(persons) from round_firsts),"
           " (select count(*) from partitions), (select count(*) from loaded_files)")


def figures(db: Path) -> tuple:
    with partitions.open_snapshot(db) as con:
        values = con.execute(FIGURES).fetchone()
        # Every named file is there and whole: a reader of this snapshot can read the rows.
        named_rows = con.execute("select count(*) from testing_records").fetchone()[0]
    return (*values, named_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=["district", "city"], default="city")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--layout", choices=["field", "contract"], default="field",
                        help="the data bench.run generated: as the field sends it (its default), or one file per kind")
    args = parser.parse_args()
    # Where bench.run --layout LAYOUT leaves its data: this read the contract layout's alone, which
    # bench.run no longer makes by default (issue 18), so the command failed on a fresh bench/out.
    data = OUT / (f"{args.scale}-14-field" if args.layout == "field" else f"{args.scale}-14")
    db = OUT / f"{args.scale}.duckdb"
    if not db.exists():
        raise SystemExit(f"run `python -m bench.run --scale {args.scale}` first")
    ingest = [sys.executable, "-m", "dashboard", "ingest", "--data", str(data), "--db", str(db)]
    newest = max((data / "exports").iterdir())
    held_back = OUT / "held-back"
    newest.rename(held_back)
    try:
        subprocess.run(ingest, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    finally:
        held_back.rename(newest)
    before, baseline = figures(db), OUT / "faults-baseline.duckdb"
    shutil.copyfile(db, baseline)
    start = time.perf_counter()
    subprocess.run(ingest, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    duration = time.perf_counter() - start
    after = figures(db)
    print(f"adding {newest.name}: {duration:.1f} s; before {before}; after {after}", flush=True)
    rng = random.Random(args.seed)
    seen = {"before": 0, "after": 0}
    for n in range(args.kills):
        shutil.copyfile(baseline, OUT / "faults-restore.duckdb")
        (OUT / "faults-restore.duckdb").replace(db)
        moment = rng.uniform(0, duration)
        process = subprocess.Popen(ingest, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(moment)
        process.kill()
        process.wait()
        now = figures(db)
        if now not in (before, after):
            raise SystemExit(f"kill {n + 1} at {moment:.1f} s: torn snapshot {now}")
        seen["before" if now == before else "after"] += 1
        print(f"kill {n + 1:2d} at {moment:5.1f} s: {'before' if now == before else 'after'}", flush=True)
    baseline.unlink()
    subprocess.run(ingest, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    if figures(db) != after:
        raise SystemExit("the ingest after the kills did not reach the after figures")
    print(f"{args.kills} kills: {seen['before']} left the previous snapshot, {seen['after']} the new one;"
          " none torn; the next ingest completed")


if __name__ == "__main__":
    main()
