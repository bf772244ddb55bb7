"""Settings live here and only here.

Values come from the environment, then `.streamlit/secrets.toml` for secrets, then defaults
that run the bundled demo. Nothing else in the code reads os.environ.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
import tempfile
import tomllib
from dataclasses import dataclass, field
from datetime import time as time_of_day
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUERIES_DIR = REPO / "queries"
REFERENCE_DIR = REPO / "data" / "reference"
DEMO_DATA = REPO / "data" / "demo"
DEMO_DB = REPO / "data" / "demo.duckdb"
SECRETS_FILE = REPO / ".streamlit" / "secrets.toml"
STATE_FOLDER_NAME = "erqi-dashboard"
ID_KEY_FILE_NAME = "id_key"
# 32 hex characters are 128 bits: short enough to type, long enough that the key itself cannot
# be guessed (the ID numbers behind a known key can be, so the key is what must stay secret).
MIN_ID_KEY_CHARS = 32
# The value .streamlit/secrets.example.toml ships with: copying the example must not look like a key.
PLACEHOLDER_ID_KEYS = ("replace-with-64-random-hex-characters",)
ID_KEY_FROM_ENV = "DASHBOARD_ID_KEY"
ID_KEY_FROM_SECRETS = "[ids] hmac_key in the secrets file"
MAKE_A_KEY = "python -c 'import secrets; print(secrets.token_hex(32))'"
SCREEN_TOKEN_SECRET_FILE_NAME = "screen_token_secret"
SCREEN_TOKENS_FILE_NAME = "screen_tokens.json"
SCREEN_SECRET_FROM_SECRETS = "[screens] token_secret in the secrets file"
# The key of `[briefing.webhooks]` that names the whole district's robot.
WHOLE_DISTRICT = "district"


class IdKeyRefused(ValueError):
    """The configured or stored ID key is unusable; the message says why and never shows the key."""


def secrets_file() -> Path:
    """`.streamlit/secrets.toml`, or the file DASHBOARD_SECRETS names (tests, or a secrets file
    kept outside the checkout)."""
    return Path(os.environ.get("DASHBOARD_SECRETS", SECRETS_FILE))


def users_file() -> Path | None:
    """A TOML file of users kept outside the repo, when DASHBOARD_USERS_FILE names one."""
    named = os.environ.get("DASHBOARD_USERS_FILE")
    return Path(named) if named else None


def kiosk_pages() -> tuple[str, ...] | None:
    """The pages a wall screen rotates through, when DASHBOARD_KIOSK_PAGES lists them."""
    configured = os.environ.get("DASHBOARD_KIOSK_PAGES")
    return tuple(p.strip() for p in configured.split(",") if p.strip()) if configured else None


def briefing_webhook() -> str | None:
    """The whole district's group robot for `python -m dashboard briefing`: a secret (its URL carries
    the robot's key), so it lives only in the secrets file. `[briefing.webhooks] district` wins over
    the older `[briefing] webhook_url` when both are set."""
    return briefing_webhooks().get(WHOLE_DISTRICT)


def briefing_webhooks() -> dict[str, str]:
    """Each area's group robot, by area code (a street, a community, or "district"), from
    `[briefing.webhooks]` in the secrets file, with `[briefing] webhook_url` as the district's
    when that table names none. Codes are not checked here: only a snapshot knows its areas."""
    section = _secrets().get("briefing", {})
    if not isinstance(section, dict):
        return {}
    table = section.get("webhooks", {})
    webhooks = {str(code): str(url) for code, url in table.items() if url} if isinstance(table, dict) else {}
    if WHOLE_DISTRICT not in webhooks and section.get("webhook_url"):
        webhooks[WHOLE_DISTRICT] = str(section["webhook_url"])
    return webhooks


# Alerts (issue 20): most urgent first, as alerts/alert.py SEVERITIES.
ALERT_SEVERITIES = ("critical", "high", "low")
ON_DUTY = "on_duty"  # the destination name of the district's on-duty group


@dataclass(frozen=True)
class Mute:
    """Alerts of these severities are not sent between start and end (a window may cross midnight)."""

    severities: frozenset[str]
    start: time_of_day
    end: time_of_day

    def covers(self, severity: str, moment) -> bool:
        if severity not in self.severities:
            return False
        now = moment.time()
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end


@dataclass(frozen=True)
class AlertDelivery:
    renotify_hours: float
    on_duty_min: str
    interval_seconds: float
    mutes: tuple[Mute, ...]


DEFAULT_MUTES = (Mute(frozenset({"low"}), time_of_day(23), time_of_day(7)),)


def alert_delivery() -> AlertDelivery:
    """How alerts are sent: re-notify interval, which severities the on-duty group gets, how often
    the clock's evaluation runs, and the mute timings (`[alerts] mute` in the secrets file: a list
    of {severities, from, to}; low is muted 23:00-07:00 when none is given, `mute = []` mutes nothing)."""
    on_duty_min = os.environ.get("DASHBOARD_ALERT_ON_DUTY_MIN", "high")
    if on_duty_min not in ALERT_SEVERITIES:
        raise ValueError(f"DASHBOARD_ALERT_ON_DUTY_MIN must be one of {', '.join(ALERT_SEVERITIES)}, not {on_duty_min!r}")
    section = _secrets().get("alerts", {})
    configured = section.get("mute") if isinstance(section, dict) else None
    mutes = DEFAULT_MUTES if configured is None else tuple(_mute(entry) for entry in configured)
    return AlertDelivery(renotify_hours=_float("DASHBOARD_ALERT_RENOTIFY_H", 2), on_duty_min=on_duty_min,
                         interval_seconds=_float("DASHBOARD_ALERT_INTERVAL_S", 60), mutes=mutes)


def _mute(entry) -> Mute:
    try:
        severities = frozenset(entry["severities"])
        start, end = (time_of_day.fromisoformat(entry[name]) for name in ("from", "to"))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"[alerts] mute in the secrets file: each entry needs severities, from and to"
                         f" (e.g. {{severities = [\"low\"], from = \"23:00\", to = \"07:00\"}}): {error}") from None
    if not severities <= set(ALERT_SEVERITIES):
        raise ValueError(f"[alerts] mute: severities must be among {', '.join(ALERT_SEVERITIES)}")
    return Mute(severities, start, end)


def alert_webhooks() -> dict[str, str]:
    """The robots alerts go to: every area's (and the district's) of `[briefing.webhooks]`, plus the
    on-duty group's, `[alerts] on_duty_webhook`. Secrets: their URLs carry the robots' keys."""
    webhooks = briefing_webhooks()
    section = _secrets().get("alerts", {})
    if isinstance(section, dict) and section.get("on_duty_webhook"):
        webhooks[ON_DUTY] = str(section["on_duty_webhook"])
    return webhooks


def read_toml(path: Path) -> dict:
    """A TOML file, parsed once per version of the file in this process: the ID key and the users
    both live in the secrets file. Raises what reading and parsing raise."""
    stat = path.stat()
    return _parsed_toml(str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _parsed_toml(path: str, inode: int, mtime_ns: int, size: int) -> dict:
    return tomllib.loads(Path(path).read_bytes().decode("utf-8"))


def bench_query_log() -> str | None:
    """Benchmarks only (bench/load.py, bench/soak.py): when DASHBOARD_BENCH_QUERY_LOG names a
    file, every query that reaches DuckDB appends "name<TAB>params" to it, so a load run can count
    executions against cache hits. Unset in production."""
    return os.environ.get("DASHBOARD_BENCH_QUERY_LOG") or None


def _secrets() -> dict:
    path = secrets_file()
    return read_toml(path) if path.is_file() else {}


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def state_dir_from_env() -> Path:
    """Where this machine keeps the ID key and default snapshots: never inside a data directory,
    so a copied data folder holds neither. DASHBOARD_STATE_DIR, else the XDG state directory."""
    configured = os.environ.get("DASHBOARD_STATE_DIR")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_STATE_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    return base / STATE_FOLDER_NAME


def default_snapshot_path(state_dir: Path, data_dir: Path) -> Path:
    """One snapshot per data directory, named after it; the same folder reached by another
    relative path gets the same file, so the ingest and the server agree."""
    resolved = Path(data_dir).resolve()
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", resolved.name).strip("-") or "data"
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    return state_dir / "snapshots" / f"{readable}-{digest}.duckdb"


def checked_id_key(key: str, source: str) -> bytes:
    """The key as bytes, or IdKeyRefused; the key is used exactly as given, so that an existing
    deployment's pseudonyms do not change."""
    bare = key.strip()
    if not bare:
        raise IdKeyRefused(f"the ID key from {source} is empty; make one with {MAKE_A_KEY}")
    if bare in PLACEHOLDER_ID_KEYS or bare.lower().startswith("replace-with"):
        raise IdKeyRefused(f"the ID key from {source} is the placeholder from secrets.example.toml;"
                           f" make a real one with {MAKE_A_KEY}")
    if len(bare) < MIN_ID_KEY_CHARS:
        raise IdKeyRefused(f"the ID key from {source} is too short ({len(bare)} characters, at least"
                           f" {MIN_ID_KEY_CHARS}); make one with {MAKE_A_KEY}")
    return key.encode()


