"""The content security policy allows only this site's own scripts and styles
(`script-src 'self'; style-src 'self'`): no template, and no HTML a view builds, may carry
an inline script, an inline event handler, a style attribute or a <style> block. JSON
islands (<script type="application/json">, from `json_script`) are data, never run."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.compapp.test_book_pages import books  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
PYTHON = sorted(p for d in ("accounts", "payouts", "compapp") for p in (ROOT / d).rglob("*.py")
                if "migrations" not in p.parts)

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I | re.S)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
STYLE_BLOCK = re.compile(r"<style\b", re.I)
JS_URL = re.compile(r"javascript:", re.I)


def problems(text: str) -> list[str]:
    found = []
    for match in SCRIPT_TAG.finditer(text):
        attrs = match.group(1)
        if "src=" not in attrs and 'type="application/json"' not in attrs:
            found.append(f"inline script: {match.group(0)}")
    for pattern, what in ((INLINE_HANDLER, "inline event handler"),
                          (STYLE_ATTRIBUTE, "style attribute"), (STYLE_BLOCK, "<style> block"),
                          (JS_URL, "javascript: URL")):
        found += [f"{what}: {m.group(0)[:60]!r}" for m in pattern.finditer(text)]
    return found


def test_the_checks_catch_what_the_policy_blocks():
    assert problems('<script>alert(1)</script>')
    assert problems('<button onclick="go()">')
    assert problems('<div style="width: 5%">')
    assert problems("<style>p { color: red }</style>")
    assert not problems('<script src="/static/js/charts.js" defer></script>')
    assert not problems('<script id="x" type="application/json">{"a": 1}</script>')
    assert not problems('<svg><line stroke="#000" stroke-width="1"/></svg>')


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_scripts_or_styles(path):
    assert problems(path.read_text()) == []


@pytest.mark.parametrize("path", PYTHON, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_python_builds_html_with_inline_scripts_or_styles(path):
    text = path.read_text()
    assert 'style="' not in text and "style='" not in text
    assert "<script>" not in text and "<style" not in text


def test_every_static_script_the_templates_load_exists():
    for path in TEMPLATES:
        for src in re.findall(r"\{% static '([^']+\.js)' %\}", path.read_text()):
            assert (ROOT / "static" / src).is_file(), f"{path.name}: {src}"


@pytest.mark.django_db
def test_rendered_pages_have_no_inline_scripts_or_styles(books, people, client_for):  # noqa: F811
    pages = {
        "alice": [reverse("home"), reverse("account_detail", args=[books["acme"].id]),
                  reverse("my_attainment"), reverse("metrics")],
        "maria": [reverse("team"), reverse("person_book", args=[people["alice"].id]),
                  reverse("recompute")],
    }
    for user, urls in pages.items():
        client = client_for(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert problems(response.content.decode()) == [], url
