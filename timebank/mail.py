"""Sending the digest and reminders through the co-op's SMTP server.

Where the server is and how to log in comes from the environment or a config file, never
from the ledger: whoever can read a ledger or a backup must not learn the co-op's mail
password. Settings (environment first, then the ``[smtp]`` table of the TOML file named by
``--smtp-config`` or ``TIMEBANK_SMTP_CONFIG``):

=====================  ==================  =========================================
environment            file key            meaning
=====================  ==================  =========================================
TIMEBANK_SMTP_HOST     host                the server (required)
TIMEBANK_SMTP_PORT     port                default 587
TIMEBANK_SMTP_STARTTLS starttls            true (default) or false
TIMEBANK_SMTP_USER     user                log in as this user (optional)
TIMEBANK_SMTP_PASSWORD password            and this password
TIMEBANK_SMTP_FROM     from                the sender's address (required)
TIMEBANK_SMTP_CA_FILE  ca_file             PEM file of the CA that signed the server's
                                           certificate (default: the system's CAs)
=====================  ==================  =========================================

A password is never sent without STARTTLS. What is recorded as sent (``digest_sends``) is
exactly what the server accepted, each message in its own small transaction right after the
server said yes; the rest are named with the server's reason.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import tomllib
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from timebank.errors import InputError, TimebankError

if TYPE_CHECKING:
    from timebank.ledger import Ledger

CONFIG_ENV = "TIMEBANK_SMTP_CONFIG"
_KEYS = ("host", "port", "starttls", "user", "password", "from", "ca_file")


class MailError(TimebankError):
    """The SMTP server could not be reached or refused the session."""


@attrs.frozen
class SmtpSettings:
    host: str
    port: int = 587
    starttls: bool = True
    user: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    sender: str = ""
    ca_file: str | None = None


def _bool(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InputError(f"{where}: {value!r} is not true or false")


def smtp_settings(config: str | Path | None = None, env: Mapping[str, str] | None = None) -> SmtpSettings:
    """The SMTP settings from the environment, then the config file; one sentence if any is
    missing or wrong."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    path = config or env.get(CONFIG_ENV)
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"smtp-config: no file at {path}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"smtp-config: {path} is not valid TOML ({exc})") from None
        table = data.get("smtp", data)
        unknown = set(table) - set(_KEYS)
        if unknown:
            raise InputError(f"smtp-config: unknown setting {sorted(unknown)[0]!r} in {path}")
        values.update(table)
    for key in _KEYS:
        name = f"TIMEBANK_SMTP_{key.upper()}"
        if env.get(name):
            values[key] = env[name]
    if not values.get("host"):
        raise InputError("smtp: no server; set TIMEBANK_SMTP_HOST or host in the SMTP config file")
    if not values.get("from"):
        raise InputError("smtp: no sender; set TIMEBANK_SMTP_FROM or from in the SMTP config file")
    try:
        port = int(str(values.get("port", 587)))
    except ValueError:
        raise InputError(f"smtp: port {values.get('port')!r} is not a number") from None
    ca_file = values.get("ca_file")
    if ca_file and not Path(str(ca_file)).is_file():
        raise InputError(f"smtp: CA file {ca_file} does not exist")
    settings = SmtpSettings(
        host=str(values["host"]),
        port=port,
        starttls=_bool(values.get("starttls", True), "smtp.starttls"),
        user=str(values["user"]) if values.get("user") else None,
        password=str(values["password"]) if values.get("password") else None,
        sender=str(values["from"]),
        ca_file=str(ca_file) if ca_file else None,
    )
    if settings.user and not settings.starttls:
        raise InputError("smtp: a password is never sent without STARTTLS; set starttls = true")
    return settings


@attrs.frozen
class Outgoing:
    """One message for one member."""

    member: str
    email: str
    subject: str
    text: str
    html: str | None = None
    kind: str = "digest"


@attrs.frozen
class SendReport:
    """Which messages the server accepted, which it refused (with its reason), and which
    were never tried because the connection was lost."""

    sent: tuple[Outgoing, ...]
    refused: tuple[tuple[Outgoing, str], ...]
    unsent: tuple[Outgoing, ...]

    @property
    def complete(self) -> bool:
        return not self.refused and not self.unsent


def _message(settings: SmtpSettings, item: Outgoing) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = item.email
    message["Subject"] = item.subject
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(item.text)
    if item.html:
        message.add_alternative(item.html, subtype="html")
    return message


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An SMTP session, upgraded to TLS and logged in as the settings say."""
    where = f"{settings.host}:{settings.port}"
    try:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=30)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"smtp: could not connect to {where} ({_reason(exc)}); nothing was sent") from None
    try:
        smtp.ehlo()
        if settings.starttls:
            context = ssl.create_default_context(cafile=settings.ca_file)
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.user:
            _login(smtp, settings.user, settings.password or "")
    except ssl.SSLError as exc:
        smtp.close()
        raise MailError(f"smtp: TLS with {where} failed ({_reason(exc)}); nothing was sent") from None
    except smtplib.SMTPNotSupportedError:
        smtp.close()
        raise MailError(f"smtp: {where} does not offer STARTTLS; nothing was sent") from None
    except (OSError, smtplib.SMTPException) as exc:
        smtp.close()
        raise MailError(f"smtp: {where} refused the session ({_reason(exc)}); nothing was sent") from None
    return smtp


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in with one mechanism (PLAIN, else LOGIN), so a wrong password is one clear 535
    rather than smtplib trying the next mechanism on a session the server has given up on."""
    offered = smtp.esmtp_features.get("auth", "").upper().split()
    mechanism = next((m for m in ("PLAIN", "LOGIN") if m in offered), None)
    if mechanism is None:
        smtp.login(user, password)
        return
    smtp.user, smtp.password = user, password
    authobject = smtp.auth_plain if mechanism == "PLAIN" else smtp.auth_login
    smtp.auth(mechanism, authobject)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        error = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        return f"{exc.smtp_code} {error}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for code, msg in exc.recipients.values()
        )
    if isinstance(exc, socket.timeout):
        return "timed out"
    return str(exc) or type(exc).__name__


def send(ledger: Ledger, settings: SmtpSettings, items: Iterable[Outgoing]) -> SendReport:
    """Send each message in its own SMTP transaction; record each one the server accepted."""
    from timebank.storage import digests
    from timebank.storage.store import now_utc

    items = list(items)
    sent: list[Outgoing] = []
    refused: list[tuple[Outgoing, str]] = []
    if not items:
        return SendReport((), (), ())
    smtp = connect(settings)
    try:
        for position, item in enumerate(items):
            try:
                rejected = smtp.send_message(_message(settings, item))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                refused.append((item, _reason(exc)))
                try:
                    smtp.rset()
                except (OSError, smtplib.SMTPException):
                    return SendReport(tuple(sent), tuple(refused), tuple(items[position + 1 :]))
                continue
            except (OSError, smtplib.SMTPException) as exc:
                refused.append((item, _reason(exc)))
                return SendReport(tuple(sent), tuple(refused), tuple(items[position + 1 :]))
            if rejected:
                refused.append((item, _reason(smtplib.SMTPRecipientsRefused(rejected))))
                continue
            with ledger.transaction() as conn:
                digests.record_send(
                    conn,
                    sent_at=now_utc(),
                    member=item.member,
                    email=item.email,
                    kind=item.kind,
                    subject=item.subject,
                )
            sent.append(item)
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return SendReport(tuple(sent), tuple(refused), ())
