"""A real SMTP server (aiosmtpd) on a loopback port, which can be stopped and started again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from admit.context import AppContext
from admit.mail.compose import Sender
from admit.mail.sender import MailContext
from admit.mail.transport import SmtpTransport
from tests.nodes import free_port


@dataclass
class Inbox:
    """What the server received, parsed."""

    messages: list[EmailMessage] = field(default_factory=list)
    mail_options: list[list[str]] = field(default_factory=list)  # per message, e.g. ["SMTPUTF8", ...]
    # Recipients this server refuses, with its answer, e.g. "550 5.1.1 No such user".
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.mail_options.append(list(envelope.mail_options))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int, *, smtputf8: bool = True) -> None:
        self.port = port
        self.smtputf8 = smtputf8
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=self.smtputf8
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_ascii_only() -> Iterator[SmtpServer]:
    """A server that does not offer SMTPUTF8 (internationalised addresses)."""
    server = SmtpServer(free_port(), smtputf8=False)
    server.start()
    yield server
    server.stop()


def mail_context(context: AppContext, port: int) -> MailContext:
    """The sender as `admit mail` builds it, pointed at a loopback SMTP port (no TLS on loopback)."""
    transport = SmtpTransport(host="127.0.0.1", port=port, user="", password="", starttls=False, timeout=5)
    sender = Sender(
        mail_from="Demo Museum <tickets@museum.example>", public_url="https://tickets.museum.example"
    )
    return MailContext(context.sessions, context.clock, context.keys, transport, sender, context.offline)


@pytest.fixture
def mail(context: AppContext, smtp: SmtpServer) -> MailContext:
    return mail_context(context, smtp.port)
