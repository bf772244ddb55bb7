"""Debian's nginx with the shipped site (deploy/nginx/erqi-dashboard.conf) in front of `streamlit
run` replicas: for the replica tests (tests/browser/test_replicas.py) and the phone benchmark
(bench/phone.py).

The site is read as shipped, at run time, with the edits a run on loopback needs, each checked
to have matched exactly once: the replicas' ports, nginx's port and the access log's path; and,
for the tests, an X-Upstream header naming the replica that answered.
"""

from __future__ import annotations

import getpass
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.browser.ports import on_a_free_port
from tests.browser.support import REPO, Server, stop_process, wait_until_healthy

NGINX = Path("/usr/sbin/nginx")
SITE = REPO / "deploy" / "nginx" / "erqi-dashboard.conf"


def site_config(port: int, replicas: list[Server], access_log: Path, *, name_upstream: bool = True) -> str:
    """The shipped site, listening on port, proxying to the replicas, logging to access_log in the
    shipped format; with name_upstream, naming the replica that answered (X-Upstream)."""
    site = SITE.read_text(encoding="utf-8")
    upstream_server = re.compile(r"^(\s*)server 127\.0\.0\.1:\d+( [^;\n]*);\n", re.M)
    shipped = upstream_server.findall(site)
    assert shipped, f"{SITE}: no 'server 127.0.0.1:PORT ...;' lines in the upstream"
    indent, options = shipped[0]
    ours = "".join(f"{indent}server {urlsplit(r.url).netloc}{options};\n" for r in replicas)
    site = upstream_server.sub("", site)
    edits = [
        (r"(hash \$erqi_route consistent;\n)", r"\1" + ours.replace("\\", "\\\\")),
        (r"listen 80;", f"listen 127.0.0.1:{port};"),
        (r"access_log /var/log/nginx/erqi-dashboard\.access\.log ", f"access_log {access_log} "),
    ]
    if name_upstream:
        edits.append((r"(add_header Set-Cookie \$erqi_route_cookie;)", r"\1 add_header X-Upstream $upstream_addr always;"))
    for pattern, replacement in edits:
        site, count = re.subn(pattern, replacement, site)
        assert count == 1, f"{SITE} changed: expected one match for {pattern!r}, found {count}"
    return site


@dataclass
class Proxy:
    url: str
    process: subprocess.Popen
    root: Path

    def log_tail(self, lines: int = 30) -> str:
        path = self.root / "error.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        stop_process(self.process)


def start_nginx(root: Path, replicas: list[Server], *, name_upstream: bool = True) -> Proxy:
    """nginx in the foreground on a free port (tests/browser/ports.py), everything it writes under root."""
    return on_a_free_port(lambda port: start_nginx_on(port, root, replicas, name_upstream=name_upstream))


def start_nginx_on(port: int, root: Path, replicas: list[Server], *, name_upstream: bool = True) -> Proxy:
    root.mkdir(parents=True, exist_ok=True)
    site = site_config(port, replicas, root / "access.log", name_upstream=name_upstream)
    (root / "site.conf").write_text(site, encoding="utf-8")
    # As root, nginx's workers would switch to `nobody`, who cannot enter pytest's 0700 tmp dirs.
    user = "user root;" if os.geteuid() == 0 else f"# running as {getpass.getuser()}"
    temp = " ".join(f"{kind}_temp_path {root / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (root / "nginx.conf").write_text(f"""
daemon off;
{user}
worker_processes 1;
pid {root / "nginx.pid"};
error_log {root / "error.log"} info;
events {{ worker_connections 512; }}
http {{
    {temp}
    include {root / "site.conf"};
}}
""", encoding="utf-8")
    process = subprocess.Popen([str(NGINX), "-p", str(root), "-c", str(root / "nginx.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return wait_until_healthy(Proxy(f"http://127.0.0.1:{port}", process, root), "nginx")
