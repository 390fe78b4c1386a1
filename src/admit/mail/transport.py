"""Where messages go: an SMTP server (STARTTLS and login when configured), or .eml files in a folder."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from admit.files import write_private
from admit.settings import Settings

# Errors that mean "try again later", as opposed to a bug in the message.
DELIVERY_ERRORS = (OSError, smtplib.SMTPException)


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
            smtp.send_message(message)


class FolderTransport:
    """The embedded default: every message becomes a file a demo can open."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        name = str(message["Message-ID"]).strip("<>").replace("@", "_").replace("/", "_")
        write_private(self.folder / f"{name}.eml", bytes(message))  # it holds the visitor's ticket code


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
