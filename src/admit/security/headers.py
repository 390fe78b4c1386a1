"""Security headers on every answer: pages, static files, the API and its errors alike."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The pages load only their own scripts, styles and images (the QR image too), and set styles through
# the CSSOM, never inline. The scanner's camera stream is not governed by CSP; its frames are read in a
# canvas, so no blob: or data: source is needed.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# The API reference's vendored stylesheet draws its icons as data: SVG images; images cannot run code.
PAGE_POLICIES = {"/docs": CONTENT_SECURITY_POLICY + "; img-src 'self' data:"}
ALWAYS = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    # Reservation ids and ticket codes are in page addresses: no other site may learn them.
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
)
# Sent only over HTTPS, where browsers honour it: over plain HTTP it would be ignored anyway, and a
# development server on http://127.0.0.1 must stay reachable.
STRICT_TRANSPORT = ("strict-transport-security", "max-age=31536000")


class SecurityHeaders:
    """Add the headers to whatever the application answers, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS:
                    headers[name] = value
                if scope["path"] in PAGE_POLICIES:
                    headers["content-security-policy"] = PAGE_POLICIES[scope["path"]]
                if https:
                    headers[STRICT_TRANSPORT[0]] = STRICT_TRANSPORT[1]
            await send(message)

        await self.app(scope, receive, send_with_headers)
