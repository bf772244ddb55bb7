"""The phone bench's floor (python -m bench.phone --floor): a page with nothing of the dashboard in
it, only a title and metric cards with Chinese labels, so Lighthouse measures what Streamlit's own
frontend costs a phone before any of our code, figures or sidebar pages."""

import streamlit as st

st.title("总览")
left, right = st.columns(2)
left.metric("现有确诊", "1,234", "+56")
right.metric("封控小区", "78", "-3")
