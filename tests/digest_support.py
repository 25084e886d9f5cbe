"""A real SMTP server for the digest tests (aiosmtpd, on a free local port), and a real RQ
worker for the default queue."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from rq import SimpleWorker

from review_app.redis_conn import get_redis


@dataclass
class Inbox:
    """What the server received, as parsed messages."""

    messages: list[email.message.EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def run_default_queue(app: Flask) -> None:
    """A real RQ worker, in this process, until the default queue is empty."""
    with app.app_context():
        SimpleWorker(["default"], connection=get_redis(app)).work(
            burst=True, logging_level="WARNING")
