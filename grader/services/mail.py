"""Outgoing mail: set-password links, through SMTP when ``GRADER_SMTP_URL`` is set.

The standard library's ``smtplib`` and ``email`` (nothing to install): ``smtp://`` uses
STARTTLS when the server offers it, ``smtps://`` TLS from the start; user and password
come from the URL and travel only over TLS (with a password, a server that offers no
STARTTLS gets no mail). Without an SMTP URL nothing is sent and the message is logged (in
development that is how a link reaches you), and the instructor pages show links anyway.
"""

from __future__ import annotations

import dataclasses
import logging
import smtplib
import ssl
import threading
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote
from urllib.parse import urlsplit

from grader.errors import ConfigError

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10


@dataclasses.dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


@dataclasses.dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool  # TLS from the start (smtps)
    user: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpServer:
    """``smtp://user:pass@host:587`` or ``smtps://host:465``.

    Raises:
        ConfigError: another scheme, or no host.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ConfigError("GRADER_SMTP_URL must look like smtp://user:password@host:587")
    tls = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname,
        port=parts.port or (465 if tls else 587),
        tls=tls,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def send(config: Mapping[str, Any], mail: Mail) -> bool:
    """Send ``mail``; True when an SMTP server took it. Failures are logged, not raised:
    the pages that send links also show them, so nobody is left without one."""
    url = str(config.get("SMTP_URL") or "")
    if not url:
        if config.get("ENV") == "development":
            logger.warning(
                "mail not sent (no GRADER_SMTP_URL) to=%s subject=%r\n%s",
                mail.to,
                mail.subject,
                mail.body,
            )
        else:
            logger.info(
                "mail not sent (no GRADER_SMTP_URL) to=%s subject=%r", mail.to, mail.subject
            )
        return False
    server = parse_smtp_url(url)
    message = EmailMessage()
    message["From"] = str(config.get("MAIL_FROM") or "grader@localhost")
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.body)
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if server.tls:
            smtp = smtplib.SMTP_SSL(
                server.host, server.port, timeout=TIMEOUT_SECONDS, context=context
            )
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
        with smtp:
            smtp.ehlo()
            encrypted = server.tls
            if not server.tls and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                encrypted = True
            if server.user and not encrypted:
                # a server (or someone between) that offers no STARTTLS must not get the
                # password in clear
                logger.error(
                    "mail to %s not sent: %s:%s offers no STARTTLS, and GRADER_SMTP_URL "
                    "has a password (use smtps:// or a server with STARTTLS)",
                    mail.to,
                    server.host,
                    server.port,
                )
                return False
            if server.user:
                smtp.login(server.user, server.password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        logger.error("mail to %s failed: %s", mail.to, exc)
        return False
    logger.info("mail sent to=%s subject=%r", mail.to, mail.subject)
    return True


def send_later(config: Mapping[str, Any], mail: Mail) -> None:
    """Send ``mail`` from a thread of its own, so the request answers in the same time
    whether or not there was anything to send (pages anyone can use, such as "forgot
    your password", must not tell by their timing which emails have accounts)."""
    settings = {k: config.get(k) for k in ("SMTP_URL", "ENV", "MAIL_FROM")}
    threading.Thread(target=send, args=(settings, mail), name="mail", daemon=True).start()


def link_mail(to: str, name: str, purpose: str, url: str, hours: float) -> Mail:
    """The message carrying a set-password link."""
    lasting = f"{int(hours // 24)} days" if hours >= 48 else f"{int(hours)} hours"
    if purpose == "invite":
        subject = "Your grader account: choose a password"
        first = "An account on grader was made for you. Choose your password here:"
    else:
        subject = "Set a new grader password"
        first = "Someone (hopefully you) asked for a new password. Set it here:"
    body = (
        f"Hello {name},\n\n{first}\n\n  {url}\n\n"
        f"The link works once, for {lasting}. If you did not expect this, ignore it.\n"
    )
    return Mail(to=to, subject=subject, body=body)
