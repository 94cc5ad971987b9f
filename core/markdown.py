"""Narratives: a small safe subset of Markdown, rendered with markdown-it-py (raw HTML off)
and sanitised with nh3 (Ammonia), so what is stored and shown is never raw user HTML."""

from __future__ import annotations

import nh3
from django.conf import settings
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("html_block")
ALLOWED_TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "img",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}
# Only web links survive; file:, data: and javascript: URLs are dropped.
URL_SCHEMES = {"http", "https", "mailto"}


def _own_images_only(tag: str, attribute: str, value: str) -> str | None:
    """An image may only be one of Levelset's own static files: a picture from elsewhere
    would be fetched by every reader's browser (a tracking pixel)."""
    if tag == "img" and attribute == "src":
        prefix = "/" + (settings.STATIC_URL or "static/").strip("/") + "/"
        if not value.startswith(prefix) or ".." in value or "//" in value[1:]:
            return None
    return value


def render_markdown(text: str) -> str:
    html = _MARKDOWN.render(text or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_own_images_only,
    )
