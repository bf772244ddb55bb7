"""Command line: python -m dashboard {ingest,report,briefing,alerts,generate,serve,hash-password,screen-token}."""

from __future__ import annotations

import argparse
import contextlib
import sys
import traceback
from datetime import date, datetime
from pathlib import Path

from dashboard.i18n import DEFAULT_LANG, LANGS
from dashboard.settings import Settings


def _print_failure(error: Exception) -> int:
    """What went wrong, for a terminal or cron's mail: ID-shaped text masked, and no traceback
    for the failures an operator fixes (a missing folder, a refused key)."""
    from dashboard.ingest.ids import mask_ids
    from dashboard.settings import IdKeyRefused

    if isinstance(error, (OSError, IdKeyRefused)):
        print(mask_ids(f"ERROR {error}"), file=sys.stderr)
    else:
        print(mask_ids(traceback.format_exc()), file=sys.stderr)
    return 1


def _ingest(args) -> int:
    from dashboard.ingest.build import ingest
    from dashboard.ingest.ids import mask_ids
    from dashboard.ingest.inputs import check_accepted
    from dashboard.ingest.status import summary_table
    from dashboard.ingest.watcher import watch

    settings = Settings.from_env(args.data, args.db)
    if args.watch:
        if args.accept:
            print("--accept runs one ingest: give it without --watch", file=sys.stderr)
            return 2
        print(mask_ids(f"watching {settings.data_dir} every {args.interval:g} s; Ctrl-C stops"))
        with contextlib.ExitStack() as stack:
            watch(settings, args.interval, after=None if args.no_alerts else _alerts_after_ingest(settings, stack))
        return 0
    if args.accept:
        try:
            check_accepted(settings.data_dir, tuple(args.accept))
        except FileNotFoundError as error:
            print(mask_ids(f"ERROR {error}"), file=sys.stderr)  # a typo, no failed ingest for the banner
            return 2
    try:
        result = ingest(settings, accept=tuple(args.accept or ()), rehash=args.rehash)
    except Exception as error:
        return _print_failure(error)
    print(summary_table(result))
    print(mask_ids(f"\nsnapshot: {result.db_path}"))
    for failure in result.failed:
        print(mask_ids(f"ERROR {failure.message}"), file=sys.stderr)
    for held in result.held:
        print(mask_ids(f"HELD {held.message}"), file=sys.stderr)
    return 0 if result.ok else 1


def _alerts_after_ingest(settings, stack):
    """The alerts' tick for the ingest watcher, holding the alerts' lock for as long as it runs;
    None (with a line saying why) when another process already evaluates them."""
    from dashboard.alerts.command import Alerting, AlertsBusy, exclusive

    try:
        stack.enter_context(exclusive(settings))
    except AlertsBusy as busy:
        print(f"alerts: not evaluated here: {busy}")
        return None
    return Alerting(settings).tick


def _alerts(args) -> int:
    from dashboard.alerts import command
    from dashboard.figures.headline import parse_at

    settings = Settings.from_env(args.data, args.db)
    try:
        if args.watch:
            if args.at or args.post:
                print("--at and --post are for --once: --watch runs on the clock, to the configured robots",
                      file=sys.stderr)
                return 2
            return command.watch(settings)
        return command.once(settings, parse_at(args.at) if args.at else None, args.post)
    except command.AlertsBusy as busy:
        print(f"ERROR {busy}", file=sys.stderr)
        return 1
    except Exception as error:
        return _print_failure(error)


def _snapshot_and_area(args):
    """The snapshot (built on first use), its areas' names by code and the name of --area, or an
    exit code for the failure."""
    from dashboard.figures.queries import Snapshot
    from dashboard.first_run import ensure_snapshot

    settings = Settings.from_env(args.data, args.db)
    try:
        ensure_snapshot(settings)
    except Exception as error:
        return _print_failure(error)
    snapshot = Snapshot(settings.db_path)
    names = dict(snapshot.run("map/areas")[["area_code", "name"]].itertuples(index=False))
    if args.area and args.area not in names:
        print(f"unknown area code {args.area!r}: see reference/areas.csv", file=sys.stderr)
        return 2
    return settings, snapshot, names, names.get(args.area) if args.area else None


