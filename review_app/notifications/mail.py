"""Sending e-mail through the SMTP server the environment names (README: SMTP_*).

Without ``SMTP_HOST`` nothing is sent -- development never mails anyone unless configured.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any


class MailNotConfigured(RuntimeError):
    """No SMTP_HOST: mail is switched off."""


def configured(config: Mapping[str, Any]) -> bool:
    return bool(config.get("SMTP_HOST"))


def message(config: Mapping[str, Any], to: str, name: str, subject: str,
            body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.get("MAIL_FROM") or "noreply@localhost"
    msg["To"] = formataddr((name, to))
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=str(msg["From"]).rsplit("@", 1)[-1].strip(">"))
    msg.set_content(body, charset="utf-8")
    return msg


class Mailer:
    """One SMTP connection for a batch of messages (the digest sends hundreds at once)."""

    def __init__(self, config: Mapping[str, Any]):
        if not configured(config):
            raise MailNotConfigured("SMTP_HOST is not set")
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        c = self.config
        if c.get("SMTP_SSL"):
            self.smtp = smtplib.SMTP_SSL(c["SMTP_HOST"], c["SMTP_PORT"],
                                         timeout=c.get("SMTP_TIMEOUT", 30),
                                         context=ssl.create_default_context())
        else:
            self.smtp = smtplib.SMTP(c["SMTP_HOST"], c["SMTP_PORT"],
                                     timeout=c.get("SMTP_TIMEOUT", 30))
            if c.get("SMTP_STARTTLS"):
                self.smtp.starttls(context=ssl.create_default_context())
        if c.get("SMTP_USERNAME"):
            self.smtp.login(c["SMTP_USERNAME"], c.get("SMTP_PASSWORD", ""))
        return self

    def send(self, msg: EmailMessage) -> None:
        assert self.smtp is not None
        self.smtp.send_message(msg)

    def __exit__(self, *exc) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except smtplib.SMTPException:
                self.smtp.close()
