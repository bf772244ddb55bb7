"""bench.load's two ways of opening the link, against a real server: the default session (three
steps) and --like-browser's (Chromium's headers, the overview only). Timings are not checked here;
that each session does the work it claims is."""

from __future__ import annotations

import asyncio
import concurrent.futures

from bench.load import one_session


def session(url: str, like_browser: bool):
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:  # away from any Playwright loop
        return pool.submit(asyncio.run, one_session(url, "testing", 120, like_browser=like_browser)).result(300)


def test_a_browser_like_session_reads_the_same_overview_and_nothing_else(server):
    plain, browser = session(server.url, False), session(server.url, True)
    assert plain.error is None and browser.error is None, (plain.error, browser.error)
    assert set(plain.steps) == {"overview", "testing", "day"}
    assert set(browser.steps) == {"overview"}
    # Chromium's User-Agent has no "Mobi": the desk's overview, element for element.
    assert browser.overview_deltas == plain.overview_deltas > 20
    assert browser.exceptions == plain.exceptions == []
