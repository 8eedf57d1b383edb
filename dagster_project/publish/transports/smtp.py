"""SMTP transport: customer notices (``customer_notices``) as e-mail through a mail relay.

A message is one notice: a row of ``publish.customer_notices`` (order, event, the customer's
address, carrier and tracking, the lines). Its text is the event's template in the repository,
``dagster_project/publish/templates/notices/<event>.txt`` (Jinja, undefined names are errors):
the first line is ``Subject: ...``, a blank line, then the body.

The relay is plain SMTP (RFC 5321) through the standard library's :mod:`smtplib`: one
connection per delivery batch, ``STARTTLS`` (default), implicit TLS or none
(``settings.security_env``), ``AUTH`` when a user is set. Each message is sent with its own
``MAIL``/``RCPT``/``DATA`` so that every reply is classified by the stage it came at:

* ``250`` after the data: DELIVERED, with the relay's reply (its queue id) kept;
* ``5xx`` (a refused recipient: a bad or unknown address; a refused sender; refused data):
  DEAD, with the code and the fix (correct the address in the storefront, then replay);
  a refused login is DEAD ``auth_failed`` for every message of the batch;
* ``4xx``, no connection, a timeout, a connection lost before the data was sent: RETRY
  ``target_unavailable`` (nothing was accepted: a resend is safe);
* a connection lost after the data was sent, before the reply: RETRY ``outcome_unknown``.
  SMTP has no way to ask a relay whether it took a message, so the resend may be a second
  copy: it carries the same ``Message-ID`` (derived from the target and record key, never
  from the attempt), so the duplicate is recognisable by any mail client or archive, and the
  outbox row keeps the first attempt's error (docs/decisions.md, Customer notices: at least
  once at the last hop).

The outbox and the diff already make a notice go once: the record key is order + event (+ the
shipment or return), and ``publish.customer_notices`` leaves out what was published.
"""

from __future__ import annotations

import hashlib
import os
import re
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from dagster_project.ingest.readers import ConfigurationError, SystemConfig
from dagster_project.publish.transports.base import (
    Message,
    Outcome,
    TransportConfigError,
    dead,
    delivered,
    retry,
)

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates" / "notices"
SECURITY = ("starttls", "tls", "none")
TIMEOUT_SECONDS = 30.0
#: the relay's 4xx / 5xx split (RFC 5321 4.2.1): 5yz is permanent, 4yz transient
PERMANENT = 500


class NoticeError(ValueError):
    """A notice cannot be written (unknown event, a template name missing from the payload)."""


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text mail
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def events() -> list[str]:
    """The events that have a template."""
    return sorted(p.stem for p in TEMPLATES_DIR.glob("*.txt"))


