"""Who is looking, on the server: the login form, the role of the session, and the refusals.

Rules live in dashboard.web.auth; this module applies them to a Streamlit session. Nothing here
trusts the URL: a role comes only from a successful login (or, with no users configured, from
the server being reachable on loopback only).
"""

from __future__ import annotations

import streamlit as st

from dashboard.web import auth

USER = "_user"
USERS_TTL_SECONDS = 60  # a changed users file takes effect within a minute, with no restart


@st.cache_resource(ttl=USERS_TTL_SECONDS, show_spinner=False)
def users() -> dict[str, auth.User]:
    return auth.load_users()


def role() -> str | None:
    """The session's role; None while users are configured and nobody has logged in."""
    if not users():
        return auth.LOCAL_ROLE
    user = st.session_state.get(USER)
    return user.role if user else None


def refuse_if_open() -> None:
    """Stop every run when the server listens beyond loopback and nobody has to log in."""
    refusal = auth.refuse_open_without_users(st.get_option("server.address") or "", users())
    if refusal:
        st.error(refusal)
        st.stop()


def login_gate() -> bool:
    """True when the session may see the dashboard; otherwise draws the login form.

    The form is bilingual because the language choice lives behind it. The URL is left
    untouched, so after login the session lands on the exact view the link asked for.
    """
    configured = users()
    if not configured or st.session_state.get(USER):
        return True
    st.title("二七区疫情防控指挥部 · Erqi command center")
    with st.form("login"):
        username = st.text_input("用户名 / Username")
        password = st.text_input("密码 / Password", type="password")
        submitted = st.form_submit_button("登录 / Log in")
    if submitted:
        user = auth.verify(configured, username.strip(), password)
        if user:
            st.session_state[USER] = user
            st.rerun()
        st.error("用户名或密码错误 / Wrong username or password")
    return False


def logout_button(lang_label: str) -> None:
    user = st.session_state.get(USER)
    if user and st.sidebar.button(lang_label, key="logout"):
        del st.session_state[USER]
        st.rerun()


def require_page(url_path: str) -> None:
    if not auth.may_open(role() or "", url_path):
        st.error("无权访问此页面 / This page is not open to your role")
        st.stop()


def check_query(name: str) -> None:
    auth.check_query(role() or "", name)


def may_run(name: str) -> bool:
    return auth.may_run(role() or "", name)
