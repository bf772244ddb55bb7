"""A swapped-in snapshot drops the cached results and shared builds of the one it replaced (found by bench.soak)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dashboard.web import cache


@dataclass
class FakeSnapshot:
    path: Path
    current: str

    def version(self) -> str:
        return self.current


@dataclass
class FakeBuilds:
    cleared: list
    name: str

    def clear(self) -> None:
        self.cleared.append(self.name)


def test_results_of_a_replaced_version_are_dropped(monkeypatch, tmp_path):
    cleared = []
    monkeypatch.setattr(cache, "_cached_for", {})
    monkeypatch.setattr(cache, "query_results", lambda: FakeBuilds(cleared, "queries"))
    monkeypatch.setattr(cache, "shared_builds", lambda: FakeBuilds(cleared, "builds"))
    snap = FakeSnapshot(tmp_path / "a.duckdb", "v1")
    other = FakeSnapshot(tmp_path / "b.duckdb", "w1")

    assert cache._forget_replaced_versions(snap) == "v1"
    assert cache._forget_replaced_versions(snap) == "v1"
    assert cache._forget_replaced_versions(other) == "w1"  # another file is no replacement
    assert cleared == []
    snap.current = "v2"
    assert cache._forget_replaced_versions(snap) == "v2"
    assert cleared == ["queries", "builds"]
    assert cache._forget_replaced_versions(snap) == "v2"
    assert cleared == ["queries", "builds"]
