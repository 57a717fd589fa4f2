"""Reject text the real Bot API would refuse with parse_mode=HTML ("can't parse entities").

Telegram accepts only a few tags and needs every other ``<``, ``>`` and ``&`` escaped; the fake
enforces that so a handler that forgets to escape user input fails in tests as it would in production.
"""

from __future__ import annotations

import re

_ALLOWED = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a",
            "tg-spoiler", "span", "blockquote", "tg-emoji"}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+=\"[^\"<>]*\")*)\s*>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def html_problem(text: str) -> str | None:
    """Return why Telegram would refuse ``text`` as HTML, or None when it parses."""
    stack: list[str] = []
    pos = 0
    plain: list[str] = []
    for match in _TAG.finditer(text):
        plain.append(text[pos:match.start()])
        pos = match.end()
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name not in _ALLOWED:
            return f"can't parse entities: unsupported start tag \"{name}\""
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return f"can't parse entities: can't find end tag corresponding to start tag \"{name}\""
    plain.append(text[pos:])
    if stack:
        return f"can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\""
    rest = "".join(plain)
    if "<" in rest or ">" in rest:
        return "can't parse entities: unexpected \"<\" or \">\" in text"
    if rest.count("&") != len(_ENTITY.findall(rest)):
        return "can't parse entities: unescaped \"&\""
    return None
