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
    # The roles that land here rather than on the default page (a clerk opens on the upload page).
    home_of: frozenset[str] = frozenset()

    @property
    def path(self) -> Path:
        return PAGES_DIR / self.file

    def is_home(self, role: str, allowed: list[PageSpec]) -> bool:
        """Where this role lands: its own home page if one of its pages is, else the default page."""
        if any(role in spec.home_of for spec in allowed):
            return role in self.home_of
        return self.default


# Every role. A clerk (a street's data clerk) uploads the street's files and sees how they were
# taken in; no figures pages.
EVERYONE = frozenset({"screen", "leader", "admin", "clerk"})
# Wall screens see aggregates only: the overview.
VIEWERS = frozenset({"screen", "leader", "admin"})
PEOPLE = frozenset({"leader", "admin"})

PAGES = (
    PageSpec("overview.py", "overview", "page.overview", ":material/dashboard:", VIEWERS, default=True),
    PageSpec("zones.py", "zones", "page.zones", ":material/fence:", PEOPLE),
    PageSpec("testing.py", "testing", "page.testing", ":material/biotech:", PEOPLE),
    PageSpec("isolation.py", "isolation", "page.isolation", ":material/hotel:", PEOPLE),
    PageSpec("staff.py", "staff", "page.staff", ":material/badge:", PEOPLE),
    PageSpec("alerts.py", "alerts", "page.alerts", ":material/notifications_active:", PEOPLE, rotates=False),
    PageSpec("health.py", "health", "page.health", ":material/monitor_heart:", PEOPLE | {"clerk"},
             rotates=False),
    PageSpec("upload.py", "upload", "page.upload", ":material/upload_file:", frozenset({"clerk", "admin"}),
             rotates=False, home_of=frozenset({"clerk"})),
)
