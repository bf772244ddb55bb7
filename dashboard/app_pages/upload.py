"""上传数据 Upload: a clerk drops their area's files, sees at once what the ingest will make of each,
confirms, and sees when the figures went live (issue 19). An admin uploads for the sidebar's area."""

from datetime import date, datetime

import streamlit as st

from dashboard import i18n
from dashboard.i18n import t
from dashboard.ingest import upload
from dashboard.ingest.status import read_status
from dashboard.web import access, cache, state, table_view
from dashboard.web.builders import uploads
from dashboard.web.page_header import page_header

CHECKED = "_upload_checked"  # file_id -> Checked, so a rerun does not check a file again
PENDING = "_upload_pending"  # the files saved by this session, until their figures are live
ROUND = "_upload_round"  # a new uploader after each confirm: the saved files leave it

f = state.filters()
page_header(f, "page.upload", charts=False)
settings = cache.settings()
user = access.current_user()
area = access.scope() if access.role() == "clerk" else f.area
if len(area) not in (9, 12):
    st.info(t("upload.pick_area", f.lang))
    st.stop()
st.caption(t("upload.intro", f.lang, area=i18n.literal(cache.area_name(area, f.lang)), max_mb=settings.upload_max_mb))

days = list(dict.fromkeys([date.today(), *f.days[:7]]))
day = st.selectbox(t("upload.day", f.lang), days, format_func=lambda d: i18n.day(d, f.lang))
round_key = st.session_state.setdefault(ROUND, 0)
files = st.file_uploader(t("upload.files", f.lang), type=["csv", "xlsx"], accept_multiple_files=True,
                         max_upload_size=settings.upload_max_mb, key=f"upload_files_{round_key}")
checked_before = st.session_state.setdefault(CHECKED, {})
serving = cache.query("upload/serving", day=day, area=area)
username = user.username if user else "local"

ready = []
for dropped in files or []:
    key = (dropped.file_id, area)
    if key not in checked_before:
        with st.spinner(t("upload.checking", f.lang, file=i18n.literal(upload.shown_name(dropped.name)))):
            checked_before[key] = upload.check(dropped.getvalue(), dropped.name, area, settings)
        if not checked_before[key].usable:  # a refused file is logged once, when it is dropped
            upload.log(settings, upload.entry(checked_before[key], day, username, "refused", checked_before[key].problem))
    checked = checked_before[key]
    replaces = uploads.replaced_file(serving, checked.kind, checked.sender, checked.saved_name)
    st.header(i18n.literal(checked.filename))
    table_view.show_table(uploads.checked_table(checked, replaces, f.lang), t("upload.none", f.lang))
    if checked.rejects:
        st.caption(t("upload.rejects", f.lang, n=len(checked.rejects), total=i18n.num(checked.rows_rejected, f.lang)))
        table_view.show_table(uploads.rejects_table(checked.rejects, f.lang), t("upload.no_rejects", f.lang))
    if checked.usable:
        ready.append((checked, replaces))
if not files:
    st.info(t("upload.none", f.lang))
elif not ready:
    st.warning(t("upload.nothing_to_save", f.lang))

if ready and st.button(t("upload.confirm", f.lang), type="primary"):
    pending = st.session_state.setdefault(PENDING, [])
    for checked, replaces in ready:
        try:
            saved = upload.save(checked, day, username, settings, replaces=replaces)
        except (upload.Refused, OSError) as refusal:
            st.error(t("upload.refused", f.lang, file=i18n.literal(checked.filename), reason=i18n.literal(refusal)))
            continue
        pending.append({"file": f"exports/{day.isoformat()}/{saved.name}", "sha256": checked.sha256,
                        "shown": checked.filename, "saved_at": datetime.now().isoformat(timespec="seconds")})
    if upload.may_start_ingest(settings):
        upload.start_ingest(settings)
    st.session_state[ROUND] = round_key + 1
    st.session_state[CHECKED] = {}
    st.rerun()


@st.fragment(run_every=f"{max(2, min(settings.refresh_seconds, 5))}s")
def taken_in() -> None:
    """Each saved file until an ingest has taken these very bytes in; then when, and since when live."""
    status = read_status(settings.db_path)
    for item in st.session_state.get(PENDING, []):
        found = cache.query("upload/taken_in", area=area, file=item["file"], digest=item["sha256"])
        level, text = uploads.taken_in_notice(found, status, item["saved_at"], item["shown"], f.lang)
        getattr(st, level)(text)


if st.session_state.get(PENDING):
    st.caption(t("upload.ingest_started" if upload.may_start_ingest(settings) else "upload.by_watcher", f.lang))
    taken_in()
