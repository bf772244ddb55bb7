"""Settings live here and only here.

Values come from the environment, then `.streamlit/secrets.toml` for secrets, then defaults
that run the bundled demo. Nothing else in the code reads os.environ.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUERIES_DIR = REPO / "queries"
REFERENCE_DIR = REPO / "data" / "reference"
DEMO_DATA = REPO / "data" / "demo"
DEMO_DB = REPO / "data" / "demo.duckdb"
SECRETS_FILE = REPO / ".streamlit" / "secrets.toml"


def _secrets() -> dict:
    path = Path(os.environ.get("DASHBOARD_SECRETS", SECRETS_FILE))
    if not path.is_file():
        return {}
    with path.open("rb") as f:
        return tomllib.load(f)


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


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


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    db_path: Path
    # True when neither was configured: the bundled demo is generated on first use.
    is_demo: bool
    thresholds: Thresholds = field(default_factory=Thresholds)
    refresh_seconds: int = field(default_factory=lambda: int(_float("DASHBOARD_REFRESH_SECONDS", 60)))

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None, db_path: str | Path | None = None) -> Settings:
        data = data_dir or os.environ.get("DASHBOARD_DATA")
        db = db_path or os.environ.get("DASHBOARD_DB")
        return cls(
            data_dir=Path(data) if data else DEMO_DATA,
            db_path=Path(db) if db else (Path(data) / "snapshot.duckdb" if data else DEMO_DB),
            is_demo=not data,
        )

    def id_key(self) -> bytes:
        """The HMAC key that turns ID numbers into pseudonymous keys.

        It must never change for a snapshot, or the same person would get two keys; so a
        generated default is written once beside the snapshot and reused.
        """
        configured = os.environ.get("DASHBOARD_ID_KEY") or _secrets().get("ids", {}).get("hmac_key")
        if configured:
            return configured.encode()
        key_file = self.db_path.parent / ".id_key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        return key_file.read_text().strip().encode()
