"""The venue's identity rules: readable text on any brand colour, the logo's type by its bytes, countries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from admit.domain.countries import calling_code, country_of_timezone, is_country
from admit.domain.identity import contrast_ratio, logo_type, normalise_colour, text_colour_on

colours = st.integers(min_value=0, max_value=0xFFFFFF).map(lambda n: f"#{n:06x}")


@given(colours)
def test_the_text_colour_on_any_brand_colour_reaches_wcag_aa(colour: str) -> None:
    assert contrast_ratio(colour, text_colour_on(colour)) >= 4.5


@pytest.mark.parametrize(
    ("colour", "text"),
    [("#0b3d91", "#ffffff"), ("#ffd500", "#000000"), ("#000000", "#ffffff"), ("#ffffff", "#000000")],
)
def test_dark_colours_get_white_text_and_light_ones_black(colour: str, text: str) -> None:
    assert text_colour_on(colour) == text


@pytest.mark.parametrize(
    ("value", "expected"),
    [("#0B3D91", "#0b3d91"), (" #abcdef ", "#abcdef"), ("0b3d91", None), ("#abc", None), ("red", None)],
)
def test_a_brand_colour_is_six_hex_digits(value: str, expected: str | None) -> None:
    assert normalise_colour(value) == expected


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n rest", "image/png"),
        (b"\xff\xd8\xff\xe0 rest", "image/jpeg"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"GIF89a", None),
        (b"", None),
        (b"\x89PNG", None),  # a cut-off signature
    ],
)
def test_a_logo_is_typed_by_its_first_bytes(data: bytes, kind: str | None) -> None:
    assert logo_type(data) == kind


def test_a_time_zone_gives_its_country_from_the_tz_database() -> None:
    assert country_of_timezone("Europe/Amsterdam") == "NL"
    assert country_of_timezone("America/Argentina/Buenos_Aires") == "AR"
    assert country_of_timezone("Etc/UTC") is None
    assert is_country("BE") and not is_country("XX")
    assert (calling_code("BE"), calling_code("AQ")) == (32, None)  # Antarctica has no plan of its own
