"""The router's page list: app.py turns each entry into an st.Page, and the tests run every one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


@dataclass(frozen=True)
class PageSpec:
    file: str
    url_path: str
    title_key: str
    icon: str
    default: bool = False

    @property
    def path(self) -> Path:
        return HERE / self.file


PAGES = (
    PageSpec("overview.py", "overview", "page.overview", ":material/dashboard:", default=True),
    PageSpec("zones.py", "zones", "page.zones", ":material/fence:"),
    PageSpec("testing.py", "testing", "page.testing", ":material/biotech:"),
    PageSpec("isolation.py", "isolation", "page.isolation", ":material/hotel:"),
    PageSpec("staff.py", "staff", "page.staff", ":material/badge:"),
    PageSpec("health.py", "health", "page.health", ":material/monitor_heart:"),
)