def _read_no_follow(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, encoding="utf-8") as f:
        return f.read()


def _publish_new_key(key_file: Path, key: str) -> None:
    """Write the key whole under a private name, then link it into place: a second process
    starting at the same moment reads one complete key or the other's, never half of one,
    and a link planted at key_file is never written through."""
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(prefix=f".{key_file.name}.", dir=key_file.parent)  # 0600, O_EXCL
    try:
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temporary, key_file)
        except FileExistsError:
            pass  # another process made one first: use that
    finally:
        os.unlink(temporary)


def _stored_key(path: Path, what: str, source: str) -> bytes:
    """A generated key read back from its file, never through a link, and checked like any key."""
    try:
        stored = _read_no_follow(path)
    except OSError as error:
        raise IdKeyRefused(f"cannot read {what} {path}: {error.strerror} (a symbolic link is not followed)") from None
    return checked_id_key(stored.strip(), source)


@dataclass(frozen=True)
class Thresholds:
    """What the 'needs attention' list and staleness banners flag."""

    coverage_target: float = field(default_factory=lambda: _float("DASHBOARD_COVERAGE_TARGET", 0.95))
    lift_review_days: int = field(default_factory=lambda: int(_float("DASHBOARD_LIFT_REVIEW_DAYS", 14)))
    hotel_full: float = field(default_factory=lambda: _float("DASHBOARD_HOTEL_FULL", 0.90))
    understaffed_lookahead_hours: int = field(
        default_factory=lambda: int(_float("DASHBOARD_UNDERSTAFFED_LOOKAHEAD_H", 12)))
    fatigue_hours_24h: float = field(default_factory=lambda: _float("DASHBOARD_FATIGUE_24H", 12))
    fatigue_hours_7d: float = field(default_factory=lambda: _float("DASHBOARD_FATIGUE_7D", 60))
    fatigue_consecutive_days: int = field(default_factory=lambda: int(_float("DASHBOARD_FATIGUE_DAYS", 7)))
    stale_after_hours: float = field(default_factory=lambda: _float("DASHBOARD_STALE_AFTER_H", 26))
    # Alerts (issue 20) share the rules above and add their own thresholds.
    transfer_alert_hours: float = field(default_factory=lambda: _float("DASHBOARD_ALERT_TRANSFER_H", 12))
    # A sender with no due time of its own (reference/reporting.csv) counts as missing from this hour.
    sender_due_hour: float = field(default_factory=lambda: _float("DASHBOARD_ALERT_SENDER_DUE_HOUR", 12))
    # A day's samples or positives outside the range of the 7 days before, widened by this share.
    outlier_margin: float = field(default_factory=lambda: _float("DASHBOARD_ALERT_OUTLIER_MARGIN", 0.5))


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    db_path: Path
    # True when neither was configured: the bundled demo is generated on first use.
    is_demo: bool
    thresholds: Thresholds = field(default_factory=Thresholds)
    refresh_seconds: int = field(default_factory=lambda: int(_float("DASHBOARD_REFRESH_SECONDS", 60)))
    # A re-export with more than this share fewer rows (read or loaded) than the file serving its
    # day is held, not applied, until `python -m dashboard ingest --accept` (a cut-short copy).
    reexport_max_drop: float = field(default_factory=lambda: _float("DASHBOARD_REEXPORT_MAX_DROP", 0.20))
    state_dir: Path = field(default_factory=state_dir_from_env)
    # The upload page (issue 19): the largest file it takes, in MB (.streamlit/config.toml's
    # server.maxUploadSize must be the same), and who takes a confirmed upload in: "page" starts
    # `python -m dashboard ingest` at once; "watcher" leaves it to `ingest --watch`, which runs anyway.
    upload_max_mb: int = field(default_factory=lambda: int(_float("DASHBOARD_UPLOAD_MAX_MB", 200)))
    upload_ingest: str = field(default_factory=lambda: os.environ.get("DASHBOARD_UPLOAD_INGEST", "page"))

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None, db_path: str | Path | None = None) -> Settings:
        if data_dir is None and db_path is None:
            # Every query of every page run asks for the settings: made once per environment.
            return _settings_for(_environment(), DEMO_DATA, DEMO_DB)
        return cls._read(data_dir, db_path)

    @classmethod
    def _read(cls, data_dir: str | Path | None, db_path: str | Path | None) -> Settings:
        data = data_dir or os.environ.get("DASHBOARD_DATA")
        db = db_path or os.environ.get("DASHBOARD_DB")
        state_dir = state_dir_from_env()
        # A snapshot inside the data directory was copied along with the exports and, before the
        # watcher learnt to ignore it, made every ingest look like new data.
        default_db = default_snapshot_path(state_dir, Path(data)) if data else DEMO_DB
        return cls(
            data_dir=Path(data) if data else DEMO_DATA,
            db_path=Path(db) if db else default_db,
            is_demo=not data,
            state_dir=state_dir,
        )

    @property
    def may_start_first_ingest(self) -> bool:
        """Whether a web process finding no snapshot may build it: only for the bundled demo (a fresh
        clone's first run). Configured data is the ingest's alone, so that one process writes the
        snapshots and the key; a replica without a snapshot waits for it."""
        return self.is_demo and self.data_dir == DEMO_DATA

    @property
    def upload_log(self) -> Path:
        """Every upload and every refused file, one JSON line each, in the data directory: the one
        folder every replica shares for certain, since the uploads themselves go there (a replica's
        state directory may be its own). Outside reference/ and exports/, so the ingest never reads it."""
        return self.data_dir / "uploads" / "log.jsonl"

    @property
    def alerts_db(self) -> Path:
        """The alerts' state, beside the snapshot like its status file: the evaluating process
        (the ingest watcher, or `alerts --watch`) writes it, every replica's pages read it."""
        return self.db_path.with_name(self.db_path.name + ".alerts.sqlite")

    @property
    def id_key_file(self) -> Path:
        return self.state_dir / ID_KEY_FILE_NAME

    def id_key_source(self) -> str:
        """Where id_key() takes the key from, for messages; never the key itself."""
        if "DASHBOARD_ID_KEY" in os.environ:
            return ID_KEY_FROM_ENV
        if _secrets().get("ids", {}).get("hmac_key") is not None:
            return ID_KEY_FROM_SECRETS
        return str(self.id_key_file)

    @property
    def old_id_key_files(self) -> list[Path]:
        """Where earlier versions generated the key: beside the snapshot, which defaulted to the
        data directory. Such a file is adopted once, so an upgrade keeps every pseudonym."""
        places = dict.fromkeys([self.db_path.parent / ".id_key", self.data_dir / ".id_key"])
        return [path for path in places if path.is_file() and not path.is_symlink()]

    def _adoptable_old_key(self) -> str | None:
        for path in self.old_id_key_files:
            try:
                old_key = _read_no_follow(path).strip()
                checked_id_key(old_key, str(path))
            except (OSError, IdKeyRefused):
                continue
            return old_key
        return None

    def id_key(self) -> bytes:
        """The HMAC key that turns ID numbers into pseudonymous keys.

        DASHBOARD_ID_KEY, else `[ids] hmac_key` in the secrets, else a random key generated on
        first use into the state directory (0600), outside every data directory. An empty, short
        or placeholder key is refused: with a guessable key the ID numbers behind every
        pseudonym can be recovered by trying all birth dates and sequence numbers.
        """
        if "DASHBOARD_ID_KEY" in os.environ:
            return checked_id_key(os.environ["DASHBOARD_ID_KEY"], ID_KEY_FROM_ENV)
        configured = _secrets().get("ids", {}).get("hmac_key")
        if configured is not None:
            return checked_id_key(str(configured), ID_KEY_FROM_SECRETS)
        key_file = self.id_key_file
        if not key_file.exists() and not key_file.is_symlink():
            _publish_new_key(key_file, self._adoptable_old_key() or secrets.token_hex(32))
        return _stored_key(key_file, "the ID key file", f"the key file {key_file}")

    @property
    def screen_tokens_file(self) -> Path:
        """The registry of screen tokens, by screen name: hashes only, never a token."""
        return self.state_dir / SCREEN_TOKENS_FILE_NAME

    def screen_token_secret(self, create: bool = True) -> bytes | None:
        """The key that signs screen tokens: `[screens] token_secret` in the secrets file, else a
        random one generated on first use into the state directory (0600), like the ID key.
        With create=False (checking a token) a missing file means None: no token can be valid.

        Every replica serving the screens must see the same secret and the same registry: give
        them one state directory (DASHBOARD_STATE_DIR) or one secrets file.
        """
        configured = _secrets().get("screens", {}).get("token_secret")
        if configured is not None:
            return checked_id_key(str(configured), SCREEN_SECRET_FROM_SECRETS)
        secret_file = self.state_dir / SCREEN_TOKEN_SECRET_FILE_NAME
        if not secret_file.exists() and not secret_file.is_symlink():
            if not create:
                return None
            _publish_new_key(secret_file, secrets.token_hex(32))
        return _stored_key(secret_file, "the screen token secret", f"the screen token secret {secret_file}")


def _environment() -> tuple:
    """Everything Settings.from_env() reads from outside: the DASHBOARD_* variables, the state
    directory's fallbacks, and the working directory (a relative DASHBOARD_DATA)."""
    dashboard = tuple(sorted((name, value) for name, value in os.environ.items() if name.startswith("DASHBOARD_")))
    return dashboard, os.environ.get("XDG_STATE_HOME"), os.environ.get("HOME"), os.getcwd()


@functools.lru_cache(maxsize=16)
def _settings_for(environment: tuple, demo_data: Path, demo_db: Path) -> Settings:
    return Settings._read(None, None)
