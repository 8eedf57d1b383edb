"""The sandbox's mail relay: a real SMTP server (aiosmtpd) that keeps every message it accepts.

It runs on the sandbox's own event loop, on its own port of 127.0.0.1, beside the HTTP
systems, and speaks plain SMTP (RFC 5321) with ``AUTH PLAIN``/``LOGIN`` over the plain
connection (a local test relay: no TLS; a real relay is reached with STARTTLS or TLS, see
docs/connecting.md). Its user and password are generated with the world's other credentials
(``credentials.json``, ``systems.env``: ``DISTROHUB_SMTP_USER`` / ``DISTROHUB_SMTP_PASSWORD``);
a session that did not log in is refused ``530`` at ``MAIL``.

Every accepted message is kept, in arrival order, in :class:`Mailbox`: in memory (the truth's
``mailbox`` section, ``distrohub sandbox truth --sections mailbox``) and as one JSON line each
in ``<state dir>/mailbox.jsonl`` (emptied when the sandbox starts: a new world, a new mailbox).

What a real relay refuses, it refuses too:

* a recipient in a reserved ``.invalid`` domain (RFC 2606) is refused at ``RCPT`` with
  ``550 5.1.2`` (a permanent failure: the address cannot be delivered);
* with the fault profile ``smtp_drops``, every 3rd message is kept but the connection is closed
  after its data, before the ``250`` reply: the client cannot know whether it was accepted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from sandbox.faults import FaultPlan

# aiosmtpd 1.4 sets its own deprecated Session.login_data on every AUTH and logs a warning
logging.getLogger("mail.log").addFilter(
    lambda record: "Session.login_data is deprecated" not in record.getMessage()
)

#: recipients in this (reserved) domain are refused permanently
REFUSED_DOMAIN = ".invalid"
#: with ``smtp_drops`` on, every n-th message's connection is dropped after its data
DROP_EVERY = 3


class Mailbox:
    """Every message the relay accepted: a list of JSON-ready dicts, and a JSON-lines file."""

    def __init__(self, messages: list[dict[str, Any]], path: Path | None = None) -> None:
        self.messages = messages
        self.path = path
        if path is not None:
            path.write_text("")

    def add(self, record: dict[str, Any]) -> None:
        self.messages.append(record)
        if self.path is not None:
            with self.path.open("a") as f:
                f.write(json.dumps(record, sort_keys=True) + "\n")


def message_record(envelope: Envelope, session: Session, sequence: int) -> dict[str, Any]:
    """What the mailbox keeps of one accepted message: envelope, headers, text body."""
    raw = envelope.original_content or b""
    msg = message_from_bytes(raw, policy=policy.default)
    body = msg.get_body(preferencelist=("plain",))
    auth = session.auth_data
    return {
        "sequence": sequence,
        "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "peer": list(session.peer) if isinstance(session.peer, tuple) else session.peer,
        "authenticated_as": auth.login.decode() if isinstance(auth, LoginPassword) else None,
        "mail_from": envelope.mail_from,
        "rcpt_to": list(envelope.rcpt_tos),
        "message_id": " ".join(str(msg.get("Message-ID") or "").split()),
        "from": " ".join(str(msg.get("From") or "").split()),
        "to": " ".join(str(msg.get("To") or "").split()),
        "subject": " ".join(str(msg.get("Subject") or "").split()),
        # a long header is folded on the wire; its value is the unfolded text
        "headers": {k: " ".join(str(v).split()) for k, v in msg.items()},
        "text": body.get_content() if body is not None else "",
        "size": len(raw),
    }


class _Handler:
    """aiosmtpd's handler hooks: refuse what a real relay refuses, keep what it accepts."""

    def __init__(self, mailbox: Mailbox, faults: FaultPlan, user: str, password: str) -> None:
        self.mailbox = mailbox
        self.faults = faults
        self.user = user.encode()
        self.password = password.encode()

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user
            and auth_data.password == self.password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if not session.authenticated:
            return "530 5.7.0 Authentication required (AUTH with DISTROHUB_SMTP_USER/PASSWORD)"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        domain = address.rpartition("@")[2].lower().rstrip(".")
        if domain.endswith(REFUSED_DOMAIN) or "@" not in address:
            return f"550 5.1.2 <{address}>: recipient address rejected: no such domain"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        record = message_record(envelope, session, len(self.mailbox.messages) + 1)
        self.mailbox.add(record)
        if self.faults.on("smtp_drops"):
            n = self.faults.tick("smtp:messages")
            if n % DROP_EVERY == 0:
                self.faults.record(
                    "smtp_drops",
                    "smtp",
                    f"kept message {n} ({record['message_id']}) and dropped the connection "
                    "before the reply",
                    message_id=record["message_id"],
                )
                if server.transport is not None:
                    server.transport.abort()
                return "421 4.4.2 connection dropped"  # never reaches the client
        return f"250 2.0.0 Ok: queued as {record['sequence']}"


class SmtpRelay:
    """The relay served on ``sock`` in the running loop (:meth:`start`, :meth:`stop`)."""

    def __init__(self, mailbox: Mailbox, faults: FaultPlan, user: str, password: str) -> None:
        self.mailbox = mailbox
        self.handler = _Handler(mailbox, faults, user, password)
        self.server: asyncio.base_events.Server | None = None

    async def start(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        handler = self.handler

        def protocol() -> SMTP:
            return SMTP(
                handler,
                hostname="sandbox-smtp.distrohub.example",
                ident="distrohub sandbox SMTP",
                auth_require_tls=False,  # a local test relay: plain AUTH on a plain connection
                authenticator=handler.authenticate,
                timeout=60,
                loop=loop,
            )

        self.server = await loop.create_server(protocol, sock=sock)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
