"""Cleaning Markdown written by a model (or quoted from research): no live HTML, no script link.

The text is parsed by a CommonMark parser (markdown-it-py, with raw HTML recognised as such) and
written back as Markdown by mdformat's renderer, after these changes to the syntax tree:

- every HTML block and every piece of inline HTML becomes text, so it is written escaped and any
  renderer, HTML enabled or not, shows it as characters (``\\<script>``), never as an element;
- a link or image whose target is not ``http(s)`` — ``javascript:``, ``data:``, relative or
  empty — keeps its text and loses its target;
- with ``allowed_hosts``, a link to any other host is kept as text too (the writer passes the
  hosts of the lesson's sources and of the official documentation registry);
- code spans and code blocks keep their content byte for byte (a fence may grow a backtick so
  the content cannot close it).

Because the output is produced by a renderer from a parse, fence edge cases (a longer closing
fence, a backtick in an info string, an unclosed fence), entity-encoded tags and nesting cannot
smuggle markup through: whatever the parser did not read as code is text or structure.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdformat.renderer import MDRenderer

_PARSER = MarkdownIt("commonmark", {"html": True})
_RENDERER = MDRenderer()
# C0 controls but tab and newline (and DEL): no lesson needs them, and renderers disagree on them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_PASSES = 3
_UNESCAPED_ANGLE = re.compile(r"(?<!\\)((?:\\\\)*)<")


def _escape_every_angle(text: str, node: Any, context: Any) -> str:
    """mdformat escapes ``<`` only where it could open a tag *within one text node*; escape
    every ``<`` that no backslash escapes yet, so no neighbouring text can complete a tag."""
    return _UNESCAPED_ANGLE.sub(r"\1\\<", text)


class _EveryAngleEscaped:
    """An mdformat extension holding the post-processor above."""

    RENDERERS: Mapping[str, Any] = {}
    POSTPROCESSORS: Mapping[str, Any] = {"text": _escape_every_angle}


# mdformat's options: number ordered lists 1, 2, 3 as written, not 1, 1, 1.
_OPTIONS = {
    **_PARSER.options,
    "mdformat": {"number": True},
    "parser_extension": [_EveryAngleEscaped],
}
_SCHEMES = ("http", "https")

HostCheck = Callable[[str], bool]


def links_only_to(hosts: Iterable[str]) -> HostCheck:
    """A host check allowing ``hosts`` and their subdomains."""
    allowed = frozenset(host.lower().removeprefix("www.") for host in hosts if host)

    def check(host: str) -> bool:
        name = host.lower().removeprefix("www.")
        return any(name == a or name.endswith("." + a) for a in allowed)

    return check


def clean_markdown(text: str, allowed_hosts: HostCheck | None = None) -> str:
    """``text`` as Markdown without raw HTML or unsafe links (see the module docstring).

    The result is parsed again and cleaned again until nothing is left to clean: a renderer's
    rewriting (a code span across lines, say) must not open a door the first pass closed.
    """
    cleaned = _CONTROL.sub(" ", text)
    for _ in range(_PASSES):
        cleaned = _clean_once(cleaned, allowed_hosts)
        if not _needs_cleaning(_PARSER.parse(cleaned), allowed_hosts):
            return cleaned.rstrip("\n") + ("\n" if text.endswith("\n") else "")
    return cleaned.replace("<", "\\<")  # never reached in the property tests; stay safe anyway


def _clean_once(text: str, allowed_hosts: HostCheck | None) -> str:
    tokens = [_cleaned_block(token, allowed_hosts) for token in _PARSER.parse(text)]
    rendered: str = _RENDERER.render([token for block in tokens for token in block], _OPTIONS, {})
    return rendered


def _needs_cleaning(tokens: list[Token], allowed_hosts: HostCheck | None) -> bool:
    for token in tokens:
        if token.type in ("html_block", "html_inline"):
            return True
        if token.type in ("link_open", "image"):
            target = token.attrGet("href" if token.type == "link_open" else "src")
            if not _safe(target, allowed_hosts):
                return True
        if token.children and _needs_cleaning(token.children, allowed_hosts):
            return True
    return False


def _cleaned_block(token: Token, allowed_hosts: HostCheck | None) -> list[Token]:
    if token.type == "html_block":
        return _paragraph(token.content)
    if token.type == "inline" and token.children is not None:
        token.children = _cleaned_inline(token.children, allowed_hosts)
    return [token]


def _cleaned_inline(children: Iterable[Token], allowed_hosts: HostCheck | None) -> list[Token]:
    """The inline tokens with HTML as text and unsafe links unlinked, neighbouring texts joined
    (split texts would each be escaped alone: ``<`` + ``script>`` must be escaped as one)."""
    joined: list[Token] = []
    for token in _unlinked(children, allowed_hosts):
        if token.type == "text" and joined and joined[-1].type == "text":
            joined[-1].content += token.content
        else:
            joined.append(token)
    return joined


def _unlinked(children: Iterable[Token], allowed_hosts: HostCheck | None) -> Iterable[Token]:
    kept_links: list[bool] = []  # for each open link: whether its target survives
    for token in children:
        if token.type == "html_inline":
            yield from _text(token.content)
        elif token.type == "link_open":
            kept_links.append(_safe(token.attrGet("href"), allowed_hosts))
            if kept_links[-1]:
                yield token
        elif token.type == "link_close":
            if kept_links.pop():
                yield token
        elif token.type == "image" and not _safe(token.attrGet("src"), allowed_hosts):
            yield from _text(token.content)
        else:
            yield token


def _safe(target: object, allowed_hosts: HostCheck | None) -> bool:
    if not isinstance(target, str):
        return False
    try:
        parts = urlsplit(target.strip())
    except ValueError:
        return False
    if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
        return False
    return allowed_hosts is None or allowed_hosts(parts.hostname.lower())


def _text(raw: str) -> list[Token]:
    """Plain text tokens (lines joined by soft breaks), which the renderer escapes."""
    tokens: list[Token] = []
    for number, line in enumerate(raw.rstrip("\n").split("\n")):
        if number:
            tokens.append(Token("softbreak", "br", 0))
        text = Token("text", "", 0)
        text.content = line
        tokens.append(text)
    return tokens


def _paragraph(raw: str) -> list[Token]:
    opening, closing = Token("paragraph_open", "p", 1), Token("paragraph_close", "p", -1)
    opening.block = closing.block = True
    inline = Token("inline", "", 0)
    inline.content = raw
    inline.children = _text(raw)
    return [opening, inline, closing]
