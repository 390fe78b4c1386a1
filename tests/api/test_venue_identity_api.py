"""The venue's identity: set by its admin, shown to anyone; the logo checked by its content and size."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from tests.builders import Builders


def image(kind: str, size: tuple[int, int] = (64, 32), noise: bool = False) -> bytes:
    picture = Image.new("RGB", size, (11, 61, 145))
    if noise:  # random pixels do not compress: a big file from a modest image
        picture = Image.frombytes("RGB", size, random.Random(1).randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    picture.save(out, format=kind)
    return out.getvalue()


def test_a_new_venue_shows_its_name_and_the_country_of_its_time_zone(make: Builders) -> None:
    orq = make.org("Rijksmuseum", "Europe/Amsterdam")
    venue = make.client.get(f"/api/venues/{orq}").json()
    assert venue == {
        "orq": orq,
        "name": "Rijksmuseum",
        "display_name": None,
        "address": None,
        "opening_hours": None,
        "brand_colour": None,
        "brand_text_colour": None,
        "country": "NL",
        "country_is_default": True,
        "calling_code": 31,
        "logo_url": None,
        "default_language": "en",
    }
    assert make.client.get(f"/api/venues/{make.org('Met', 'America/New_York')}").json()["country"] == "US"
    assert make.client.get(f"/api/venues/{make.org('Lab', 'UTC')}").json()["country"] is None


def test_an_admin_sets_the_identity_and_visitors_see_it(make: Builders) -> None:
    orq = make.org("museum-ams-01")
    headers = make.admin(orq).headers
    body = {
        "display_name": "City Museum",
        "address": "Museumplein 1\n1071 DJ Amsterdam",
        "opening_hours": "Daily 09:00\u201317:00",
        "brand_colour": "#0B3D91",
        "country": "be",
    }
    response = make.client.patch(f"/api/organizations/{orq}/identity", json=body, headers=headers)
    assert response.status_code == 200, response.text
    venue = make.client.get(f"/api/venues/{orq}").json()
    assert venue["name"] == "City Museum"
    assert venue["address"] == "Museumplein 1\n1071 DJ Amsterdam"
    assert (venue["brand_colour"], venue["brand_text_colour"]) == ("#0b3d91", "#ffffff")
    assert (venue["country"], venue["calling_code"]) == ("BE", 32)
    admin_view = make.client.get(f"/api/organizations/{orq}", headers=headers).json()
    assert admin_view["name"] == "museum-ams-01"
    assert admin_view["identity"] == venue

    # A light colour gets dark text; clearing the country falls back to the time zone's.
    make.client.patch(
        f"/api/organizations/{orq}/identity",
        json={"brand_colour": "#ffd500", "country": None},
        headers=headers,
    )
    venue = make.client.get(f"/api/venues/{orq}").json()
    assert (venue["brand_text_colour"], venue["country"]) == ("#000000", "NL")


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"brand_colour": "blue"}, "brand_colour"),
        ({"brand_colour": "#12345"}, "brand_colour"),
        ({"country": "XX"}, "country"),
        ({"display_name": "Line\nbreak"}, "display_name"),
        ({"display_name": "x" * 201}, "display_name"),
        ({"logo": "x"}, "logo"),
        ({"brand_colour": 123}, "brand_colour"),
    ],
)
def test_bad_identity_values_are_refused_naming_the_field_and_change_nothing(
    make: Builders, patch: dict[str, object], field: str
) -> None:
    orq = make.org()
    headers = make.admin(orq).headers
    make.client.patch(f"/api/organizations/{orq}/identity", json={"display_name": "Kept"}, headers=headers)
    response = make.client.patch(
        f"/api/organizations/{orq}/identity", json={"address": "Not written", **patch}, headers=headers
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in str(error["details"])
    venue = make.client.get(f"/api/venues/{orq}").json()
    assert (venue["name"], venue["address"]) == ("Kept", None)


def test_only_the_venues_own_admin_changes_its_identity(make: Builders) -> None:
    orq, other = make.org(), make.org("Zoo")
    response = make.client.patch(
        f"/api/organizations/{orq}/identity",
        json={"display_name": "Taken"},
        headers=make.admin(other).headers,
    )
    assert response.status_code == 404
    assert (
        make.client.patch(f"/api/organizations/{orq}/identity", json={"display_name": "x"}).status_code == 401
    )


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_a_logo_is_uploaded_served_with_its_type_and_cached_by_its_tag(make: Builders, kind: str) -> None:
    orq = make.org()
    headers = make.admin(orq).headers
    data = image(kind)
    # The declared type is not trusted: the bytes decide.
    response = make.client.put(
        f"/api/organizations/{orq}/logo", content=data, headers={**headers, "Content-Type": "text/plain"}
    )
    assert response.status_code == 200, response.text
    logo_url = response.json()["logo_url"]
    assert logo_url.startswith(f"/o/{orq}/logo?v=")
    assert make.client.get(f"/api/venues/{orq}").json()["logo_url"] == logo_url

    served = make.client.get(logo_url)
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == f"image/{kind.lower()}"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "public" in served.headers["cache-control"]
    again = make.client.get(logo_url, headers={"If-None-Match": served.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")

    # A new logo gets a new address; removing it leaves none.
    replaced = make.client.put(
        f"/api/organizations/{orq}/logo", content=image(kind, (40, 40)), headers=headers
    )
    assert replaced.json()["logo_url"] != logo_url
    assert make.client.delete(f"/api/organizations/{orq}/logo", headers=headers).json()["logo_url"] is None
    assert make.client.get(f"/o/{orq}/logo").status_code == 404


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (SVG, 422, "VALIDATION_ERROR"),
        (b"GIF89a" + b"\x00" * 100, 422, "VALIDATION_ERROR"),
        (b"", 422, "VALIDATION_ERROR"),
        (b"<html><body>hello</body></html>", 422, "VALIDATION_ERROR"),
        (None, 413, "PAYLOAD_TOO_LARGE"),  # a real PNG over 256 KiB
    ],
)
def test_a_logo_of_another_type_or_too_big_is_refused_and_the_old_one_kept(
    make: Builders, data: bytes | None, status: int, code: str
) -> None:
    orq = make.org()
    headers = make.admin(orq).headers
    kept = make.client.put(f"/api/organizations/{orq}/logo", content=image("PNG"), headers=headers).json()
    if data is None:
        data = image("PNG", (320, 320), noise=True)
        assert len(data) > 256 * 1024
    response = make.client.put(
        f"/api/organizations/{orq}/logo", content=data, headers={**headers, "Content-Type": "image/png"}
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert make.client.get(f"/api/venues/{orq}").json()["logo_url"] == kept["logo_url"]


def test_a_venue_without_a_logo_or_unknown_answers_404(make: Builders) -> None:
    orq = make.org()
    assert make.client.get(f"/o/{orq}/logo").json()["error"]["code"] == "ORGANIZATION_NOT_FOUND"
    assert make.client.get("/api/venues/999999").status_code == 404
