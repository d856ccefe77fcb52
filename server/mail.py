"""Outgoing mail: invitation and reset links, sent only when TANDEM_SMTP_URL is set.

TANDEM_SMTP_URL is smtp://user:password@host:587 (STARTTLS when the server offers it),
smtps://user:password@host:465 (TLS from the start) or smtp://host:25 (no login). Sending
runs in a thread so the event loop never waits on a mail server; a failure is logged and
reported as "not sent", never as an error of the request that made the link.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from server.settings import get_settings

log = logging.getLogger("tandem.mail")

SMTP_TIMEOUT_SECONDS = 10


def _send_sync(smtp_url: str, sender: str, to: str, subject: str, body: str) -> None:
    url = urlsplit(smtp_url)
    if url.scheme not in ("smtp", "smtps"):
        raise ValueError("TANDEM_SMTP_URL must start with smtp:// or smtps://")
    host = url.hostname or "localhost"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if url.scheme == "smtps":
        client = smtplib.SMTP_SSL(
            host, url.port or 465, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        client = smtplib.SMTP(host, url.port or 25, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        client.ehlo()
        if url.scheme == "smtp" and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)


async def send(to: str, subject: str, body: str) -> bool:
    """Send one plain-text mail if SMTP is configured; True if it was handed over."""
    s = get_settings()
    if not s.smtp_url:
        return False
    try:
        await asyncio.to_thread(_send_sync, s.smtp_url, s.mail_from, to, subject, body)
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        log.warning("mail to %s not sent: %s", to, exc)
        return False
    return True
