"""Showing adversarial text to people: escaped, with every hidden character made visible.

Red-team transcripts are written to deceive. A right-to-left override can make ``exe.gnp``
read as ``png.exe``, zero-width and tag characters can hide words from the reader that a
model still sees, and control characters draw nothing at all. Reviewers must see the text as
it is, so each such character is replaced by a small labelled marker.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Characters that draw nothing, or that change how what is around them is drawn. Chosen by
# hand rather than "every format character" (Unicode category Cf): the Arabic number signs are
# Cf but visible and needed. Tab, newline and carriage return are layout, not hidden.
HIDDEN_CHARACTERS = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 and C1 controls, DEL
    "\u00ad"  # soft hyphen
    "\u034f"  # combining grapheme joiner
    "\u061c"  # Arabic letter mark (bidi)
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers: letters that draw as blank space
    "\u180e"  # Mongolian vowel separator
    "\u200b-\u200f"  # zero width space, non-joiner, joiner; left-to-right and right-to-left marks
    "\u2028\u2029"  # line and paragraph separators
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u2064"  # word joiner, invisible operators
    "\u2066-\u206f"  # bidi isolates; deprecated format characters
    "\ufeff"  # zero width no-break space (byte order mark)
    "\ufff9-\ufffb"  # interlinear annotation controls
    "\U0001bca0-\U0001bca3"  # shorthand format controls
    "\U0001d173-\U0001d17a"  # musical symbol format controls
    "\U000e0001\U000e0020-\U000e007f"  # tag characters: invisible ASCII, used to smuggle text
)
_HIDDEN = re.compile(f"[{HIDDEN_CHARACTERS}]")
# A run of one repeated character is one marker, so a megabyte of zero-width spaces stays
# one element on the page rather than a million.
_HIDDEN_RUN = re.compile(f"([{HIDDEN_CHARACTERS}])\\1*")
# Unicode bidi classes of strongly directional characters (Latin; Hebrew; Arabic).
_STRONG_DIRECTION = {"L": "ltr", "R": "rtl", "AL": "rtl"}
# How far to look for a strong character; a text that has none by then reads left to right.
_DIRECTION_SCAN = 4096


def character_label(char: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``; controls have no Unicode name."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'CONTROL CHARACTER')}"


@lru_cache(maxsize=512)
def _marker(char: str, count: int) -> SafeString:
    code = f"U+{ord(char):04X}"
    if count == 1:
        return format_html('<span class="invisible-char" title="{}">{}</span>', character_label(char), code)
    return format_html(
        '<span class="invisible-char" title="{} × {}">{} ×{}</span>', count, character_label(char), code, count
    )


def reveal_hidden_characters(text: object) -> SafeString:
    """`text` escaped for HTML element content, each hidden character shown as a marker.

    For element content only, never inside an attribute: the markers are elements.
    """
    # A template passes any value; Django escapes str() of it, but django-stubs admits only text.
    escaped = conditional_escape(text)  # type: ignore[arg-type]
    if _HIDDEN.search(escaped) is None:
        return escaped
    # Safe: the text was escaped above, and escaping neither makes nor removes hidden
    # characters, so the only markup is the markers, built by format_html.
    return mark_safe(_HIDDEN_RUN.sub(lambda match: _marker(match.group(1), len(match.group())), escaped))  # noqa: S308


@register.filter(name="text_direction")
def text_direction(value: object) -> str:
    """Return "rtl" when the text's first strongly directional character is right-to-left, else "ltr".

    What dir="auto" decides in the browser, decided here instead: Chromium re-resolved dir="auto"
    as each of a megabyte line's 29,000 markers was parsed, and took 11 s where dir="ltr" took 2 s.
    """
    for char in str(value)[:_DIRECTION_SCAN]:
        if direction := _STRONG_DIRECTION.get(unicodedata.bidirectional(char)):
            return direction
    return "ltr"


@register.filter(name="reveal_hidden")
def reveal_hidden(value: object) -> SafeString:
    """Escape untrusted text and show its bidi controls and invisible characters as visible markers.

    It escapes whatever the template's autoescape setting, since it exists for untrusted text.
    """
    return reveal_hidden_characters(value)
