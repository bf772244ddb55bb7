"""`python -m dashboard hash-password`: a hash that verifies, and a clear refusal past bcrypt's 72 bytes."""

from __future__ import annotations

import getpass

import bcrypt
import pytest

from dashboard.__main__ import main


@pytest.fixture
def typed(monkeypatch):
    """What the user types at both prompts."""
    def type_twice(password: str) -> None:
        monkeypatch.setattr(getpass, "getpass", lambda prompt="": password)
    return type_twice


@pytest.mark.parametrize("password", ["指" * 24, "a" * 72, "短"])
def test_a_password_up_to_72_bytes_gets_a_hash_that_verifies(typed, capsys, password):
    typed(password)
    assert main(["hash-password"]) == 0
    printed = capsys.readouterr().out.strip()
    assert bcrypt.checkpw(password.encode(), printed.encode())


@pytest.mark.parametrize("password", ["指" * 25, "a" * 73])
def test_a_longer_password_is_refused_with_a_message(typed, capsys, password):
    typed(password)
    assert main(["hash-password"]) == 1
    output = capsys.readouterr()
    assert output.out == "" and "72" in output.err and f"{len(password.encode())} bytes" in output.err
