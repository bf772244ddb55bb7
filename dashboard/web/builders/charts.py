"""Plotly figures: one pure function per chart, DataFrame in, Figure out.

A day with no export arrives as a null and is drawn as a gap, never as a zero. Names from
the exports (sites, hotels, zones, communities) pass through `shown_as_typed` first: plotly
reads a subset of HTML in titles, ticks and hover text, links included.
"""

from __future__ import annotations

import html
from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.trends import TrendSpec
from dashboard.i18n import enum, is_missing, short_day, t
from dashboard.web.builders.overlays import LEVEL_COLORS

KIND_COLORS = {"home": "#0ea5e9", "home_monitoring": "#22c55e", "centralized": "#7c3aed"}
FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"


def _rgb(color: list[int]) -> str:
    return f"rgb({color[0]},{color[1]},{color[2]})"


def shown_as_typed(names) -> list[str]:
    """Names as plotly text: & < > escaped (plotly shows the entities as the characters)."""
    return [html.escape(str(name), quote=False) for name in names]


def _layout(fig: go.Figure, title: str, height: int = 320) -> go.Figure:
    fig.update_layout(title={"text": title, "x": 0, "font": {"size": 16}}, height=height,
                      margin={"l": 40, "r": 10, "t": 50, "b": 10}, font={"family": FONT},
                      legend={"orientation": "h", "y": -0.15}, separators=".,")
    return fig


def _days(series: pd.Series, lang: str) -> list[str]:
    return [short_day(d, lang) for d in series]


def _day_axis(fig: go.Figure) -> go.Figure:
    fig.update_xaxes(tickangle=-45, type="category", automargin=True)
    return fig


def daily_bars(df: pd.DataFrame, column: str, title: str, lang: str, color: str = "#2563eb") -> go.Figure:
    """One bar per day; days without an export have no bar (their value is null)."""
    values = [None if is_missing(v) else int(v) for v in df[column]]
    no_data = t("no_data", lang)
    fig = go.Figure(go.Bar(x=_days(df["day"], lang), y=values, marker_color=color, name=title,
                           text=[no_data if v is None else f"{v:,}" for v in values], textposition="outside",
                           hovertemplate="%{x}: %{text}<extra></extra>"))
    fig.update_yaxes(rangemode="tozero", tickformat=",~f")
    return _layout(_day_axis(fig), title)


def lines_by(df: pd.DataFrame, group: str, value: str, enum_kind: str, colors: dict[str, str], title: str,
             lang: str) -> go.Figure:
    """One line per group (zone level, isolation kind) over the days."""
    fig = go.Figure()
    for key, color in colors.items():
        part = df[df[group] == key]
        fig.add_trace(go.Scatter(x=_days(part["day"], lang), y=[None if is_missing(v) else int(v) for v in part[value]],
                                 mode="lines+markers", name=enum(enum_kind, key, lang), line={"color": color},
                                 connectgaps=False, hovertemplate="%{x}: %{y:,d}<extra>%{fullData.name}</extra>"))
    fig.update_yaxes(rangemode="tozero", tickformat=",~f")
    return _layout(_day_axis(fig), title)


def isolation_trend(df: pd.DataFrame, lang: str) -> go.Figure:
    return lines_by(df, "kind", "active", "isolation_kind", KIND_COLORS, t("trend.isolation", lang), lang)


def zones_trend(df: pd.DataFrame, lang: str) -> go.Figure:
    colors = {level: _rgb(c) for level, c in LEVEL_COLORS.items()}
    return lines_by(df, "level", "zones", "level", colors, t("trend.zones", lang), lang)


def trend_chart(spec: TrendSpec, df: pd.DataFrame, lang: str) -> go.Figure:
    """One of the overview's 14-day trends (figures.trends.TRENDS), from its query's rows."""
    if spec.key == "isolation":
        return isolation_trend(df, lang)
    if spec.key == "zones":
        return zones_trend(df, lang)
    return daily_bars(df, spec.key, t(f"trend.{spec.key}", lang), lang, spec.color)


