"""Cleaning Markdown written by a model: no raw HTML, script or unsafe link survives.

Fenced code blocks (a fence opening a line) and code spans are kept as they are: every Markdown
renderer shows their content as text, and lessons about HTML need to show tags. Everything else
is prose and goes through nh3 (ammonia) with no tag allowed: tags are dropped, ``<script>`` and
``<style>`` lose their content, and stray ``<``/``>``/``&`` are escaped. Then the Markdown that
escaping would break is restored (``>`` opening a blockquote, ``<https://…>`` autolinks) and
links with a script target (inline or reference-style) are defused.

Indented code blocks are not recognised: they are cleaned as prose, so ``<`` in them shows as
``&lt;``. The prompts ask for fenced blocks; safety wins over fidelity for the rare exception.
"""

import re

import nh3

_CODE = re.compile(
    r"(?P<fence>^ {0,3}(?P<mark>`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}(?P=mark)[ \t]*$|\Z))"
    r"|(?P<span>(?<![\\`])(?P<ticks>`{1,2})(?!`)[^\n]+?(?<!`)(?P=ticks)(?!`))",
    re.MULTILINE | re.DOTALL,
)
_AUTOLINK = re.compile(r"<(https?://[^\s<>]+)>")
_QUOTE = re.compile(r"^( {0,3})((?:&gt; ?)+)", re.MULTILINE)
_SCRIPT = r"<?\s*(?:javascript|vbscript|data)\s*:"
_INLINE_SCRIPT_LINK = re.compile(rf"\]\(\s*{_SCRIPT}(?:[^()\n]|\([^()\n]*\))*\)", re.IGNORECASE)
_REFERENCE_SCRIPT_LINK = re.compile(
    rf"^( {{0,3}}\[[^\]\n]+\]:[ \t]*){_SCRIPT}\S*", re.IGNORECASE | re.MULTILINE
)


def _prose(text: str) -> str:
    text = _AUTOLINK.sub(r"[\1](\1)", text)
    text = nh3.clean(text, tags=set(), clean_content_tags={"script", "style"})
    text = _QUOTE.sub(lambda m: m.group(1) + m.group(2).replace("&gt;", ">"), text)
    text = _INLINE_SCRIPT_LINK.sub("](#)", text)
    return _REFERENCE_SCRIPT_LINK.sub(r"\1#", text)


def clean_markdown(text: str) -> str:
    """``text`` without raw HTML outside code, and without script links."""
    parts: list[str] = []
    end = 0
    for code in _CODE.finditer(text):
        parts.append(_prose(text[end : code.start()]))
        parts.append(code.group(0))
        end = code.end()
    parts.append(_prose(text[end:]))
    return "".join(parts)
