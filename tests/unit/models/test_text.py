import pytest

from models.text import clean_html, plain_excerpt, render_markdown

HOSTILE = [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="javascript:1">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<a href="//evil.example/">x</a>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<iframe src="https://evil.example"></iframe>',
    '<svg><script>alert(1)</script></svg>',
    '<style>body{display:none}</style>',
    '<form action="https://evil.example"><input name=x></form>',
    '<p onmouseover="alert(1)">x</p>',
]


@pytest.mark.parametrize("html", HOSTILE)
def test_hostile_html_is_neutralised(html):
    cleaned = clean_html(html)
    lowered = cleaned.lower()
    for needle in ("<script", "javascript:", "onerror", "onmouseover", "<iframe", "<style", "style=", "<form", "<input", "data:", 'href="//'):
        assert needle not in lowered, (html, cleaned)


def test_script_and_style_content_is_dropped_not_shown_as_text():
    assert clean_html("<p>a<script>steal()</script><style>x{}</style>b</p>") == "<p>ab</p>"


@pytest.mark.parametrize("source", ["0\x0c<!--><", "a\x01b<p>x\x0by</p>", "tab\tand\nline"])
def test_control_characters_go_and_cleaning_twice_changes_nothing(source):
    cleaned = clean_html(source)
    assert not any(ch in cleaned for ch in "\x00\x01\x0b\x0c?")
    assert clean_html(cleaned) == cleaned


def test_safe_markup_survives():
    html = '<p>Hi <strong>there</strong> <a href="https://example.org/x">link</a></p><ul><li>one</li></ul>'
    cleaned = clean_html(html)
    assert "<strong>there</strong>" in cleaned
    assert 'href="https://example.org/x"' in cleaned
    assert 'rel="nofollow noopener noreferrer"' in cleaned
    assert "<li>one</li>" in cleaned


def test_markdown_renders_and_escapes_raw_html():
    html = render_markdown("# Title\n\n**bold** <b onclick=x>raw</b> [x](javascript:alert(1))")
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert "<b onclick" not in html and "&lt;b onclick=x&gt;" in html
    assert 'href="javascript' not in html


def test_markdown_links_bare_urls():
    assert 'href="https://example.org"' in render_markdown("see https://example.org")


def test_plain_excerpt_strips_tags_unescapes_and_cuts_at_a_word():
    assert plain_excerpt("<p>fish &amp; chips<script>x()</script></p>") == "fish & chips"
    excerpt = plain_excerpt("word " * 100, limit=20)
    assert len(excerpt) <= 20 and excerpt.endswith("…") and not excerpt.endswith(" …")
