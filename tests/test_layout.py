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


def imports_of(path: Path) -> set[str]:
    """Every dashboard module a file imports, at any depth of the file, except for type checkers only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    tree.body = [node for node in tree.body
                 if not (isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING")]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dashboard"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("dashboard"))
    known = {module_name(p) for p in MODULES}
    return {name for name in found if name in known}


def test_modules_stay_small():
    long = {str(p.relative_to(REPO)): n for p in MODULES if p not in LONG_BY_NATURE
            and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


@pytest.mark.parametrize(("layer", "must_not_import"), [
    ("dashboard.data", ("dashboard.web", "dashboard.app_pages", "dashboard.demo", "streamlit")),
    ("dashboard.web.builders", ("dashboard.web.ui", "dashboard.web.access", "duckdb", "streamlit")),
    ("dashboard.demo", ("dashboard.web", "dashboard.app_pages", "streamlit")),
])
def test_dependencies_flow_one_way(layer, must_not_import):
    """Data never knows about pages; builders never run SQL or draw; the demo is build-time only.

    The ingest may generate the demo on first run, so data -> demo is allowed only there,
    inside the function that needs it.
    """
    offenders = []
    for path in MODULES:
        if not module_name(path).startswith(layer):
            continue
        text = path.read_text(encoding="utf-8")
        top_level = {node for node in ast.parse(text).body if isinstance(node, ast.Import | ast.ImportFrom)}
        for node in top_level:
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            offenders += [(module_name(path), name) for name in names
                          if any(name == banned or name.startswith(banned + ".") for banned in must_not_import)]
    assert offenders == []


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


def test_every_setting_is_documented():
    """Each DASHBOARD_* variable the code reads appears in the README (Datasette's test_docs)."""
    settings = (PACKAGE / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r"\"(DASHBOARD_[A-Z0-9_]+)\"", settings))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert read and {name for name in read if name not in readme} == set()


@pytest.mark.parametrize("mart", sorted((PACKAGE / "data" / "marts").glob("*.sql")), ids=lambda p: p.stem)
def test_each_mart_opens_with_its_grain(mart):
    first, *rest = mart.read_text(encoding="utf-8").splitlines()
    assert first.startswith("-- One row per ")
    table = re.match(r"\d\d_(\w+)$", mart.stem).group(1)
    assert f"create or replace table {table} as" in rest
