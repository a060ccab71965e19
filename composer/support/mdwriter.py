"""Markdown shared by the renderers: one parser, and a writer that walks its syntax tree.

The parser is CommonMark with raw HTML off (HTML an editor pastes is shown as
text), only absolute http(s)/mailto links and in-page anchors accepted, and bare
URLs linked by our own rule, which stops at CJK text and full-width punctuation.
Runs of backslash-continued shell lines become code blocks.

``MarkdownWriter`` writes the tree back as Markdown; renderer plugins subclass it
(WeChat citations, Hugo links, plain text) by overriding a few methods.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

from composer.support.fences import Fences, mark
from composer.support.literal import defuse_links
from composer.support.mdrules import flat_inline, join_text, too_deep
from composer.support.text import URL_RE, find_urls, may_nest_deep, trim_url

SAFE_LINK = re.compile(r"^(https?://|mailto:|#)", re.I)
CONTINUED = re.compile(r"\s\\$")


def _bare_urls(state) -> None:
    """Core rule: turn bare URLs in text tokens into links marked ``info="bare"``.

    It runs before text tokens are joined, so an escaped ``https\\://`` stays text.
    """
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        out: list[Token] = []
        depth = 0
        for tok in block.children:
            if tok.type == "link_open":
                depth += 1
            elif tok.type == "link_close":
                depth -= 1
            if tok.type != "text" or depth or "://" not in tok.content:
                out.append(tok)
                continue
            pos = 0
            for start, end, url in find_urls(tok.content):
                if start > pos:
                    out.append(_text(tok.content[pos:start]))
                link = Token("link_open", "a", 1, attrs={"href": url}, info="bare")
                close = Token("link_close", "a", -1, info="bare")
                out += [link, _text(url), close]
                pos = end
            if pos < len(tok.content):
                out.append(_text(tok.content[pos:]))
        block.children = out


SCHEME_TAIL = re.compile(r"https?$")


def _bare_url_inline(state, silent: bool) -> bool:
    """Inline rule at "://": a bare URL is one link before emphasis can split it.

    ``https://x.org/a_b*c*`` stays whole (its trailing ``*`` is text), as in the
    dialect, where URLs are plain text. Like markdown-it's linkify rule, it looks back
    into the pending text for the scheme.
    """
    pos = state.pos
    if state.linkLevel > 0 or state.src[pos : pos + 3] != "://":
        return False
    scheme = SCHEME_TAIL.search(state.pending)
    if not scheme:
        return False
    start = pos - len(scheme.group(0))
    match = URL_RE.match(state.src, start)
    url = trim_url(match.group(0)) if match else ""
    if len(url) <= len("https://") or not SAFE_LINK.match(url):
        return False
    if not silent:
        state.pending = state.pending[: -len(scheme.group(0))]
        state.push("link_open", "a", 1).attrs = {"href": url}
        state.tokens[-1].info = "bare"
        state.push("text", "", 0).content = url
        state.push("link_close", "a", -1).info = "bare"
    state.pos = start + len(url)
    return True


def _linked_image(self, tokens, idx, options, env) -> str:
    """An image links to its own URL (readers keep the URL when images are blocked)."""
    html = self.image(tokens, idx, options, env)
    depth = sum(
        1 if t.type == "link_open" else -1 if t.type == "link_close" else 0 for t in tokens[:idx]
    )
    src = tokens[idx].attrs.get("src", "")
    if depth or not SAFE_LINK.match(str(src)):
        return html
    return f'<a href="{escapeHtml(str(src))}">{html}</a>'


def _labelled_fence(self, tokens, idx, options, env) -> str:
    """A fenced block shows its language (```bash) as a caption: the editor wrote it."""
    html = self.fence(tokens, idx, options, env)
    info = tokens[idx].info.strip()
    if not info:
        return html
    return f'<p class="code-lang">{escapeHtml(info)}</p>\n{html}'


def _text(content: str) -> Token:
    return Token("text", "", 0, content=content)


def flattened(text: str) -> list[str]:
    """Lines of ``text`` where quotes or lists nested past ``DEEP`` levels begin
    (their content is rendered flattened); [] for ordinary text, checked cheaply."""
    if not may_nest_deep(text):
        return []
    prepared = prepare(text).split("\n")
    return [
        prepared[tok.map[0]]
        for tok in tokens(text)
        if tok.type == "paragraph_open" and tok.meta.get("flattened") and tok.map
    ]


def keep_link(url: str) -> str:
    """A link's URL as the editor wrote it: markdown-it would punycode its host and
    percent-encode its other letters (``bücher`` -> ``xn--bcher-kva``, ``%C3%BC``),
    and readers, like the loss check, look for the URL they wrote. Only spaces and
    control characters are percent-encoded (the HTML writer escapes the rest)."""
    from urllib.parse import quote

    return "".join(
        quote(ch, safe="") if ch.isspace() or ord(ch) < 32 or ch == "\x7f" else ch for ch in url
    )


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": False})
    md.disable("reference")  # a definition is text: it may sit apart from its link
    md.validateLink = lambda url: bool(SAFE_LINK.match(url.strip()))
    md.normalizeLink = keep_link
    md.inline.ruler.after("text", "bare_url", _bare_url_inline)
    md.add_render_rule("image", _linked_image)
    md.add_render_rule("fence", _labelled_fence)
    md.block.ruler.before("table", "too_deep", too_deep)
    md.core.ruler.after("inline", "flat_inline", flat_inline)
    md.core.ruler.before("text_join", "bare_urls", _bare_urls)
    md.core.ruler.at("text_join", join_text)
    return md


def fence_shell(text: str) -> str:
    """Wrap runs of backslash-continued lines (shell commands) in code fences."""
    lines = text.split("\n")
    out: list[str] = []
    fences = Fences()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not fences.step(line) and CONTINUED.search(line):
            j = i
            while j + 1 < len(lines) and CONTINUED.search(lines[j]) and lines[j + 1].strip():
                j += 1
            out += _fenced(lines[i : j + 1])
            i = j + 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def _fenced(run: list[str]) -> list[str]:
    """A run of continued lines as a code fence; an inline code span around it
    (`` 运行 `pip install x && \\ ... y` ``) gives up its backticks, and the words before
    it stay a line of text."""
    first, last = run[0], run[-1].rstrip()
    ticks = sum(line.count("`") for line in run)
    if ticks == 2 and first.count("`") == 1 and last.endswith("`") and not last.endswith("``"):
        before, _, code = first.partition("`")
        body = [code, *run[1:-1], last[:-1]]  # two lines at least: the first ends in a backslash
        return ([before.rstrip()] if before.strip() else []) + ["```", *body, "```"]
    return ["```", *run, "```"]


BOLD_COLON = re.compile(r"\*\*([^*\n]+?)([：:])\*\*(?=[^\s*])")


def prepare(text: str) -> str:
    """What the editor meant: shell runs fenced, ``**Q：**正文`` bold (CommonMark says no)."""
    out = []
    for line, code in mark(fence_shell(text).split("\n")):
        if not code and "**" in line:
            line = BOLD_COLON.sub(r"**\1**\2", line)
        out.append(line)
    return "\n".join(out)


@lru_cache(maxsize=1 << 17)
def tokens(text: str) -> tuple:
    """Parsed once per text for every output format (callers must not change them).

    Every text of an issue stays parsed until :func:`forget_parsed` (after a render):
    a smaller cache, walked through in order by each renderer, would keep none of
    them for the next one on a large issue."""
    return tuple(parser().parse(prepare(text)))


def forget_parsed() -> None:
    """Free the parsed texts (a render is done with them)."""
    tokens.cache_clear()


def tree(text: str) -> SyntaxTreeNode:
    return SyntaxTreeNode(list(tokens(text)))


def to_html(text: str) -> str:
    """Markdown -> HTML (raw HTML escaped, unsafe links left as text)."""
    md = parser()
    return md.renderer.render(list(tokens(text)), md.options, {})


def node_text(node: SyntaxTreeNode) -> str:
    """What a reader sees of a parsed span or block: its text, entities decoded, no markup."""
    if node.type in ("text", "text_special", "code_inline", "fence", "code_block"):
        return node.content
    if node.type in ("softbreak", "hardbreak"):
        return " "
    if node.type == "image":
        return "".join(c.content for c in node.children) if node.children else ""
    parts = [node_text(child) for child in node.children]
    block = node.is_root or (node.block and node.type != "inline")
    return (" " if block else "").join(parts)


def plain_text(text: str) -> str:
    """Markdown as the one line of text a reader sees (for previews and titles)."""
    return " ".join(node_text(tree(text)).split())


LINE_START = re.compile(r"^( {0,3})([#>]|[-+*](?=\s|$)|\d{1,9}[.)](?=\s|$)|=+\s*$|\[[^\]]*\]:)")


class MarkdownWriter:
    """Write a markdown-it syntax tree back as Markdown. Subclass to change links."""

    hard_break = "\\\n"
    max_list_depth = 0  # 0: unlimited; 2: deeper lists are flattened

    def __init__(self) -> None:
        self.list_depth = 0

    # -- entry points --------------------------------------------------------
    def write(self, text: str) -> str:
        return self.blocks(tree(text)).strip("\n")

    def blocks(self, node: SyntaxTreeNode, tight: bool = False) -> str:
        parts = [self.block(child) for child in node.children]
        return ("\n" if tight else "\n\n").join(p for p in parts if p is not None)

    # -- blocks --------------------------------------------------------------
    def block(self, node: SyntaxTreeNode) -> str | None:
        kind = node.type
        if kind == "paragraph":
            return self.paragraph(self.inline(node.children[0]))
        if kind == "heading":
            return self.heading(int(node.tag[1]), self.inline(node.children[0]))
        if kind in ("bullet_list", "ordered_list"):
            return self.list(node)
        if kind == "blockquote":
            inner = self.blocks(node)
            return "\n".join("> " + ln if ln else ">" for ln in inner.split("\n"))
        if kind in ("fence", "code_block"):
            return self.code(node.content, node.info.strip() if kind == "fence" else "")
        if kind == "hr":
            return "---"
        if kind == "html_block":
            return self.escape(node.content.rstrip("\n"))
        return self.blocks(node)

    def paragraph(self, text: str) -> str:
        return "\n".join(self.guard_line(ln) for ln in text.split("\n"))

    def heading(self, level: int, text: str) -> str:
        return "#" * level + " " + text.replace("\n", " ")

    def code(self, content: str, info: str) -> str:
        ticks = "```"
        while ticks in content:
            ticks += "`"
        return f"{ticks}{info}\n{content.rstrip(chr(10))}\n{ticks}"

    def list(self, node: SyntaxTreeNode) -> str:
        ordered = node.type == "ordered_list"
        start = int(node.attrs.get("start", 1)) if ordered else 1
        tight = all(
            getattr(p, "hidden", False)
            for item in node.children
            for p in item.children
            if p.type == "paragraph"
        )
        flatten = self.max_list_depth and self.list_depth >= self.max_list_depth
        self.list_depth += 1
        try:
            out = []
            for n, item in enumerate(node.children):
                marker = f"{start + n}." if ordered else "-"
                body = self.blocks(item, tight=tight)
                if flatten:
                    out.append(f"· {body}" if not ordered else f"{start + n}) {body}")
                    continue
                pad = " " * (len(marker) + 1)
                lines = body.split("\n")
                first = f"{marker} {lines[0]}" if lines[0] else marker
                out.append("\n".join([first] + [pad + ln if ln else "" for ln in lines[1:]]))
        finally:
            self.list_depth -= 1
        return ("\n" if tight or flatten else "\n\n").join(out)

    # -- inline --------------------------------------------------------------
    def inline(self, node: SyntaxTreeNode) -> str:
        return "".join(self.span(child) for child in node.children)

    def span(self, node: SyntaxTreeNode) -> str:
        kind = node.type
        if kind == "text":
            return self.text(node.content, node.meta.get("escaped"))
        if kind == "text_special":
            return self.escape(node.content)
        if kind == "softbreak":
            return "\n"
        if kind == "hardbreak":
            return self.hard_break
        if kind == "code_inline":
            return self.code_span(node.content)
        if kind == "strong":
            return self.strong(self.inline(node))
        if kind == "em":
            return self.em(self.inline(node))
        if kind == "link":
            href = node.attrs.get("href", "")
            if node.info == "bare":
                return self.bare_url(href)
            return self.link(self.inline(node), href, node.attrs.get("title") or "")
        if kind == "image":
            alt = "".join(c.content for c in node.children) if node.children else ""
            return self.image(alt, node.attrs.get("src", ""))
        if kind == "html_inline":
            return self.escape(node.content)
        return self.inline(node) if node.children else self.escape(node.content)

    def code_span(self, content: str) -> str:
        ticks = "`"
        while ticks in content:
            ticks += "`"
        pad = " " if content.startswith("`") or content.endswith("`") else ""
        return f"{ticks}{pad}{content}{pad}{ticks}"

    def strong(self, text: str) -> str:
        return f"**{text}**" if text.strip() else text

    def em(self, text: str) -> str:
        return f"*{text}*" if text.strip() else text

    def link(self, text: str, url: str, title: str) -> str:
        target = f"<{url}>" if re.search(r"[\s()<>]", url) else url
        return f"[{text}]({target})"

    def bare_url(self, url: str) -> str:
        return f"<{url}>"

    def image(self, alt: str, url: str) -> str:
        return f"![{self.escape(alt)}]({url})"

    # -- escaping ------------------------------------------------------------
    ESCAPE = re.compile(r"([\\`*\[\]])")
    ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}

    def text(self, content: str, escaped: list[int] | None = None) -> str:
        """A text span; the characters at ``escaped`` were escaped in the source and
        are escaped again (outside text stays literal in every Markdown output)."""
        if not escaped:
            return self.escape(content)
        out, pos = [], 0
        for i in escaped:
            out += [self.escape(content[pos:i]), self.escaped(content[i])]
            pos = i + 1
        out.append(self.escape(content[pos:]))
        return "".join(out).replace("\\](", "\\]\\(")  # no "](" for any link pattern

    def escaped(self, char: str) -> str:
        """One ASCII punctuation character, escaped whatever its context (a writer
        whose ``escape`` leaves markup alone writes plain text: the character alone)."""
        if self.escape("*") == "*":  # plain text or HTML: the writer's own escaping
            return self.escape(char)
        return self.ENTITIES.get(char, "\\" + char)

    def plain(self, text: str) -> str:
        """Plain text (a title, a source name) as Markdown that shows exactly it: one
        line, markup escaped, no URL or domain name a linkifier would link, and
        nothing at its start that opens a block."""
        return self.guard_line(defuse_links(self.escape(" ".join(text.split()))))

    def escape(self, text: str) -> str:
        text = self.ESCAPE.sub(r"\\\1", text).replace("](", "]\\(")
        text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)
        text = re.sub(r"&(?=#?\w+;)", "&amp;", text)
        return text.replace("<", "&lt;").replace(">", "&gt;")

    def guard_line(self, line: str) -> str:
        """Escape what would make a paragraph line start a block (list, heading ...)."""
        m = LINE_START.match(line)
        if not m:
            return line
        lead, mark = m.group(1), m.group(2)
        if mark[0].isdigit():
            digits = re.match(r"\d+", mark).group(0)
            return lead + digits + "\\" + line[len(lead) + len(digits) :]
        return lead + "\\" + line[len(lead) :]