def _report(args) -> int:
    from dashboard.briefing.document import report_markdown
    from dashboard.figures.headline import build_report, default_at, default_day, parse_at, to_json

    opened = _snapshot_and_area(args)
    if isinstance(opened, int):
        return opened
    settings, snapshot, _, area_name = opened
    day = date.fromisoformat(args.day) if args.day else default_day(snapshot)
    at = parse_at(args.at) if args.at else default_at(day)
    report = build_report(snapshot, day, at, args.area or "")
    if args.format == "json":
        print(to_json({**report, **_alerts_open(settings, args.area or "")}))
    else:
        print(report_markdown(report, args.lang, area_name), end="")
    return 0


def _alerts_open(settings, area: str) -> dict:
    """The report's alerts: how many are open in the area now, as of their last evaluation; null
    for both when alerts have never been evaluated (never a 0 nobody checked)."""
    from dashboard.alerts.store import AlertStore

    if not settings.alerts_db.exists():
        return {"alerts_open": None, "alerts_evaluated_at": None}
    store = AlertStore(settings.alerts_db, read_only=True)
    last = store.last_evaluated()
    return {"alerts_open": store.open_count(area),
            "alerts_evaluated_at": last.isoformat(timespec="minutes") if last else None}


def _briefing(args) -> int:
    """Write the day's briefing as Markdown and HTML, then post it when a webhook is given or configured;
    with --all-areas, the district's and each configured area's, each to its own robot."""
    from dashboard import settings as configured
    from dashboard.briefing import command
    from dashboard.figures.headline import default_at, default_day, parse_at

    if args.all_areas and args.post:
        print("--post names one robot, but with --all-areas each area posts to its own group's:"
              " configure them in [briefing.webhooks] of the secrets file", file=sys.stderr)
        return 2
    opened = _snapshot_and_area(args)
    if isinstance(opened, int):
        return opened
    settings, snapshot, names, area_name = opened
    day = date.fromisoformat(args.day) if args.day else default_day(snapshot)
    at = parse_at(args.at) if args.at else default_at(day)
    run = command.BriefingRun(snapshot, settings.thresholds, day, at, args.lang, Path(args.out))
    webhooks = configured.briefing_webhooks()
    if args.all_areas:
        return command.every_area(run, names, webhooks)
    # An area without a robot of its own goes to the district's, as before there were area robots.
    url = args.post or webhooks.get(args.area or configured.WHOLE_DISTRICT) or webhooks.get(configured.WHOLE_DISTRICT)
    return command.one_area(run, args.area or "", area_name, url)


def _generate(args) -> int:
    from dashboard.demo.generate import generate

    end = date.fromisoformat(args.end_date) if args.end_date else None
    summary = generate(Path(args.out), scale=args.scale, days=args.days, end_date=end, seed=args.seed,
                       layout=args.layout)
    print(summary)
    return 0


def _hash_password(args) -> int:
    import getpass

    from dashboard.web.auth import PasswordTooLong, hash_password

    password = getpass.getpass("password: ")
    if password != getpass.getpass("again: "):
        print("passwords differ", file=sys.stderr)
        return 1
    try:
        print(hash_password(password))
    except PasswordTooLong as error:
        print(f"ERROR {error}: choose a shorter one", file=sys.stderr)
        return 1
    return 0


