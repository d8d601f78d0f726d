"""The page's style sheets: the normal one, sized so the main view fits 1366x768, and the one the
"Large text (projector)" switch adds on top of it.

Vuetify sizes its buttons, tabs and titles in ``rem`` (the root's font size) but its labels,
inputs and slider values in pixels, and Solara's Markdown has a size of its own, so the large
sheet raises all three; the charts are pictures and
grow with the width they are given (``demo/views.py`` stacks them in large text).
"""

from __future__ import annotations

NORMAL = """
.v-application { font-size: 16px; }
.v-application .v-toolbar__title { font-size: 1.2rem; }
.v-main .container { padding: 8px 12px !important; }
.solara-autorouter-content { padding: 0 12px !important; }
.solara-autorouter-content > div > div:empty { display: none; }
.v-application h3 { margin: 0 0 4px 0; }
.v-application ul { margin-bottom: 4px; }
.v-application p { margin-bottom: 4px; }
.v-tab { font-size: 0.95rem; letter-spacing: 0; text-transform: none; }
.v-toolbar .v-input--switch { margin-top: 0; padding-top: 0; }
.v-toolbar .v-input--switch .v-messages { display: none; }
"""

LARGE_FONT = 22  # px: about 14 px text becomes 20 px or more, legible from the back of a room

LARGE = f"""
html {{ font-size: {LARGE_FONT}px !important; }}
:root {{ --jp-content-font-size1: {LARGE_FONT}px; }}  /* the Markdown text's own size */
.v-application {{ font-size: {LARGE_FONT}px; }}
.v-application .v-label, .v-application input, .v-application .v-select__selection,
.v-application .v-slider__thumb-label, .v-application .v-list-item__title {{
  font-size: {LARGE_FONT}px !important;
}}
.v-application .v-label {{ height: auto; line-height: 1.3; }}
.v-application .v-btn.v-size--small {{ font-size: 0.8rem; height: auto; min-height: 32px; }}
.v-application .v-btn.v-size--default {{ height: auto; min-height: 40px; }}
.v-tab {{ font-size: 0.9rem; padding: 0 10px; min-width: 0; }}
/* The other tabs' charts, pictures too, take the whole width under their words. */
.why-view, .side-by-side {{ flex-wrap: wrap; }}
.why-view > *, .side-by-side > * {{ flex: 1 1 100% !important; }}
.why-view img, .side-by-side img, .aftermath-view img {{ width: 100%; height: auto; }}
"""


def page_style(large: bool) -> str:
    """The style sheet of the page, with large text or without."""
    return NORMAL + (LARGE if large else "")
