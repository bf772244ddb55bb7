"""The package shows its architecture: data flows one way, modules stay small, each fact once.

Read from the files on disk, so a new module or mart is checked the day it exists.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "dashboard"
MODULES = sorted(PACKAGE.rglob("*.py"))
# The message catalog is long by nature: one line per visible phrase.
LONG_BY_NATURE = {PACKAGE / "i18n.py"}
MAX_LINES = 425


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def named_imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (function-level imports too), except
    for type checkers only: `from a.b import c` names a.b and a.b.c."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    tree.body = [node for node in tree.body
                 if not (isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING")]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def imports_of(path: Path) -> set[str]:
    """Every dashboard module a file imports."""
    known = {module_name(p) for p in MODULES}
    return {name for name in named_imports(path) if name in known}


def _within(name: str, layer: str) -> bool:
    return name == layer or name.startswith(layer + ".")


def test_modules_stay_small():
    long = {str(p.relative_to(REPO)): n for p in MODULES if p not in LONG_BY_NATURE
            and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


# The wings, bottom up: codes and settings, i18n, ingest, figures, briefing, web, app_pages; then
# first_run, app and the command line, which may import any of them. What each must never import:
WINGS = [
    ("dashboard.codes", ("dashboard",)),
    ("dashboard.settings", ("dashboard",)),
    ("dashboard.i18n", ("dashboard.ingest", "dashboard.figures", "dashboard.briefing", "dashboard.web",
                        "dashboard.app_pages", "dashboard.demo", "dashboard.first_run", "streamlit")),
    ("dashboard.ingest", ("dashboard.figures", "dashboard.briefing", "dashboard.web", "dashboard.app_pages",
                          "dashboard.demo", "dashboard.first_run", "streamlit")),
    ("dashboard.figures", ("dashboard.briefing", "dashboard.web", "dashboard.app_pages", "dashboard.demo",
                           "dashboard.first_run", "dashboard.ingest.build", "streamlit")),
    ("dashboard.briefing", ("dashboard.web", "dashboard.app_pages", "dashboard.demo", "dashboard.first_run",
                            "dashboard.ingest.build", "streamlit", "duckdb")),
    # The web never starts an ingest (first_run does, for the demo) and opens no DuckDB file itself.
    ("dashboard.web", ("dashboard.app_pages", "dashboard.demo", "dashboard.first_run", "dashboard.ingest.build",
                       "dashboard.app", "duckdb")),
    # Builders are pure: DataFrames in, figures out; no SQL, no drawing, no session.
    ("dashboard.web.builders", ("dashboard.web.access", "dashboard.web.auth", "dashboard.web.cache",
                                "dashboard.web.state", "dashboard.web.page_header", "dashboard.web.kpi_strip",
                                "dashboard.web.table_view", "dashboard.web.figure_view", "dashboard.web.map_view",
                                "dashboard.web.area_outlines", "dashboard.web.wall_fit", "dashboard.web.device",
                                "dashboard.figures.queries", "duckdb", "streamlit")),
    ("dashboard.app_pages", ("dashboard.demo", "dashboard.first_run", "dashboard.ingest.build",
                             "dashboard.figures.queries", "duckdb")),
    ("dashboard.demo", ("dashboard.figures", "dashboard.briefing", "dashboard.web", "dashboard.app_pages",
                        "dashboard.first_run", "streamlit")),
]


@pytest.mark.parametrize(("layer", "must_not_import"), WINGS, ids=[layer for layer, _ in WINGS])
def test_every_import_points_down(layer, must_not_import):
    """Data flows one way (STYLE.md): checked on every import of a file, function-level ones too."""
    modules = [p for p in MODULES if _within(module_name(p), layer)]
    assert modules, f"no module in {layer}"
    offenders = sorted((module_name(path), name) for path in modules for name in named_imports(path)
                       if any(_within(name, banned) for banned in must_not_import) and not _within(name, layer))
    assert offenders == []


def test_only_first_run_and_the_command_line_import_the_demo():
    allowed = {"dashboard.first_run", "dashboard.__main__"}
    importers = sorted(module_name(p) for p in MODULES
                       if not _within(module_name(p), "dashboard.demo") and module_name(p) not in allowed
                       and any(_within(name, "dashboard.demo") for name in named_imports(p)))
    assert importers == []


def test_no_import_cycles():
    graph = {module_name(p): imports_of(p) for p in MODULES}

    def visit(node: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
        for target in graph.get(node, ()):
            if target == path[0]:
                return path + (target,)
            if target not in path and (cycle := visit(target, path + (target,))):
                return cycle
        return None

    cycles = [cycle for start in graph if (cycle := visit(start, (start,)))]
    assert cycles == []


def test_only_the_settings_module_reads_the_environment():
    readers = [str(p.relative_to(REPO)) for p in MODULES
               if re.search(r"os\.environ|os\.getenv|st\.secrets", p.read_text(encoding="utf-8"))]
    assert readers == ["dashboard/settings.py"]


@pytest.mark.parametrize("mart", sorted((PACKAGE / "ingest" / "marts").glob("*.sql")), ids=lambda p: p.stem)
def test_each_mart_opens_with_its_grain(mart):
    first, *rest = mart.read_text(encoding="utf-8").splitlines()
    assert first.startswith("-- One row per ")
    table = re.match(r"\d\d_(\w+)$", mart.stem).group(1)
    assert f"create or replace table {table} as" in rest


SQL_AND_RULES = sorted([*(REPO / "queries").rglob("*.sql"), *PACKAGE.rglob("*.sql"), *PACKAGE.rglob("*.py")])


@pytest.mark.parametrize(("rule", "pattern"), [
    ("the 14-day window", r"interval 13 day"),
    ("in force on a day", r"started_on <= (\S+)\s+and \(\S*(?:lifted|ended)_on is null or \S*(?:lifted|ended)_on > \1\)"),
])
def test_each_rule_is_written_once(rule, pattern):
    """The trend window and the in-force rule are macros of schema.sql; everything else calls them."""
    writers = [str(p.relative_to(REPO)) for p in SQL_AND_RULES if re.search(pattern, p.read_text(encoding="utf-8"))]
    assert writers == ["dashboard/ingest/schema.sql"], rule
