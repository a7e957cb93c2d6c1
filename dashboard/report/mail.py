"""Sending the report by e-mail (`inward report --email TO --smtp HOST[:PORT]`).

Standard library only (smtplib, email). STARTTLS is used when the server offers
it; credentials come from the environment (INWARD_SMTP_USER and
INWARD_SMTP_PASSWORD), never from the command line where `ps` would show them.
"""

from __future__ import annotations

import os
import smtplib
import socket
from collections.abc import Sequence
from email.message import EmailMessage

DEFAULT_PORT = 25
TIMEOUT_S = 30


class MailError(RuntimeError):
    """The report could not be sent."""


def parse_server(text: str) -> tuple[str, int]:
    """'smtp.example.com:587' → ('smtp.example.com', 587); the port defaults to 25."""
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, DEFAULT_PORT
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--smtp: expected HOST or HOST:PORT, got {text!r}")
    return host, int(port)


def message(
    to: Sequence[str],
    sender: str,
    subject: str,
    body: str,
    attachment: bytes,
    filename: str,
    mime: str,
) -> EmailMessage:
    """A plain-text message (the headline, so the point is in the inbox preview) with
    the report attached."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg.set_content(body)
    maintype, subtype = mime.split("/", 1)
    if maintype == "text":  # as text with charset=utf-8, so mail clients decode it right
        msg.add_attachment(attachment.decode("utf-8"), subtype=subtype, filename=filename)
    else:
        msg.add_attachment(attachment, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def send(msg: EmailMessage, server: str) -> None:
    """Deliver `msg` through `server` (HOST[:PORT])."""
    host, port = parse_server(server)
    user, password = os.environ.get("INWARD_SMTP_USER"), os.environ.get("INWARD_SMTP_PASSWORD")
    try:
        cls = smtplib.SMTP_SSL if port == 465 else smtplib.SMTP
        with cls(host, port, timeout=TIMEOUT_S) as smtp:
            if cls is smtplib.SMTP:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls()
                    smtp.ehlo()
            if user:
                smtp.login(user, password or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"could not send the report through {host}:{port}: {exc}") from exc


def default_sender() -> str:
    """$INWARD_SMTP_FROM, else inward@<this host>."""
    return os.environ.get("INWARD_SMTP_FROM") or f"inward@{socket.getfqdn() or 'localhost'}"
