"""The one table of pages: app.py turns each entry into an st.Page, auth decides from it which
roles may open a page, kiosk screens rotate through the pages marked for it, and the tests run
every one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# One file per page, in dashboard/app_pages/.
PAGES_DIR = Path(__file__).resolve().parents[1] / "app_pages"


@dataclass(frozen=True)
class PageSpec:
    file: str
    url_path: str
    title_key: str
    icon: str
    roles: frozenset[str]
    # In a wall screen's rotation unless DASHBOARD_KIOSK_PAGES says otherwise.
    rotates: bool = True
    default: bool = False

    @property
    def path(self) -> Path:
        return PAGES_DIR / self.file


EVERYONE = frozenset({"screen", "leader", "admin"})
# Wall screens see aggregates only: the overview.
PEOPLE = frozenset({"leader", "admin"})

PAGES = (
    PageSpec("overview.py", "overview", "page.overview", ":material/dashboard:", EVERYONE, default=True),
    PageSpec("zones.py", "zones", "page.zones", ":material/fence:", PEOPLE),
    PageSpec("testing.py", "testing", "page.testing", ":material/biotech:", PEOPLE),
    PageSpec("isolation.py", "isolation", "page.isolation", ":material/hotel:", PEOPLE),
    PageSpec("staff.py", "staff", "page.staff", ":material/badge:", PEOPLE),
    PageSpec("health.py", "health", "page.health", ":material/monitor_heart:", PEOPLE, rotates=False),
)