def _screen_token(args) -> int:
    """Issue, revoke or list the tokens wall screens log in with; a new token's path is the last line."""
    from urllib.parse import urlencode

    from dashboard.settings import IdKeyRefused
    from dashboard.web import screen_tokens

    settings = Settings.from_env(args.data, args.db)
    try:
        if args.list:
            screens = screen_tokens.registered(settings)
            for screen in screens:
                state = "expired" if screen.expired(datetime.now().timestamp()) else "valid"
                print(f"{screen.name}\t{state}\tissued {screen.issued:%Y-%m-%d %H:%M}\t"
                      f"expires {screen.expires:%Y-%m-%d %H:%M}\t{screen.area or 'district'}")
            if not screens:
                print(f"no screen tokens in {settings.screen_tokens_file}")
            return 0
        if args.revoke is not None:
            if not screen_tokens.revoke(settings, args.revoke):
                print(f"no screen named {args.revoke!r} (see --list)", file=sys.stderr)
                return 1
            print(f"revoked the token of {args.revoke!r}: that screen shows the login page from its next run")
            return 0
        area_name = None
        if args.area:
            opened = _snapshot_and_area(args)
            if isinstance(opened, int):
                return opened
            area_name = opened[3]
        token = screen_tokens.issue(settings, args.name, args.days, area=args.area or "")
    except (OSError, IdKeyRefused, screen_tokens.ScreenTokenError) as error:
        return _print_failure(error)
    until = next(screen.expires for screen in screen_tokens.registered(settings) if screen.name == args.name)
    shows = f"{area_name} ({args.area}) only" if args.area else "the whole district"
    print(f"screen {args.name!r}: role screen, showing {shows}, valid until {until:%Y-%m-%d %H:%M} ({args.days} days);"
          f" any token it had before no longer works. Stored hashed in {settings.screen_tokens_file}.")
    print("Open this path on the screen's browser after http://HOST:PORT, then press F11:")
    print("/?" + urlencode({"kiosk": "1", "token": token}))
    return 0


