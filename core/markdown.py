"""Markdown that people write in Triad (a study's instructions), rendered so it can hold no HTML.

Raw HTML is escaped ("html": False), so a tag typed into the text shows as text; links go only to
http(s) and mailto addresses, so no javascript: or data: link survives; images are not rendered,
so the page loads nothing from elsewhere (the CSP would refuse it anyway). What comes out holds only
the elements CommonMark makes, with escaped text and attribute values: it is marked safe here, after
this renderer and nowhere else.
"""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

LINK_SCHEMES = ("http://", "https://", "mailto:")


def _link_allowed(url: str) -> bool:
    # markdown-it hands over the normalized URL; anything but the three schemes is left as text.
    return url.strip().lower().startswith(LINK_SCHEMES)


def _renderer() -> MarkdownIt:
    renderer = MarkdownIt("commonmark", {"html": False})
    renderer.disable("image")
    renderer.validateLink = _link_allowed  # type: ignore[method-assign]
    return renderer


_RENDERER = _renderer()


def markdown_safe(text: str) -> SafeString:
    """The text as HTML made only by the CommonMark renderer above."""
    # render() is typed Any because a custom renderer may return anything; the HTML one returns str.
    html: str = _RENDERER.render(text or "")
    return mark_safe(html)  # noqa: S308 - raw HTML is escaped and links are checked by the renderer
