"""Screen tokens: a wall screen's standing login, granting the `screen` role and nothing more,
over the whole district or over one street's or community's subtree (`--area`).

A token is `<id>.<expires>.<signature>`: a random id, the expiry in Unix seconds, and an
HMAC-SHA256 over both, the role and the area, under the secret from settings. The registry
(`<state dir>/screen_tokens.json`, 0600) keeps, per screen name, the token's SHA-256 (never the
token) and the screen's area: a token counts only while it is signed, unexpired and still the one registered for its
screen, so removing it from the registry revokes it. Nothing else is remembered, so any replica
that shares the state directory (or the secret and the registry) checks a token the same way.

No Streamlit here: the command line issues and revokes, dashboard.web.access checks.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dashboard.settings import Settings

ROLE = "screen"
DEFAULT_DAYS = 365
MAX_DAYS = 3660
# Printable names of reasonable length: they are printed in --list and in the log.
SCREEN_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,64}")
AREA_CODE = re.compile(r"[0-9]{9}(?:[0-9]{3})?")
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16}\.[0-9]{1,12}\.[A-Za-z0-9_-]{43}")


class ScreenTokenError(ValueError):
    """A name or a registry that cannot be used; the message says why and never shows a token."""


@dataclass(frozen=True)
class Screen:
    name: str
    area: str  # a street or community code; "" = the whole district


@dataclass(frozen=True)
class Registered:
    name: str
    issued: datetime
    expires: datetime
    area: str = ""

    def expired(self, now: float) -> bool:
        return self.expires.timestamp() <= now


def _signature(secret: bytes, token_id: str, expires: int, area: str) -> str:
    # A district screen's message is the one tokens had before areas: those tokens keep working.
    message = f"{ROLE}|{token_id}|{expires}" if not area else f"{ROLE}|{area}|{token_id}|{expires}"
    mac = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(settings: Settings, name: str, days: int = DEFAULT_DAYS, now: float | None = None, area: str = "") -> str:
    """A new token for the screen `name`, valid for `days`, showing `area`'s subtree ("" = the
    district); a token the screen had before stops working. The caller checks that the area exists."""
    if area and not AREA_CODE.fullmatch(area):
        raise ScreenTokenError("--area is a street's 9-digit or a community's 12-digit code")
    if not SCREEN_NAME.fullmatch(name) or name != name.strip():
        raise ScreenTokenError("a screen name is 1 to 64 printable characters, without leading or trailing spaces")
    if not 1 <= days <= MAX_DAYS:
        raise ScreenTokenError(f"--days must be between 1 and {MAX_DAYS}")
    now = time.time() if now is None else now
    expires = int(now) + days * 86_400
    token_id = secrets.token_urlsafe(12)
    token = f"{token_id}.{expires}.{_signature(settings.screen_token_secret(), token_id, expires, area)}"
    screens = _read(settings.screen_tokens_file)
    screens[name] = {"sha256": _digest(token), "issued": _iso(now), "expires": _iso(expires), "area": area}
    _write(settings.screen_tokens_file, screens)
    return token


def revoke(settings: Settings, name: str) -> bool:
    """End the screen's token; False when no screen has that name."""
    screens = _read(settings.screen_tokens_file)
    if screens.pop(name, None) is None:
        return False
    _write(settings.screen_tokens_file, screens)
    return True


def registered(settings: Settings) -> list[Registered]:
    return [Registered(name, datetime.fromisoformat(entry["issued"]), datetime.fromisoformat(entry["expires"]),
                       str(entry.get("area", "")))
            for name, entry in sorted(_read(settings.screen_tokens_file).items())]


def screen_for(settings: Settings, token: str, now: float | None = None) -> Screen | None:
    """The screen the token belongs to, with its area, or None: malformed, badly signed, expired,
    revoked or replaced. An unreadable registry or secret counts as no token (the login page)."""
    if not isinstance(token, str) or not TOKEN_SHAPE.fullmatch(token):
        return None
    token_id, expires, signature = token.split(".")
    now = time.time() if now is None else now
    if int(expires) <= now:
        return None
    try:
        secret = settings.screen_token_secret(create=False)
        screens = _read(settings.screen_tokens_file)
    except (OSError, ValueError):
        return None
    if secret is None:
        return None
    digest = _digest(token)
    for name, entry in screens.items():
        area = str(entry.get("area", ""))
        # The signature covers the area, so an edited registry cannot widen a street's screen.
        if hmac.compare_digest(str(entry.get("sha256", "")), digest) and hmac.compare_digest(
                signature, _signature(secret, token_id, int(expires), area)):
            return Screen(name, area)
    return None


# ---------------------------------------------------------------- the registry file

def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


def _read(path: Path) -> dict[str, dict]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    return dict(_parsed(str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=4)
def _parsed(path: str, inode: int, mtime_ns: int, size: int) -> dict[str, dict]:
    """Read once per version of the file: a screen's every rerun checks its token."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, encoding="utf-8") as f:
        document = json.load(f)
    screens = document.get("screens") if isinstance(document, dict) else None
    if not isinstance(screens, dict):
        raise ScreenTokenError(f"{path} is not a screen token registry")
    return screens


def _write(path: Path, screens: dict[str, dict]) -> None:
    """Whole or not at all: written under a private name (0600), then renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"version": 1, "screens": screens}, f, ensure_ascii=False, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
