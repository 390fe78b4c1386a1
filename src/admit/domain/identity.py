"""A venue's identity as visitors see it: brand colour and its readable text colour, the logo's type."""

from __future__ import annotations

import re

MAX_LOGO_BYTES = 256 * 1024
MAX_DISPLAY_NAME = 200
MAX_ADDRESS = 500
MAX_OPENING_HOURS = 1000

_COLOUR = re.compile(r"#[0-9a-f]{6}")
DARK_TEXT = "#000000"
LIGHT_TEXT = "#ffffff"

# The type is read from the first bytes, never from a file name or a declared type. SVG is refused:
# it is a document that can carry script, and a raster logo is all a header and a ticket need.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def normalise_colour(value: str) -> str | None:
    """`#rrggbb` in small letters, or None when the value is not one."""
    colour = value.strip().lower()
    return colour if _COLOUR.fullmatch(colour) else None


def _luminance(colour: str) -> float:
    """Relative luminance per WCAG 2 of a `#rrggbb` colour."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_colour_on(background: str) -> str:
    """Black or white, whichever reads better on the brand colour (one of them always reaches 4.5:1)."""
    if contrast_ratio(background, DARK_TEXT) >= contrast_ratio(background, LIGHT_TEXT):
        return DARK_TEXT
    return LIGHT_TEXT


def logo_type(data: bytes) -> str | None:
    """The image type by content (PNG or JPEG), or None for anything else."""
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    return None
