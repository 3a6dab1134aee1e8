"""{{ text|markdown }}: Markdown rendered with no HTML of its own (core.markdown)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from core.markdown import markdown_safe

register = template.Library()


@register.filter(name="markdown")
def markdown(text: str) -> SafeString:
    return markdown_safe(text)
