"""A local SMTP server for the tests (aiosmtpd): it keeps every message it accepts and can be told to refuse an
address a number of times (451, try again later), as a busy mail server does."""

import threading
from email import message_from_bytes
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller


class Mailbox:
    """The handler of the test's SMTP server: what it was sent, and the refusals it was told to answer."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.failing: dict[str, int] = {}
        self.lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        with self.lock:
            if self.failing.get(address, 0) > 0:
                self.failing[address] -= 1
                return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=default)
        with self.lock:
            self.messages.append({"to": list(envelope.rcpt_tos), "subject": str(message["Subject"]),
                                  "body": message.get_content(), "key": message["X-FundWatch-Delivery"]})
        return "250 Message accepted for delivery"

    def fail_next(self, address: str, times: int = 1) -> None:
        with self.lock:
            self.failing[address] = times

    def to(self, address: str) -> list[dict[str, Any]]:
        """The messages accepted for an address."""
        with self.lock:
            return [m for m in self.messages if address in m["to"]]


def start_mailbox(port: int) -> tuple[Controller, Mailbox]:
    """An SMTP server on 127.0.0.1:`port` in a thread of its own; stop it with `controller.stop()`."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, mailbox
