"""The docs a user reads must match the code: the contract, and the README's two commands."""

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
