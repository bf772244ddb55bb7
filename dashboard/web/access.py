"""Who is looking, on the server: the login form, the role of the session, and the refusals.

Rules live in dashboard.web.auth (users, roles), login_throttle and loopback_only; this module
applies them to a Streamlit session. Nothing here
trusts the URL: a role comes only from a successful login, from a screen token that the
registry still holds (the `screen` role, nothing more), or, with no users configured, from the
server being reachable on loopback only, directly and not through a proxy.

The session keeps only the username. The user, role included, is looked up in the current
users table on every run, so a removed or demoted user loses access at the next rerun.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from pathlib import Path

import streamlit as st

from dashboard.settings import Settings
from dashboard.web import auth, login_throttle, loopback_only, per_run, screen_tokens

USER = "_username"
# The token a screen came with, checked again on every run: revoked or expired, it stops working
# at the next one.
SCREEN_TOKEN = "_screen_token"
TOKEN_PARAM = "token"
# The role the session's last run was given, for what happens outside a run: Streamlit's
# clear_cache (web/cache_clearing.py) is refused unless it is admin.
ROLE_OF_LAST_RUN = "_role_of_last_run"
TOKEN_REFUSED = ("此屏幕链接已失效（已吊销或过期），请登录或重新生成链接 / This screen link is no longer valid "
                 "(revoked or expired): log in, or make a new one with python -m dashboard screen-token")
AREA_REFUSED = ("无权查看该区域：您的账号只能查看本辖区的数据 / This area is outside yours: your login shows "
                "your own area's data only")
AREA_UNKNOWN = ("您的账号所属区域不在数据中，请联系管理员 / Your login's area is not an area of the data: ask the "
                "administrator to check the users file or the screen token")
USERS_FILE_BROKEN = (
    "用户配置文件无法使用，看板已停止；原因见服务器日志。 / The users file configured on this server cannot be "
    "used, so the dashboard is stopped: the reason is in the server's log (and `python -m dashboard serve` prints it).")


@st.cache_resource(max_entries=4, show_spinner=False)
def _users_for(signature: tuple) -> dict[str, auth.User]:
    return auth.load_users()


def users() -> dict[str, auth.User]:
    """The current users table: re-read as soon as a users file changes, with no restart.

    Raises auth.UsersFileError when a configured file is unusable; refuse_if_unsafe turns
    that into a stop before anything else runs.
    """
    return per_run.once("users", lambda: _users_for(auth.users_signature()))


# The login guards of this process, by state directory. Module state, never a Streamlit cache:
# clear_cache, which a websocket can send, empties every cache, and a lockout with it.
_guards: dict[Path, login_throttle.LoginGuard] = {}
_guards_lock = threading.Lock()


def login_guard() -> login_throttle.LoginGuard:
    """One per process and state directory: the throttle and the cap on password checks count
    every session, and, through the state directory, every replica that shares it."""
    state_dir = Settings.from_env().state_dir
    with _guards_lock:
        if state_dir not in _guards:
            _guards[state_dir] = login_throttle.shared_login_guard(state_dir)
        return _guards[state_dir]


def current_user() -> auth.User | None:
    """The logged-in user as the users table has them now; None (and logged out) if removed."""
    username = st.session_state.get(USER)
    if not username:
        return None
    user = users().get(username)
    if user is None:
        del st.session_state[USER]
    return user


def _presented_token() -> str | None:
    """The token in the URL, else the one this session came with (a navigation link drops the query)."""
    return st.query_params.get(TOKEN_PARAM) or st.session_state.get(SCREEN_TOKEN)


def screen() -> screen_tokens.Screen | None:
    """The screen this session is, while its token is valid; checked against the registry each time."""
    token = _presented_token()
    found = screen_tokens.screen_for(Settings.from_env(), token) if token else None
    if found is None:
        st.session_state.pop(SCREEN_TOKEN, None)
    else:
        st.session_state[SCREEN_TOKEN] = token
    return found


def token_param() -> dict[str, str]:
    """The token to keep in the address bar, so a reload, or the reconnect after a server
    restart, brings the screen back without a login."""
    token = st.session_state.get(SCREEN_TOKEN)
    return {TOKEN_PARAM: token} if token and not st.session_state.get(USER) else {}


def role() -> str | None:
    """The session's role: the user's; `screen` for a valid screen token; None for a token that
    is not valid, or while users are configured and nobody has logged in."""
    user = current_user()
    if user:
        return user.role
    if _presented_token():
        return screen_tokens.ROLE if screen() else None
    return None if users() else auth.LOCAL_ROLE


def scope() -> str:
    """The area whose subtree the session may see, looked up again on every run: the user's, the
    screen token's, or "" (the whole district) for a district-wide user and the local operator."""
    user = current_user()
    if user:
        return user.area
    if _presented_token():
        found = screen()
        # An invalid token has no role, so no query; its scope is the narrowest: none at all.
        return found.area if found else NO_AREA
    return ""


