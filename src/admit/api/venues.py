"""What anyone may see of a venue: its identity for the visitor's pages, and its logo."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from admit import errors
from admit.api.deps import SessionDep
from admit.api.organizations import IdentityOut
from admit.api.schemas import MAX_ID
from admit.i18n import N_
from admit.services import identity

router = APIRouter(tags=["venues"])

OrqPath = Annotated[int, Path(ge=1, le=MAX_ID)]

# The address carries the logo's tag (?v=…), so a copy may be kept for long; a plain request still
# revalidates within the hour. The image is served as an image only, never as a document.
LOGO_HEADERS = {
    "Cache-Control": "public, max-age=3600",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


@router.get("/api/venues/{orq}")
def get_venue(orq: OrqPath, session: SessionDep) -> IdentityOut:
    """The venue's name, address, opening hours, brand colours, country and logo address."""
    return IdentityOut.of(identity.load_identity(session, orq))


@router.get("/o/{orq}/logo", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def get_logo(orq: OrqPath, request: Request, session: SessionDep) -> Response:
    logo = identity.find_logo(session, orq)
    if logo is None:
        raise errors.OrganizationNotFound(N_("This venue has no logo."))
    etag = f'"{logo.etag}"'
    headers = {**LOGO_HEADERS, "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(logo.data, media_type=logo.content_type, headers=headers)
