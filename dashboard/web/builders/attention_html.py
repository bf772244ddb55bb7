"""The needs-attention list (figures.attention) as HTML, for the overview, the wall and the phone."""

from __future__ import annotations

import html

from dashboard.figures.attention import TONES, Item, wall_lines
from dashboard.i18n import num, t

# Static rules only; every value below goes through html.escape. Colours read on the light
# page and on the kiosk's dark one alike, since the text itself inherits the theme's colour.
ATTENTION_CSS = """
<style>
.attention {list-style: none; margin: 0; padding: 0;}
.attention li {display: flex; gap: 0.5rem; align-items: baseline; padding: 0.3rem 0;
  border-bottom: 1px solid rgba(128, 128, 128, 0.25);}
.attention .chip {flex: none; font-size: 0.8em; font-weight: 600; padding: 0.05rem 0.4rem; border-radius: 0.3rem;
  color: #fff; white-space: nowrap;}
.attention .red {background: #b91c1c;} .attention .orange {background: #c2410c;}
.attention .yellow {background: #a16207;} .attention .grey {background: #4b5563;}
.attention details ul {margin: 0.2rem 0 0 1rem; padding: 0; font-size: 0.9em;}
.attention summary {cursor: pointer;}
.attention-more {margin-top: 0.3rem; font-weight: 600;}
</style>
"""


def attention_html(items: list[Item], lang: str, *, limit: int | None = None) -> str:
    """The list as HTML: every line with its kind; a per-street line expands to its communities
    (<details>), unless `limit` is set (the wall), which shows the top lines and "+k more"."""
    shown, more = wall_lines(items, limit) if limit is not None else (items, 0)
    lines = []
    for item in shown:
        chip = (f'<span class="chip {TONES[item.kind]}">'
                f'{html.escape(t(f"attention.kind.{item.kind}", lang))}</span>')
        text = html.escape(item.text)
        if item.details and limit is None:
            inner = "".join(f"<li>{html.escape(line)}</li>" for line in item.details)
            text = f"<details><summary>{text}</summary><ul>{inner}</ul></details>"
        lines.append(f'<li data-kind="{item.kind}">{chip}<span>{text}</span></li>')
    body = f'<ol class="attention">{"".join(lines)}</ol>'
    if more:
        body += f'<div class="attention-more">{html.escape(t("attention.more", lang, count=num(more, lang)))}</div>'
    return ATTENTION_CSS + body
