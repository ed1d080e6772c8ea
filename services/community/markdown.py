"""Comments as the Hub shows them: CommonMark rendered to HTML (markdown-it-py, raw HTML off), then
sanitized (nh3) so user content is inert wherever a page or a client displays it."""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


def render(raw: str) -> str:
    return nh3.clean(_MD.render(raw or ""), link_rel="nofollow noopener noreferrer")
