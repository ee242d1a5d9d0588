"""A real SMTP server on 127.0.0.1 (aiosmtpd), recording what it receives, for the email tests.

with running_smtp_server() as server:
    app.config.update(server.config())
    ...
    assert server.messages[0].recipients == ["clinic@localhost"]
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (when this returns)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass(frozen=True)
class Received:
    """One message as the server got it: the envelope and the parsed message."""

    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, "the message has no text part"
        return str(part.get_content())

    @property
    def raw(self) -> str:
        """Headers and body as sent, for "nothing of X anywhere in the message" checks."""
        return self.message.as_string()


class _Recorder:
    """aiosmtpd handler: keep every message, accept it."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        #: Addresses refused at RCPT TO, with the reply a real server gives (it echoes the address).
        self.refused: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if address in self.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class SMTPServer:
    """A running server: its port, what it received, and the app settings that point to it."""

    def __init__(self, controller: Controller, recorder: _Recorder) -> None:
        self._controller = controller
        self._recorder = recorder
        self.host: str = "127.0.0.1"
        self.port: int = controller.port

    @property
    def messages(self) -> list[Received]:
        return list(self._recorder.messages)

    def refuse(self, address: str) -> None:
        """Refuse mail for `address` from now on (550 at RCPT TO)."""
        self._recorder.refused.add(address)

    def config(self) -> dict[str, object]:
        return {
            "SMTP_HOST": self.host,
            "SMTP_PORT": self.port,
            "SMTP_STARTTLS": False,
            "SMTP_USERNAME": "",
            "SMTP_PASSWORD": "",
        }

    def stop(self) -> None:
        """Stop listening (idempotent): later connections are refused."""
        self._controller.stop(no_assert=True)


@contextmanager
def running_smtp_server() -> Iterator[SMTPServer]:
    """Start a server on a free port; stop it afterwards."""
    recorder = _Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    server = SMTPServer(controller, recorder)
    try:
        yield server
    finally:
        server.stop()