# No area code starts with this: the scope of a session that may see no area.
NO_AREA = "-"


def remember_role(session_role: str | None) -> None:
    st.session_state[ROLE_OF_LAST_RUN] = session_role


def _request_headers() -> dict[str, str]:
    return {name.lower(): value for name, value in st.context.headers.items()}


def refuse_if_unsafe() -> None:
    """Stop every run, before any data, when the setup cannot say who is looking.

    That is: a configured users file that cannot be used; or no users while the server
    listens beyond loopback, or while the request came through a proxy.
    """
    try:
        configured = users()
    except auth.UsersFileError as error:
        # The reason names the file and may name a user: it goes to the operator's log, not to
        # whoever opened the page.
        login_throttle.LOGGER.error("%s", error)
        st.error(USERS_FILE_BROKEN)
        st.stop()
    refusal = (loopback_only.refuse_open_without_users(st.get_option("server.address") or "", configured)
               or loopback_only.refuse_proxied_without_users(_request_headers(), configured))
    if refusal:
        st.error(refusal)
        st.stop()


def login_gate() -> bool:
    """True when the session may see the dashboard; otherwise draws the login form.

    The form is bilingual because the language choice lives behind it. The URL is left
    untouched, so after login the session lands on the exact view the link asked for.
    """
    configured = users()
    if current_user():
        return True
    token_refused = False
    if _presented_token():
        if screen():
            return True
        token_refused = True
        login_throttle.LOGGER.warning("refused screen token: revoked, expired, replaced or malformed; address=%r",
                                      login_throttle.client_address(st.context.ip_address))
    elif not configured:
        return True
    st.title("二七区疫情防控指挥部 · Erqi command center")
    if token_refused:
        st.warning(TOKEN_REFUSED)
    with st.form("login"):
        username = st.text_input("用户名 / Username")
        password = st.text_input("密码 / Password", type="password")
        submitted = st.form_submit_button("登录 / Log in")
    if submitted:
        result = login_guard().attempt(configured, username.strip(), password,
                                       login_throttle.client_address(st.context.ip_address))
        if result.user:
            st.session_state[USER] = result.user.username
            st.rerun()
        if result.outcome == "throttled":
            seconds = math.ceil(result.retry_after)
            st.error(f"登录失败次数过多，请 {seconds} 秒后再试 / Too many failed logins: try again in {seconds} s")
        elif result.outcome == "busy":
            st.warning("服务器正忙，请稍后再试 / The server is busy checking other logins: try again in a moment")
        else:
            st.error("用户名或密码错误 / Wrong username or password")
    return False


def logout_button(lang_label: str) -> None:
    if st.session_state.get(USER) and st.sidebar.button(lang_label, key="logout"):
        del st.session_state[USER]
        st.rerun()


def require_page(url_path: str) -> None:
    if not auth.may_open(role() or "", url_path):
        st.error("无权访问此页面 / This page is not open to your role")
        st.stop()


def check_query(name: str, area: str | None) -> None:
    """The session's role may run the query, and with this $area (None: it binds none)."""
    check_queries([(name, area)])


def check_queries(ran: Iterable[tuple[str, str | None]]) -> None:
    """check_query for each (query, area), looking the role and scope up once (they read the users table)."""
    session_role, session_scope = role() or "", scope()
    for name, area in ran:
        auth.check_query(session_role, name)
        auth.check_area(session_scope, name, area)


def area_refusal(area: str, areas) -> str | None:
    """Why the session may not see `area` (a code from the URL), or None. A session whose own area
    is no area of the data (a mistyped code in the users file) sees nothing."""
    session_scope = scope()
    if session_scope and session_scope not in set(areas["area_code"]):
        login_throttle.LOGGER.error("the session's area %r is not an area of the snapshot", session_scope)
        return AREA_UNKNOWN
    return None if auth.within(session_scope, area) else AREA_REFUSED


def may_run(name: str) -> bool:
    return auth.may_run(role() or "", name)