def isolation_flow(df: pd.DataFrame, lang: str) -> go.Figure:
    """Cases started (up) and ended (down) per day, summed over kinds."""
    daily = df.groupby("day", as_index=False)[["started", "ended"]].sum(min_count=1)
    fig = go.Figure([
        go.Bar(x=_days(daily["day"], lang), y=daily["started"], name=t("col.started", lang), marker_color="#dc2626",
               hovertemplate="%{x}: %{y:,d}<extra>%{fullData.name}</extra>"),
        go.Bar(x=_days(daily["day"], lang), y=-daily["ended"], name=t("col.ended", lang), marker_color="#16a34a",
               customdata=daily["ended"], hovertemplate="%{x}: %{customdata:,d}<extra>%{fullData.name}</extra>"),
    ])
    fig.update_layout(barmode="relative")
    fig.update_yaxes(tickformat=",~f")
    return _layout(_day_axis(fig), t("isolation.flow", lang))


def site_label(name: str, kind: str, lang: str) -> str:
    """Mobile vehicles are marked so they stand out among fixed sites."""
    shown = html.escape(str(name), quote=False)
    return f"◆ {shown}（{t('testing.mobile', lang)}）" if kind == "testing_mobile" else shown


def samples_heatmap(df: pd.DataFrame, lang: str) -> go.Figure:
    labels = {row.site_id: site_label(row.name, row.kind, lang) for row in df.itertuples(index=False)}
    # Rows keep the query's order (fixed sites, then mobile vehicles), not pivot's sorted one.
    grid = df.pivot_table(index="site_id", columns="hour", values="samples", aggfunc="sum").reindex(
        index=list(dict.fromkeys(df["site_id"])), columns=range(24)).fillna(0)
    fig = go.Figure(go.Heatmap(
        z=grid.values, x=[f"{h:02d}:00" for h in grid.columns], y=[labels[s] for s in grid.index],
        colorscale="Blues", hovertemplate="%{y} %{x}: %{z:,d}<extra></extra>",
        colorbar={"title": {"text": t("col.samples", lang)}}))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(side="top")
    _layout(fig, t("testing.by_hour", lang), height=max(260, 130 + 22 * len(grid)))
    fig.update_layout(margin={"t": 90})  # room for the title above the hour labels
    return fig


def positives_bar(df: pd.DataFrame, lang: str) -> go.Figure:
    shown = df[df["positives"] > 0].sort_values("positives")
    fig = go.Figure(go.Bar(x=shown["positives"], y=shown_as_typed(shown["name"]), orientation="h", marker_color="#dc2626",
                           text=[f"{int(v):,}" for v in shown["positives"]], textposition="outside",
                           hovertemplate="%{y}: %{x:,d}<extra></extra>"))
    fig.update_xaxes(tickformat=",~f", rangemode="tozero")
    return _layout(fig, t("testing.positives", lang), height=max(240, 90 + 30 * len(shown)))


def hotel_occupancy(df: pd.DataFrame, lang: str) -> go.Figure:
    capacity = df["capacity"].fillna(0)
    free = (capacity - df["active"]).clip(lower=0)
    names = shown_as_typed(df["name"])
    fig = go.Figure([
        go.Bar(y=names, x=df["active"], orientation="h", name=t("col.occupied", lang), marker_color="#7c3aed",
               hovertemplate="%{y}: %{x:,d}<extra>%{fullData.name}</extra>"),
        go.Bar(y=names, x=free, orientation="h", name=t("col.free", lang), marker_color="#e2e8f0",
               text=[f"{v:.0%}" if not is_missing(v) else "" for v in df["occupancy"]], textposition="outside",
               hovertemplate="%{y}: %{x:,d}<extra>%{fullData.name}</extra>"),
    ])
    fig.update_layout(barmode="stack")
    fig.update_xaxes(tickformat=",~f")
    return _layout(fig, t("isolation.hotels", lang), height=max(240, 100 + 34 * len(df)))


