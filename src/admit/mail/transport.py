"""Where messages go: an SMTP server (STARTTLS and login when configured), or .eml files in a folder."""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol

from admit import errors
from admit.files import write_private
from admit.settings import Settings

# Errors that mean "try again later"; a message that can never go raises errors.Undeliverable.
DELIVERY_ERRORS = (OSError, smtplib.SMTPException)
NO_SMTPUTF8 = "the mail server does not accept internationalised addresses (SMTPUTF8)"


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpTransport:
    def __init__(
        self, *, host: str, port: int, user: str, password: str, starttls: bool, timeout: float = 10
    ) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password
        self.starttls, self.timeout = starttls, timeout

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password)
            smtp.ehlo_or_helo_if_needed()
            if needs_smtputf8(message) and not smtp.has_extn("smtputf8"):
                raise errors.Undeliverable(NO_SMTPUTF8)
            try:
                smtp.send_message(message)
            except smtplib.SMTPRecipientsRefused as exc:
                # 5xx is the server's "never": retrying would only repeat it; 4xx may pass later.
                answers = list(exc.recipients.values())
                if all(code >= 500 for code, _ in answers):
                    refused = "; ".join(f"{code} {_text(reply)}" for code, reply in answers)
                    raise errors.Undeliverable(f"the mail server refused the recipient: {refused}") from exc
                raise
            except smtplib.SMTPDataError as exc:
                if exc.smtp_code >= 500:
                    reply = f"{exc.smtp_code} {_text(exc.smtp_error)}"
                    raise errors.Undeliverable(f"the mail server refused the message: {reply}") from exc
                raise


def needs_smtputf8(message: EmailMessage) -> bool:
    """Whether an address has non-ASCII characters (the test smtplib applies before sending)."""
    fields = [str(message[name]) for name in ("From", "To") if message[name] is not None]
    return not "".join(address for _, address in getaddresses(fields)).isascii()


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


class FolderTransport:
    """The embedded default: every message becomes a file a demo can open."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        name = str(message["Message-ID"]).strip("<>").replace("@", "_").replace("/", "_")
        # An internationalised address is written as UTF-8 (RFC 6532), as SMTPUTF8 would send it.
        policy = email.policy.default.clone(utf8=True) if needs_smtputf8(message) else message.policy
        # It holds the visitor's ticket code: readable by the service's user only.
        write_private(self.folder / f"{name}.eml", message.as_bytes(policy=policy))


def transport_for(settings: Settings) -> Transport:
    if not settings.smtp_host:
        return FolderTransport(settings.mail_dir)
    return SmtpTransport(
        host=settings.smtp_host,
        port=settings.smtp_port,
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )
