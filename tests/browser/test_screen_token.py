"""A wall screen with a token, in a real browser: open it, reload, restart the server under it,
revoke the token. The token comes from the real command, and the restarted server is a new
process that knows only the state directory, as another replica would.
"""

from __future__ import annotations

import re
import subprocess
import sys

import bcrypt
from playwright.sync_api import expect

from tests.browser.support import (
    REPO,
    TITLES,
    USER_LABEL,
    ingest_fixture,
    start_server,
    wait_for_app,
)

# The bound: a screen left alone is back with data within 30 s of the server answering.
BACK_WITHIN_MS = 30_000
METRIC = '[data-testid="stMetric"]'


def screen_token(state_dir, *args: str) -> subprocess.CompletedProcess:
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(state_dir.parent), "DASHBOARD_STATE_DIR": str(state_dir),
                   "DASHBOARD_SECRETS": str(state_dir.parent / "no-secrets.toml")}
    done = subprocess.run([sys.executable, "-m", "dashboard", "screen-token", *args], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def test_a_token_survives_reload_and_restart_and_ends_when_revoked(tmp_path, new_page):
    settings = ingest_fixture(tmp_path)
    state_dir = tmp_path / "state"
    users = tmp_path / "users.toml"
    users.write_text('[auth.users.zhang]\nrole = "leader"\n'
                     f'password_hash = "{bcrypt.hashpw(b"zhang-pw", bcrypt.gensalt(4)).decode()}"\n')
    env = {"DASHBOARD_USERS_FILE": str(users), "DASHBOARD_STATE_DIR": str(state_dir)}
    path = screen_token(state_dir, "--name", "大厅主屏").stdout.splitlines()[-1]
    assert re.fullmatch(r"/\?kiosk=1&token=[A-Za-z0-9_.-]+", path)

    server = start_server(settings.data_dir, settings.db_path, tmp_path, **env)
    try:
        page = new_page()
        page.goto(server.url + path)
        wait_for_app(page, TITLES["overview"][0])
        expect(page.locator(METRIC).first).to_be_visible()
        expect(page.get_by_label(USER_LABEL)).to_have_count(0)

        page.reload()
        wait_for_app(page, TITLES["overview"][0])
        expect(page.locator(METRIC).first).to_be_visible()
        expect(page.get_by_label(USER_LABEL)).to_have_count(0)
        assert "token=" in page.url

        # Restart under the open page, on the same port; the page is left alone.
        port = int(server.url.rsplit(":", 1)[1])
        server.stop()
        page.wait_for_timeout(3000)  # long enough for the page to notice that the server is gone
        server = start_server(settings.data_dir, settings.db_path, tmp_path, port=port, **env)
        page.locator("h1", has_text=TITLES["overview"][0]).first.wait_for(timeout=BACK_WITHIN_MS)
        expect(page.locator(METRIC).first).to_be_visible(timeout=BACK_WITHIN_MS)
        expect(page.get_by_label(USER_LABEL)).to_have_count(0)
        # No connection-error dialog left over the data.
        expect(page.get_by_text(re.compile("Connection error|Is Streamlit still running", re.I))).to_have_count(0)
        expect(page.locator('[role="dialog"]')).to_have_count(0)

        screen_token(state_dir, "--revoke", "大厅主屏")
        page.reload()
        expect(page.get_by_label(USER_LABEL)).to_be_visible()
        expect(page.locator(METRIC)).to_have_count(0)
        expect(page.locator('[data-testid="stDeckGlJsonChart"]')).to_have_count(0)
    finally:
        server.stop()
