"""The phone bench's floor (python -m bench.phone --floor): a page with nothing of the dashboard in
it, only a title and metric cards with Chinese labels, so Lighthouse measures what Streamlit's own
frontend costs a phone before any of our code, figures or sidebar pages.

Both of Streamlit 1.67's fonts download on every first visit whatever the theme says: index.html
preloads SourceSansVF-Upright (170 kB) and index.js loads MaterialSymbols-Rounded (375 kB) as it
starts (preloadIconFont), both before the page has the server's theme. Measured: the floor with
STREAMLIT_THEME_FONT="Noto Sans CJK SC, system-ui, sans-serif" fetched the same two fonts."""

import streamlit as st

st.title("总览")
left, right = st.columns(2)
left.metric("现有确诊", "1,234", "+56")
right.metric("封控小区", "78", "-3")
