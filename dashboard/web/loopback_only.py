"""With no users configured, nobody logs in, so the server may serve only the operator at the
machine: on loopback, and never through a proxy. The refusals that hold it there."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from dashboard.web.auth import User


def is_loopback(address: str) -> bool:
    if address in ("localhost", ""):
        return address == "localhost"
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def refuse_open_without_users(address: str, users: dict[str, User]) -> str | None:
    """The message to stop with when the server would be reachable by anyone, else None."""
    if users or is_loopback(address):
        return None
    return (
        f"Refusing to serve on {address or 'all interfaces'} with no users configured: anyone on the "
        "network could read the dashboard. Add users to .streamlit/secrets.toml (see "
        ".streamlit/secrets.example.toml) or bind to 127.0.0.1. "
        f"拒绝在 {address or '所有网卡'} 上无登录运行：请在 .streamlit/secrets.toml 中配置用户，或仅绑定 127.0.0.1。"
    )


# Headers a reverse proxy adds. A browser talking to the server directly sends none of them.
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip")


def refuse_proxied_without_users(headers: Mapping[str, str], users: dict[str, User]) -> str | None:
    """The message to stop with when a request came through a proxy and nobody has to log in.

    Without users, loopback is trusted to mean the operator at the machine; behind a proxy on
    that machine, every visitor arrives from loopback, so the rule no longer holds.
    """
    if users:
        return None
    present = sorted({name.lower() for name in headers} & set(PROXY_HEADERS))
    if not present:
        return None
    return (
        f"Refusing a request forwarded by a proxy ({', '.join(present)}) with no users configured: behind a "
        "proxy every visitor would be treated as the operator at this machine. Add users (see docs/operations.md, "
        "\"Login and roles\") or open the dashboard directly on 127.0.0.1. "
        "经代理转发的访问在未配置登录时被拒绝：请先配置用户，或在本机直接访问 127.0.0.1。"
    )
