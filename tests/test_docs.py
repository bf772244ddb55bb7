"""The docs a user reads must match the code: the contract, the settings, the links, the README's two commands."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from dashboard.ingest.contract import KINDS

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("kind", KINDS.values(), ids=lambda k: k.kind)
def test_data_readme_documents_every_column(kind):
    text = (REPO / "data" / "README.md").read_text(encoding="utf-8")
    assert f"{kind.filename}`" in text
    for column in kind.columns:
        assert f"| `{column.name}` | {column.zh} |" in text, f"{kind.kind}.{column.name}"
        for value, word in column.values.items():
            assert f"`{value}` {word}" in text


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text()
    command = re.search(r"```(?:bash|sh)?\n# run the tests\n(.+?)\n```", readme, re.S).group(1).strip()
    assert command in ci


def test_test_extras_install_what_the_tests_import():
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    assert any(e.startswith("pytest") for e in extras) and any(e.startswith("playwright") for e in extras)


# ---------------------------------------------------------------- settings, links, length (Datasette's test_docs)

SETTINGS_DOC = REPO / "docs" / "settings.md"
# Every Markdown file a reader follows from the README.
DOCS = sorted([REPO / "README.md", REPO / "data" / "README.md", *(REPO / "docs").glob("*.md")])
README_MAX_LINES = 150


def settings_read_by_the_code() -> set[str]:
    settings = (REPO / "dashboard" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r"\"(DASHBOARD_[A-Z0-9_]+)\"", settings))


def test_every_setting_is_documented_once_in_the_settings_doc():
    read = settings_read_by_the_code()
    rows = re.findall(r"^\| `(DASHBOARD_[A-Z0-9_]+)` \|", SETTINGS_DOC.read_text(encoding="utf-8"), re.M)
    assert read, "no DASHBOARD_* name found in settings.py"
    assert sorted(read - set(rows)) == [], "read by dashboard/settings.py but not a row of docs/settings.md"
    assert sorted({name for name in rows if rows.count(name) > 1}) == [], "documented more than once"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_the_docs_name_no_setting_the_code_does_not_read(doc):
    named = set(re.findall(r"DASHBOARD_[A-Z0-9_]+", doc.read_text(encoding="utf-8")))
    assert sorted(named - settings_read_by_the_code()) == []


def github_anchor(heading: str) -> str:
    """GitHub's slug of a heading: lower-case, punctuation dropped (but `-` and `_`), spaces to `-`;
    letters of any script, Chinese included, stay."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors_of(doc: Path) -> set[str]:
    """Every heading's anchor, outside fenced code; a repeated heading gets -1, -2 ... as on GitHub."""
    seen: dict[str, int] = {}
    anchors = set()
    in_fence = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and (heading := re.match(r"#{1,6} (.+)", line)):
            slug = github_anchor(heading.group(1))
            anchors.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
            seen[slug] = seen.get(slug, 0) + 1
    return anchors


def relative_links(doc: Path) -> list[str]:
    """Markdown links and images, and <img src>, that point inside the repository."""
    text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.S)
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r"<img [^>]*src=\"([^\"]+)\"", text)
    return [target for target in targets if not re.match(r"[a-z]+:", target)]


def test_the_anchor_rules_match_githubs():
    assert github_anchor("Set up a wall screen") == "set-up-a-wall-screen"
    assert github_anchor("Wall screens (大屏)") == "wall-screens-大屏"
    assert github_anchor("The briefing, sent") == "the-briefing-sent"
    assert github_anchor("`dashboard/ingest/`: exports to snapshot") == "dashboardingest-exports-to-snapshot"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(doc):
    broken = []
    for target in relative_links(doc):
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (file.suffix != ".md" or anchor not in anchors_of(file)):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(REPO)}")
    assert broken == []


def test_the_readme_links_every_doc():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    linked = {(REPO / target.partition("#")[0]).resolve() for target in relative_links(REPO / "README.md")}
    assert "docs/overview.png" in readme
    assert sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md") if p.resolve() not in linked) == []


def test_the_readme_fits_on_a_screen():
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES


def test_every_test_the_security_doc_names_exists():
    text = (REPO / "docs" / "security.md").read_text(encoding="utf-8")
    named = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", text)
    assert named, "security.md names no test"
    missing = [f"{file}::{name}" for file, name in named
               if not (REPO / file).is_file()
               or not re.search(rf"^def {name}\(", (REPO / file).read_text(encoding="utf-8"), re.M)]
    assert missing == []
