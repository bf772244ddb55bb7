"""An operator's exported settings never reach the tests: every DASHBOARD_* variable is cleared
before the session's fixtures are built and again before each test (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.settings import Settings

REPO = Path(__file__).resolve().parents[1]
# What an operator's shell might hold: another data directory, a key, users, thresholds.
OPERATOR_SHELL = {
    "DASHBOARD_DATA": "/srv/erqi/data",
    "DASHBOARD_DB": "/srv/erqi/snapshot.duckdb",
    "DASHBOARD_ID_KEY": "operator-key-" + "7" * 40,
    "DASHBOARD_USERS_FILE": "/srv/erqi/users.toml",
    "DASHBOARD_STALE_AFTER_H": "1",
    "DASHBOARD_COVERAGE_TARGET": "0.5",
    "DASHBOARD_KIOSK_PAGES": "health",
    "DASHBOARD_SOMETHING_NEW": "1",
}


def dashboard_variables() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith("DASHBOARD_")}


@pytest.fixture(scope="session")
def environment_seen_by_session_fixtures() -> dict[str, str]:
    return dashboard_variables()


def test_session_fixtures_see_no_operator_setting(environment_seen_by_session_fixtures):
    assert set(environment_seen_by_session_fixtures) == {"DASHBOARD_SECRETS"}
    assert not Path(environment_seen_by_session_fixtures["DASHBOARD_SECRETS"]).exists()


def test_a_test_sees_no_operator_setting():
    assert set(dashboard_variables()) == {"DASHBOARD_SECRETS"}
    settings = Settings.from_env()
    # The defaults, as docs/settings.md states them.
    assert settings.thresholds.stale_after_hours == 26 and settings.thresholds.coverage_target == 0.95
    assert settings.is_demo


def test_a_test_can_still_set_its_own(monkeypatch):
    monkeypatch.setenv("DASHBOARD_STALE_AFTER_H", "3")
    assert Settings.from_env().thresholds.stale_after_hours == 3


def test_the_checks_above_hold_in_an_operators_shell(tmp_path):
    """Run the two checks in a pytest whose shell exports the operator's settings."""
    here = Path(__file__).relative_to(REPO)
    probes = [f"{here}::test_session_fixtures_see_no_operator_setting", f"{here}::test_a_test_sees_no_operator_setting"]
    env = {**os.environ, **OPERATOR_SHELL, "DASHBOARD_SECRETS": str(tmp_path / "operator-secrets.toml")}
    (tmp_path / "operator-secrets.toml").write_text('[ids]\nhmac_key = "from-the-operator-secrets-file"\n')
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *probes],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "2 passed" in run.stdout


def test_browser_servers_get_no_operator_setting(monkeypatch, tmp_path):
    from tests.browser.support import REFRESH_SECONDS, server_environment

    for name, value in OPERATOR_SHELL.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STREAMLIT_SERVER_ADDRESS", "0.0.0.0")
    env = server_environment(tmp_path / "data", tmp_path / "s.duckdb", tmp_path, DASHBOARD_USERS_FILE="/t/users.toml")
    assert {name: value for name, value in env.items() if name.startswith(("DASHBOARD_", "STREAMLIT_"))} == {
        "DASHBOARD_DATA": str(tmp_path / "data"),
        "DASHBOARD_DB": str(tmp_path / "s.duckdb"),
        "DASHBOARD_REFRESH_SECONDS": str(REFRESH_SECONDS),
        "DASHBOARD_SECRETS": str(tmp_path / "no-secrets.toml"),
        "DASHBOARD_USERS_FILE": "/t/users.toml",
    }
