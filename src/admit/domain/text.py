"""Text from data that ends up in one line of something else (an e-mail header, a log line)."""

from __future__ import annotations

import re

# C0 and C1 controls (CR and LF among them), DEL, and Unicode's own line and paragraph separators:
# each can end a header line or hide what follows it.
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control_characters(text: str) -> bool:
    return _LINE_BREAKING.search(text) is not None


def one_line(text: str) -> str:
    """The text with every control character made a space, and runs of spaces made one."""
    return " ".join(_LINE_BREAKING.sub(" ", text).split())
