"""Who may empty the server's caches: Streamlit's "Clear cache" is honoured for an admin only.

Streamlit 1.67 accepts BackMsg.clear_cache from any websocket, logged in or not, and empties every
st.cache_data and st.cache_resource of the process (AppSession._handle_clear_cache_request, called
from AppSession.handle_backmsg). It has no setting or hook to refuse it: client.toolbarMode =
"viewer" only hides the menu item, and a script never sees the message. Anyone who can open the
login page could force every wall screen's caches cold, over and over.

So install() wraps that one method, once per process: the message is carried out only for a
session whose role is admin, and refused, with a line in the server's log, for everyone else.
tests/browser/test_trust_second.py sends the real message to a real server and checks both.
"""

from __future__ import annotations

import functools
import logging

from streamlit.runtime.app_session import AppSession

from dashboard.web import access, auth

LOGGER = logging.getLogger("dashboard.login")
ADMIN = "admin"
_GUARDED = "_dashboard_admin_only"


def may_clear_caches(session_state) -> bool:
    """True for an admin's session, as the users table has them now; else False.

    With users configured, the session's logged-in user must hold the admin role today. Without
    users, the role the session's last run was given decides: admin only for a run that passed
    access.refuse_if_unsafe (loopback, no proxy), never for a screen token or a refused run.
    """
    try:
        configured = auth.load_users()
    except auth.UsersFileError:
        return False
    if configured:
        username = session_state[access.USER] if access.USER in session_state else None
        user = configured.get(username) if isinstance(username, str) else None
        return user is not None and user.role == ADMIN
    return (session_state[access.ROLE_OF_LAST_RUN] if access.ROLE_OF_LAST_RUN in session_state else None) == ADMIN


def install() -> None:
    """Make clear_cache admin-only in this process; calling it again changes nothing."""
    original = getattr(AppSession, "_handle_clear_cache_request", None)
    if original is None:
        # A Streamlit without the method: the test that sends the real message fails loudly.
        LOGGER.error("cannot make clear_cache admin-only: this Streamlit has no "
                     "AppSession._handle_clear_cache_request")
        return
    if getattr(original, _GUARDED, False):
        return

    @functools.wraps(original)
    def admin_only(self: AppSession) -> None:
        if may_clear_caches(self.session_state):
            original(self)
            return
        LOGGER.warning("refused clear_cache from session %s: only an admin may empty the server's caches", self.id)

    setattr(admin_only, _GUARDED, True)
    AppSession._handle_clear_cache_request = admin_only
