"""Model cards and Markdown files: YAML front matter split off as metadata, Markdown rendered by
markdown-it-py (CommonMark + tables + strikethrough), code highlighted by Pygments, and the HTML
sanitized by nh3 so user content is inert (no script, no event handlers, no inline style, links
marked nofollow). Relative links and images point into the repository at the same revision."""
from __future__ import annotations

import posixpath
from urllib.parse import quote, urlsplit

import nh3
import yaml
from markdown_it import MarkdownIt
from pygments import highlight as pyg_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name, guess_lexer_for_filename
from pygments.lexers.special import TextLexer
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

MAX_FRONT_MATTER = 64 * 1024
TOKEN_CLASSES = {c for c in STANDARD_TYPES.values() if c}
_FORMATTER = HtmlFormatter(nowrap=True)
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em", "h1",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul", "picture", "source",
}
_ATTRIBUTES = {
    "a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
    "td": {"align", "colspan", "rowspan"}, "th": {"align", "colspan", "rowspan"},
    "ol": {"start"}, "code": set(), "source": {"srcset", "media", "type"},
    "details": {"open"}, "h1": {"id"}, "h2": {"id"}, "h3": {"id"},
}
_CLASSES = {"span": TOKEN_CLASSES, "pre": {"highlight"}}


def split_front_matter(text: str) -> tuple[dict, str]:
    """`---\\nyaml\\n---\\nbody` -> (metadata, body). Invalid YAML is shown as text, not an error."""
    if not text.startswith("---"):
        return {}, text
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return {}, text
    for i, line in enumerate(lines[1:], 1):
        if line.strip() == "---":
            raw = "\n".join(lines[1:i])
            if len(raw) > MAX_FRONT_MATTER:
                return {}, text
            try:
                data = yaml.safe_load(raw)
            except yaml.YAMLError:
                return {}, text
            return (data if isinstance(data, dict) else {}), "\n".join(lines[i + 1:])
    return {}, text


def highlight_code(code: str, language: str = "", filename: str = "") -> str:
    """Pygments HTML (CSS classes only; the stylesheet colours them)."""
    lexer = None
    try:
        if language:
            lexer = get_lexer_by_name(language.split()[0], stripnl=False)
        elif filename:
            lexer = guess_lexer_for_filename(filename, code[:4096], stripnl=False)
    except ClassNotFound:
        lexer = None
    body = pyg_highlight(code, lexer or TextLexer(stripnl=False), _FORMATTER)
    return f'<pre class="highlight"><code>{body}</code></pre>\n'


def _fence_highlight(code: str, lang: str, _attrs) -> str:
    return highlight_code(code, lang) if lang else ""


_MD = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False,
                                "highlight": _fence_highlight}).enable(["table", "strikethrough"])


def _relative(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith(("#", "/"))


class RepoLinks:
    """Rewrites relative URLs of a document at `doc_path` in a repo to that repo's pages."""

    def __init__(self, repo_path: str, revision: str, doc_path: str) -> None:
        self.repo_path, self.revision = repo_path, revision
        self.base = posixpath.dirname(doc_path)

    def _target(self, url: str) -> str:
        path = posixpath.normpath(posixpath.join(self.base, url.split("#")[0].split("?")[0]))
        return "" if path.startswith("..") or path == "." else path

    def link(self, url: str) -> str:
        path = self._target(url)
        return f"{self.repo_path}/blob/{quote(self.revision, safe='')}/{quote(path)}" if path else url

    def image(self, url: str) -> str:
        path = self._target(url)
        return f"{self.repo_path}/resolve/{quote(self.revision, safe='')}/{quote(path)}" if path else url


def render_markdown(text: str, links: RepoLinks | None = None) -> str:
    tokens = _MD.parse(text)
    if links is not None:
        for token in tokens:
            for child in [token, *(token.children or [])]:
                if child.type == "link_open" and _relative(href := str(child.attrGet("href") or "")):
                    child.attrSet("href", links.link(href))
                elif child.type == "image" and _relative(src := str(child.attrGet("src") or "")):
                    child.attrSet("src", links.image(src))
    html = _MD.renderer.render(tokens, _MD.options, {})
    return sanitize(html)


def sanitize(html: str) -> str:
    return nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES, allowed_classes=_CLASSES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow",
                     strip_comments=True)


def pygments_css() -> str:
    """Token colours for light and dark mode, scoped under `.highlight`."""
    light = HtmlFormatter(style="default").get_style_defs(".highlight")
    dark = HtmlFormatter(style="github-dark").get_style_defs(".highlight")
    light = "\n".join(line for line in light.splitlines() if not line.startswith(("pre", "td.", "span.")))
    dark = "\n".join(line for line in dark.splitlines() if not line.startswith(("pre", "td.", "span.")))
    return (f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"
            ".highlight, .highlight pre { background: transparent !important; }\n")
