"""Sending one email: through SMTP (the standard library's smtplib), or, without
`MAIL_SERVER` (the embedded default), by writing it as an `.eml` file under
`instance/mail/` so that `make run` shows what would have been sent.

Messages are `email.message.EmailMessage` objects (plain text plus an HTML alternative), built
by the standard library, never by hand.
"""

from __future__ import annotations

import os
import smtplib
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

SMTP_TIMEOUT_SECONDS = 15


def build_message(
    *, sender: str, to: str, subject: str, text: str, html: str, message_id: str, language: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    # The same notification always has the same Message-ID, so a copy sent again after a
    # crash is recognisable as the same mail.
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    # After the content: set_content clears the Content-* headers.
    message["Content-Language"] = language
    return message


class SmtpMailer:
    """Sends through an SMTP server (STARTTLS and login when configured)."""

    def __init__(self, host: str, port: int, *, use_tls=False, username="", password=""):
        self.host, self.port = host, port
        self.use_tls, self.username, self.password = use_tls, username, password

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if self.use_tls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


class FileMailer:
    """Writes each message to `<directory>/<message id>.eml` (written whole, then renamed)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-." else "_" for c in message["Message-ID"])
        target = self.directory / f"{name.strip('_')}.eml"
        partial = target.with_suffix(".eml.partial")
        partial.write_bytes(bytes(message))
        os.replace(partial, target)


def mailer_for(config, instance_path: str):
    """The SMTP mailer when MAIL_SERVER is set, else the `.eml` file writer."""
    if config.get("MAIL_SERVER"):
        return SmtpMailer(
            config["MAIL_SERVER"],
            int(config.get("MAIL_PORT") or 25),
            use_tls=bool(config.get("MAIL_USE_TLS")),
            username=config.get("MAIL_USERNAME") or "",
            password=config.get("MAIL_PASSWORD") or "",
        )
    return FileMailer(Path(instance_path) / "mail")
