"""Markdown written in Triad (a study's instructions) renders with no HTML of its own."""

from __future__ import annotations

import pytest

from core.markdown import markdown_safe


def test_markdown_renders_emphasis_lists_and_http_links() -> None:
    text = "Rate **0-4**.\n\n- one\n- two\n\n[paper](https://arxiv.org/abs/2209.07858) [mail](mailto:a@b.c)"
    html = markdown_safe(text)
    assert "<strong>0-4</strong>" in html
    assert "<li>one</li>" in html
    assert '<a href="https://arxiv.org/abs/2209.07858">paper</a>' in html
    assert '<a href="mailto:a@b.c">mail</a>' in html


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">click</a>',
        '<div style="position:fixed">over</div>',
        "<iframe src=https://evil.example></iframe>",
    ],
)
def test_raw_html_in_markdown_is_shown_as_text(hostile: str) -> None:
    html = markdown_safe(f"Before {hostile} after\n\n{hostile}")
    assert "<script" not in html and "<img" not in html and "<iframe" not in html and "<div" not in html
    assert '<a href="javascript' not in html
    assert "&lt;" in html


@pytest.mark.parametrize(
    "link",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](  javascript:alert(1))",
        "<javascript:alert(1)>",
        "[x](data:text/html,<script>alert(1)</script>)",
        "[x](vbscript:msgbox)",
        "[x](/relative/path)",
        "[x][ref]\n\n[ref]: javascript:alert(1)",
    ],
)
def test_links_go_only_to_http_https_and_mailto(link: str) -> None:
    html = markdown_safe(link)
    assert "href=" not in html and "<img" not in html and "src=" not in html


def test_an_image_is_never_loaded_only_linked() -> None:
    html = markdown_safe("![image](https://evil.example/pixel.png)")
    assert "<img" not in html and "src=" not in html
    assert '<a href="https://evil.example/pixel.png">image</a>' in html