def render_notice(payload: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of a ``customer_notices`` payload, from its event's template."""
    event = str(payload.get("event") or "")
    if event not in events():
        raise NoticeError(
            f"no template for event {event!r} (have: {', '.join(events())}); add "
            f"{TEMPLATES_DIR.relative_to(TEMPLATES_DIR.parents[3])}/{event}.txt"
        )
    try:
        text = _environment().get_template(f"{event}.txt").render(**payload)
    except jinja2.UndefinedError as exc:
        raise NoticeError(
            f"template {event}.txt: {exc} (a column of publish.customer_notices it needs)"
        ) from None
    head, _, body = text.partition("\n\n")
    if not head.startswith("Subject:") or "\n" in head:
        raise NoticeError(f"template {event}.txt must start with one 'Subject: ...' line")
    return head.removeprefix("Subject:").strip(), body.strip() + "\n"


def message_id(target: str, record_key: str, domain: str) -> str:
    """The notice's Message-ID: the same for every attempt of one record, never for two."""
    digest = hashlib.sha256(f"{target}:{record_key}".encode()).hexdigest()[:32]
    return f"<notice.{digest}@{domain}>"


@dataclass(frozen=True)
class Relay:
    """Where and how to reach the relay (values, read from the environment at open)."""

    system: str
    host: str
    port: int
    security: str
    user: str | None
    password: str | None
    from_address: str
    reply_to: str | None
    user_env: str
    password_env: str
    timeout: float = TIMEOUT_SECONDS


def relay_of(config: SystemConfig) -> Relay:
    """The relay declared as ``config`` (defs/systems/notices/defs.yaml), variables read now."""
    settings = config.settings
    host = config.env(settings.get("host_env"), "SMTP host")
    port_text = config.env(settings.get("port_env"), "SMTP port")
    if not port_text.isdigit():
        raise ConfigurationError(
            f"{config.system}: {settings.get('port_env')} is {port_text!r}, not a port number"
        )
    security_env = settings.get("security_env")
    security = (os.environ.get(security_env) if security_env else None) or "starttls"
    if security not in SECURITY:
        raise ConfigurationError(
            f"{config.system}: {security_env} is {security!r}; use one of {', '.join(SECURITY)}"
        )
    user_env = config.credentials.get("user", "")
    password_env = config.credentials.get("password", "")
    user = os.environ.get(user_env) if user_env else None
    password = os.environ.get(password_env) if password_env else None
    if user and not password:
        raise ConfigurationError(
            f"{config.system}: {user_env} is set but {password_env or 'its password variable'} "
            "is not; set both (or neither, for a relay that needs no login)"
        )
    from_address = str(settings.get("from_address") or "")
    if "@" not in parseaddr(from_address)[1]:
        raise ConfigurationError(
            f"{config.system}: settings.from_address {from_address!r} is not an address; set it "
            "in dagster_project/defs/systems/notices/defs.yaml"
        )
    return Relay(
        config.system,
        host,
        int(port_text),
        security,
        user or None,
        password or None,
        from_address,
        settings.get("reply_to"),
        user_env,
        password_env,
    )


class _Refused(Exception):
    """The relay answered ``code`` at ``stage`` (mail, rcpt, data)."""

    def __init__(self, stage: str, code: int, text: str) -> None:
        self.stage, self.code, self.text = stage, code, text
        super().__init__(f"{code} {text}")


class SmtpNotices:
    """Customer notices through one relay, one connection per :meth:`send`."""

    kind = "smtp_notices"

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.system = relay.system
        self._conn: smtplib.SMTP | None = None

    @classmethod
    def from_config(cls, config: SystemConfig) -> SmtpNotices:
        return cls(relay_of(config))

    # ------------------------------------------------------------------ connection
    def _connect(self) -> smtplib.SMTP:
        r = self.relay
        if self._conn is not None:
            return self._conn
        context = ssl.create_default_context()
        if r.security == "tls":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                r.host, r.port, timeout=r.timeout, context=context
            )
        else:
            conn = smtplib.SMTP(r.host, r.port, timeout=r.timeout)
        try:
            conn.ehlo()
            if r.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if r.user:
                conn.login(r.user, r.password or "")
        except BaseException:
            _quietly_close(conn)
            raise
        self._conn = conn
        return conn

    def _drop(self) -> None:
        if self._conn is not None:
            _quietly_close(self._conn)
            self._conn = None

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()

    # ------------------------------------------------------------------ sending
    def send(self, messages: Sequence[Message]) -> Iterator[Outcome]:
        for message in messages:
            yield self._send_one(message)

    def build(self, message: Message) -> tuple[EmailMessage, str]:
        """The e-mail of one notice and its recipient (raises NoticeError)."""
        payload = message.payload
        to = str(payload.get("email") or "").strip()
        if "@" not in parseaddr(to)[1]:
            raise NoticeError(f"the notice has no usable e-mail address ({to!r})")
        subject, body = render_notice(payload)
        name = str(payload.get("customer_name") or "")
        mail = EmailMessage()
        mail["From"] = self.relay.from_address
        mail["To"] = Address(display_name=name, addr_spec=parseaddr(to)[1]) if name else to
        if self.relay.reply_to:
            mail["Reply-To"] = self.relay.reply_to
        mail["Subject"] = subject
        mail["Date"] = formatdate(usegmt=True)
        domain = parseaddr(self.relay.from_address)[1].rpartition("@")[2]
        mail["Message-ID"] = message_id(message.target, message.record_key, domain)
        mail["X-Distrohub-Notice"] = f"{message.target}:{message.record_key}"
        mail.set_content(body, cte="quoted-printable")
        return mail, parseaddr(to)[1]

    def _send_one(self, message: Message) -> Outcome:
        what = f"notice {message.record_key}"
        try:
            mail, to = self.build(message)
        except NoticeError as exc:
            return dead(
                message,
                "rejected_by_target",
                f"{self.system}: {what}: {exc}; fix publish.customer_notices or the template, "
                "then `distrohub replay`",
            )
        ident = mail["Message-ID"]
        sent_data = False
        try:
            conn = self._connect()
            sender = parseaddr(self.relay.from_address)[1]
            code, text = conn.mail(sender)
            if code != 250:
                raise _Refused("mail", code, _text(text))
            code, text = conn.rcpt(to)
            if code not in (250, 251):
                raise _Refused("rcpt", code, _text(text))
            code, text = conn.docmd("DATA")
            if code != 354:
                raise _Refused("data", code, _text(text))
            conn.send(_dotted(mail.as_bytes(policy=policy.SMTP)))
            # from here the relay may hold the whole message; until its reply we cannot know
            sent_data = True
            code, text = conn.getreply()
            if code != 250:
                raise _Refused("data", code, _text(text))
        except _Refused as exc:
            self._reset()
            return self._refused(message, what, to, exc)
        except smtplib.SMTPAuthenticationError as exc:
            self._drop()
            return dead(
                message,
                "auth_failed",
                f"{self.system}: {what}: the relay refused the login ({exc.smtp_code} "
                f"{_text(exc.smtp_error)}); check {self.relay.user_env} and "
                f"{self.relay.password_env}, then `distrohub replay`",
            )
        except smtplib.SMTPNotSupportedError as exc:
            self._drop()
            return dead(
                message,
                "relay_config",
                f"{self.system}: {what}: the relay does not support what is asked of it ({exc}); "
                "set DISTROHUB_SMTP_SECURITY (starttls, tls, none) and the login to what the "
                "relay offers, then `distrohub replay`",
            )
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            if sent_data:
                return retry(
                    message,
                    "outcome_unknown",
                    f"{self.system}: {what}: the connection was lost after the message was sent, "
                    f"before the relay answered ({type(exc).__name__}: {exc}); it may have been "
                    f"accepted. It is sent again with the same Message-ID {ident}, so a second "
                    "copy is recognisable; nothing to fix unless it keeps failing",
                )
            return retry(
                message,
                "target_unavailable",
                f"{self.system}: {what}: the relay at {self.relay.host}:{self.relay.port} "
                f"did not take it ({type(exc).__name__}: {exc}); nothing was accepted, it is "
                "retried; if it persists check the relay and DISTROHUB_SMTP_HOST/PORT",
            )
        return delivered(message, {"reply": f"{code} {_text(text)}", "message_id": ident, "to": to})

    def _reset(self) -> None:
        """After a refusal the session goes on: RSET (or a new connection next time)."""
        if self._conn is None:
            return
        try:
            self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _refused(self, message: Message, what: str, to: str, exc: _Refused) -> Outcome:
        answer = {"stage": exc.stage, "code": exc.code, "reply": exc.text}
        if exc.code < PERMANENT:
            return retry(
                message,
                "target_unavailable",
                f"{self.system}: {what}: the relay deferred it at {exc.stage.upper()} "
                f"({exc.code} {exc.text}); it is retried",
                answer,
            )
        if exc.stage == "rcpt":
            code, fix = (
                "address_rejected",
                f"the relay refused the customer's address {to} ({exc.code} {exc.text}); "
                "correct the e-mail on the storefront order or customer, rebuild, then "
                "`distrohub replay` (or leave it in the DLQ: the customer cannot be reached)",
            )
        elif exc.stage == "mail" and exc.code == 530:
            code, fix = (
                "auth_failed",
                f"the relay requires a login ({exc.code} {exc.text}); set "
                f"{self.relay.user_env} and {self.relay.password_env}, then `distrohub replay`",
            )
        elif exc.stage == "mail":
            code, fix = (
                "sender_rejected",
                f"the relay refused the sender {self.relay.from_address} ({exc.code} "
                f"{exc.text}); set settings.from_address of {self.system} "
                "(defs/systems/notices/defs.yaml) to an address the relay may send as, then "
                "`distrohub replay`",
            )
        else:
            code, fix = (
                "rejected_by_target",
                f"the relay refused the message ({exc.code} {exc.text}); see its reply, fix "
                "the template or the relay's policy, then `distrohub replay`",
            )
        return dead(message, code, f"{self.system}: {what}: {fix}", answer)


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


def _dotted(data: bytes) -> bytes:
    """The message (CRLF lines) as DATA sends it: dot-stuffed, ended by ``CRLF.CRLF`` (RFC 5321
    4.5.2), as :meth:`smtplib.SMTP.data` does; sent by hand so that the stage is known."""
    quoted = re.sub(rb"(?m)^\.", b"..", data)
    if not quoted.endswith(b"\r\n"):
        quoted += b"\r\n"
    return quoted + b".\r\n"


def _quietly_close(conn: smtplib.SMTP) -> None:
    try:
        conn.close()
    except OSError:
        pass


__all__ = [
    "NoticeError",
    "Relay",
    "SmtpNotices",
    "TransportConfigError",
    "events",
    "message_id",
    "relay_of",
    "render_notice",
]
