"""Pure builders: DataFrame in, plotly Figure / pydeck Deck / display table out. No st.* here."""