def staff_heatmap(df: pd.DataFrame, lang: str) -> go.Figure:
    """Posts × hours; a cell is red when fewer than min_staff are on duty, green otherwise."""
    labels = {row.site_id: f"{html.escape(str(row.name), quote=False)}（{t('col.min_staff', lang)} {int(row.min_staff)}）"
              for row in df.itertuples(index=False)}
    posts = list(dict.fromkeys(df["site_id"]))
    short = df.pivot_table(index="site_id", columns="hour", values="understaffed", aggfunc="max").reindex(
        index=posts, columns=range(24))
    on_duty = df.pivot_table(index="site_id", columns="hour", values="on_duty", aggfunc="sum").reindex(
        index=posts, columns=range(24))
    z = short.astype("float").map(lambda v: None if is_missing(v) else (0.0 if v else 1.0))
    fig = go.Figure(go.Heatmap(
        z=z.values, x=[f"{h:02d}:00" for h in short.columns], y=[labels[s] for s in short.index],
        text=on_duty.map(lambda v: "" if is_missing(v) else f"{int(v)}").values, texttemplate="%{text}",
        colorscale=[[0, "#dc2626"], [0.5, "#dc2626"], [0.5, "#86efac"], [1, "#86efac"]], zmin=0, zmax=1,
        showscale=False, xgap=1, ygap=1,
        hovertemplate="%{y} %{x}: " + t("col.on_duty", lang) + " %{text}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(side="top")
    _layout(fig, t("staff.heatmap", lang), height=max(240, 130 + 24 * len(short)))
    fig.update_layout(margin={"t": 90})  # room for the title above the hour labels
    return fig


def zone_gantt(df: pd.DataFrame, day, lang: str) -> go.Figure:
    """One bar per zone from its start to its lifting (or to the day, if still in force)."""
    end_of_view = pd.Timestamp(day) + timedelta(days=1)
    fig = go.Figure()
    for level, color in LEVEL_COLORS.items():
        part = df[df["level"] == level]
        if part.empty:
            continue
        starts = pd.to_datetime(part["started_on"])
        ends = pd.to_datetime(part["lifted_on"]).fillna(end_of_view)
        fig.add_trace(go.Bar(
            base=starts, x=(ends - starts).dt.total_seconds() * 1000, y=shown_as_typed(part["name"]), orientation="h",
            name=enum("level", level, lang), marker_color=_rgb(color),
            customdata=[[short_day(s, lang), t("col.ongoing", lang) if is_missing(lifted) else short_day(lifted, lang)]
                        for s, lifted in zip(part["started_on"], part["lifted_on"])],
            hovertemplate="%{y}: %{customdata[0]} – %{customdata[1]}<extra>%{fullData.name}</extra>"))
    fig.update_xaxes(type="date", tickformat="%m-%d", side="top")
    fig.update_yaxes(autorange="reversed")
    fig.add_vline(x=pd.Timestamp(day).value / 1e6, line_dash="dot", line_color="#334155")
    _layout(fig, t("zones.timeline", lang), height=max(240, 120 + 22 * len(df)))
    fig.update_layout(margin={"t": 90})
    return fig


def checkpoint_bars(df: pd.DataFrame, lang: str) -> go.Figure:
    daily = df.groupby("day", as_index=False)[["vehicles_checked", "people_checked", "turned_back"]].sum()
    fig = go.Figure([
        go.Bar(x=_days(daily["day"], lang), y=daily[column], name=t(f"col.{column}", lang),
               hovertemplate="%{x}: %{y:,d}<extra>%{fullData.name}</extra>")
        for column in ("vehicles_checked", "people_checked", "turned_back")
    ])
    fig.update_yaxes(tickformat=",~f")
    return _layout(_day_axis(fig), t("staff.checkpoints", lang))


def door_visit_bars(df: pd.DataFrame, lang: str) -> go.Figure:
    fig = go.Figure([
        go.Bar(x=_days(df["day"], lang), y=df[column], name=t(f"col.{column}", lang),
               hovertemplate="%{x}: %{y:,d}<extra>%{fullData.name}</extra>")
        for column in ("households_visited", "people_checked")
    ])
    fig.update_yaxes(tickformat=",~f")
    return _layout(_day_axis(fig), t("staff.door_visits", lang))


STATUS_SCORE = {"loaded": 2, "missing": 1, "failed": 0}


def feed_matrix(df: pd.DataFrame, lang: str) -> go.Figure:
    """Days × file kinds: green loaded, amber loaded with rejects, grey missing, red failed."""
    kinds = list(dict.fromkeys(df["kind"]))
    days = sorted(df["day"].unique(), reverse=True)
    z, text = [], []
    for d in days:
        row_z, row_text = [], []
        for kind in kinds:
            cell = df[(df["day"] == d) & (df["kind"] == kind)]
            if cell.empty:
                row_z.append(None)
                row_text.append("")
                continue
            cell = cell.iloc[0]
            score = STATUS_SCORE.get(cell["status"], 1)
            # A district-wide file covers a street's view but is not of it: no rows of its own to count.
            if cell["status"] == "loaded" and not is_missing(cell["rows_loaded"]):
                rejected = 0 if is_missing(cell["rows_rejected"]) else int(cell["rows_rejected"])
                score = 2 if rejected == 0 else 1.5
                row_text.append(f"{int(cell['rows_loaded']):,} / {rejected:,}")
            else:
                row_text.append(t(f"health.status.{cell['status']}", lang))
            row_z.append(score)
        z.append(row_z)
        text.append(row_text)
    fig = go.Figure(go.Heatmap(
        z=z, x=[t(f"feed.{k}", lang) for k in kinds], y=[short_day(d, lang) for d in days], text=text,
        texttemplate="%{text}", zmin=0, zmax=2, showscale=False, xgap=2, ygap=2,
        colorscale=[[0, "#fca5a5"], [0.5, "#e5e7eb"], [0.75, "#fde68a"], [1, "#bbf7d0"]],
        hovertemplate="%{y} %{x}: %{text}<extra></extra>"))
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_xaxes(side="top")
    fig = _layout(fig, t("health.matrix", lang), height=max(290, 140 + 30 * len(days)))
    # The feed names sit above the grid, where the title would be: the title goes to the top of
    # the figure and the margin makes room for both.
    fig.update_layout(title={"yref": "container", "y": 1, "yanchor": "top", "pad": {"t": 8}},
                      margin={"t": MATRIX_TOP_MARGIN})
    return fig


MATRIX_TOP_MARGIN = 80  # the title's line, then the feed names' line


DARK_PAPER = "#111a2e"
DARK_INK = "#e5e7eb"
DARK_GRID = "#24324f"


def on_dark(fig: go.Figure, height: int | None = None) -> go.Figure:
    """The figure for a wall screen's dark page: dark paper, light ink and grid, optionally shorter.

    Applied on top of the chart's own layout, so the trace colours (levels, kinds) stay the same
    on the wall as on the desk.
    """
    fig = go.Figure(fig)
    fig.update_layout(template="plotly_dark", paper_bgcolor=DARK_PAPER, plot_bgcolor=DARK_PAPER,
                      font={"color": DARK_INK, "family": FONT}, title_font={"color": DARK_INK})
    fig.update_xaxes(gridcolor=DARK_GRID, linecolor=DARK_GRID, zerolinecolor=DARK_GRID)
    fig.update_yaxes(gridcolor=DARK_GRID, linecolor=DARK_GRID, zerolinecolor=DARK_GRID)
    if height:
        # A small chart: bar labels and slanted day ticks would crowd it; the legend sits at the top.
        fig.update_layout(height=height, margin={"t": 30, "b": 4, "l": 40, "r": 8}, title_font_size=14,
                          legend={"orientation": "h", "x": 0, "y": -0.22, "yanchor": "top", "font": {"size": 10}})
        fig.update_traces(textposition="none", selector={"type": "bar"})
        fig.update_xaxes(tickangle=0, nticks=4)
    return fig
