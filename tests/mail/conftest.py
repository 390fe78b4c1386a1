"""A real SMTP server (aiosmtpd) on a loopback port, which can be stopped and started again."""

from __future__ import annotations

import socket
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


@dataclass
class Inbox:
    """What the server received, parsed."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(_free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail(context: AppContext, smtp: SmtpServer) -> MailContext:
    """The sender as `admit mail` builds it, pointed at the test's SMTP server (no TLS on loopback)."""
    transport = SmtpTransport(
        host="127.0.0.1", port=smtp.port, user="", password="", starttls=False, timeout=5
    )
    sender = Sender(
        mail_from="Demo Museum <tickets@museum.example>", public_url="https://tickets.museum.example"
    )
    return MailContext(context.sessions, context.clock, context.keys, transport, sender)