def _serve(args) -> int:
    """Start streamlit, refusing an open address when nobody has to log in, and an unusable users file."""
    import os

    from dashboard.settings import REPO
    from dashboard.web.auth import UsersFileError, load_users
    from dashboard.web.loopback_only import refuse_open_without_users

    try:
        users = load_users()
    except UsersFileError as error:
        print(error, file=sys.stderr)
        return 2
    refusal = refuse_open_without_users(args.address, users)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    command = [sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard" / "app.py"),
               "--server.address", args.address, "--server.port", str(args.port)]
    os.chdir(REPO)  # .streamlit/config.toml is read from the working directory
    os.execv(sys.executable, command)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def with_location(command):
        command.add_argument("--data", help="data directory (default: $DASHBOARD_DATA, else the bundled demo)")
        command.add_argument("--db", help="snapshot file (default: $DASHBOARD_DB, else one per data directory"
                             " in the state directory, $DASHBOARD_STATE_DIR or ~/.local/state/erqi-dashboard)")
        return command

    ingest = with_location(commands.add_parser("ingest", help="read the exports into the DuckDB snapshot"))
    ingest.add_argument("--watch", action="store_true", help="keep polling the exports and ingest what changes")
    ingest.add_argument("--interval", type=float, default=30, help="seconds between polls with --watch")
    ingest.add_argument("--accept", action="append", metavar="DAY/FILE.csv",
                        help="apply this held re-export (e.g. 2022-01-07/testing_records.csv, relative to exports/):"
                             " that very file, by its sha256; may be given more than once")
    ingest.add_argument("--rehash", action="store_true",
                        help="read every file to learn whether it changed, trusting no file's size and times"
                             " (by default a file whose stat is as when it was last hashed is not read again)")
    ingest.add_argument("--no-alerts", action="store_true",
                        help="with --watch: leave the alerts to a separate `alerts --watch` (by default the watcher"
                             " evaluates them after every ingest and on the clock)")
    ingest.set_defaults(run=_ingest)

    alerts = with_location(commands.add_parser(
        "alerts", help="evaluate the alert rules and send what started, is still open or cleared"))
    mode = alerts.add_mutually_exclusive_group(required=True)
    mode.add_argument("--once", action="store_true", help="evaluate once and deliver, for cron; exit 1 if anything"
                      " is left undelivered")
    mode.add_argument("--watch", action="store_true", help="keep evaluating on every new snapshot and on the clock"
                      " (for a deployment whose ingest watcher runs with --no-alerts)")
    alerts.add_argument("--at", help='"YYYY-MM-DD HH:MM": the evaluation time (default: now)')
    alerts.add_argument("--post", help="send every alert to this one webhook URL instead of the configured robots")
    alerts.set_defaults(run=_alerts)

    report = with_location(commands.add_parser("report", help="the day's headline figures"))
    report.add_argument("--day", help="YYYY-MM-DD (default: newest export day)")
    report.add_argument("--at", help='"YYYY-MM-DD HH:MM" for staff figures (default: 12:00 on --day)')
    report.add_argument("--format", choices=["json", "md"], default="json")
    report.add_argument("--lang", choices=LANGS, default=DEFAULT_LANG, help="language of the Markdown briefing")
    report.add_argument("--area", help="a street or community code (default: the whole district)")
    report.set_defaults(run=_report)

    brief = with_location(commands.add_parser("briefing", help="write the day's briefing (Markdown, HTML) and post it"))
    brief.add_argument("--day", help="YYYY-MM-DD (default: newest export day)")
    brief.add_argument("--at", help='"YYYY-MM-DD HH:MM" for staff figures (default: 12:00 on --day)')
    brief.add_argument("--lang", choices=LANGS, default=DEFAULT_LANG)
    which = brief.add_mutually_exclusive_group()
    which.add_argument("--area", help="a street or community code (default: the whole district); posted to its"
                       " robot in [briefing.webhooks], else the district's")
    which.add_argument("--all-areas", action="store_true",
                       help="the district's briefing and one for every area with a robot in [briefing.webhooks]"
                            " (areas without one are not written), each posted to its own robot; exit 1 if any"
                            " failed. Not with --post")
    brief.add_argument("--out", required=True, help="folder for the Markdown and HTML files")
    brief.add_argument("--post", help="webhook URL of a group robot (default: the area's robot in the secrets,"
                       " see --area; the district's is [briefing.webhooks] district, else [briefing] webhook_url)")
    brief.set_defaults(run=_briefing)

    generate = commands.add_parser("generate", help="write a deterministic demo data directory")
    generate.add_argument("--scale", choices=["district", "city"], default="district")
    generate.add_argument("--days", type=int, default=14)
    generate.add_argument("--end-date", help="YYYY-MM-DD (default: today)")
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--layout", choices=["field", "contract"], default="field",
                          help="field: files as the field sends them (any name, per sender, workbooks);"
                               " contract: one canonical file per kind and day")
    generate.add_argument("--out", required=True)
    generate.set_defaults(run=_generate)

    serve = commands.add_parser("serve", help="run the dashboard server (refuses an open address without users)")
    serve.add_argument("--address", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8501)
    serve.set_defaults(run=_serve)

    hashing = commands.add_parser("hash-password", help="print a bcrypt hash for a users entry")
    hashing.set_defaults(run=_hash_password)

    screen = with_location(commands.add_parser(
        "screen-token", help="a wall screen's standing login (role screen): issue, --revoke or --list"))
    chosen = screen.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--name", help="the screen's name; prints the path to open on it, as the last line")
    chosen.add_argument("--revoke", metavar="NAME", help="end that screen's token")
    chosen.add_argument("--list", action="store_true", help="the screens with a token, and until when")
    screen.add_argument("--days", type=int, default=365, help="how long a new token is valid (default 365)")
    screen.add_argument("--area", help="a street's or community's code: the screen shows that area only"
                                       " (default: the whole district)")
    screen.set_defaults(run=_screen_token)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
