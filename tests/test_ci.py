"""What CI runs: the linter before the tests, and every test marker, the slow ones included."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def ci_commands() -> list[str]:
    lines = (REPO / ".ci" / "run").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_ci_lints_before_it_tests():
    commands = ci_commands()
    lint = next(i for i, line in enumerate(commands) if "ruff check ." in line)
    tests = next(i for i, line in enumerate(commands) if "python -m pytest" in line)
    assert lint < tests


def test_ci_deselects_no_marker():
    pytest_line = next(line for line in ci_commands() if "python -m pytest" in line)
    options = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    pytest_options = pytest_line.split("python -m pytest", 1)[1].split()
    assert "-m" not in pytest_options and "-m" not in options.get("addopts", "").split()
    assert any(marker.startswith("slow:") for marker in options["markers"])


def test_ci_installs_what_the_tests_need_from_apt():
    commands = "\n".join(ci_commands())
    for package in ("chromium", "fonts-noto-cjk", "nginx"):
        assert f" {package}" in commands.split("apt-get install", 1)[1].split("\n", 1)[0], package
    assert "command -v nginx" in commands


def test_ci_installs_the_axe_core_the_accessibility_test_reads():
    from tests.browser.axe import AXE, AXE_VERSION

    commands = "\n".join(ci_commands())
    assert f"axe-core@{AXE_VERSION}" in commands
    prefix = commands.split("--prefix", 1)[1].split()[0]
    assert REPO / prefix / "node_modules" / "axe-core" / "axe.min.js" == AXE
