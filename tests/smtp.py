"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, stoppable and restartable."""

import contextlib
import socket
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def closed_port():
    """A port that refuses connections while the block runs: bound here, so no other test
    (another xdist worker's SMTP server) can listen on it, and never listening."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


class Collector:
    """aiosmtpd handler: keeps every message that arrives; refuses the addresses in `refuse`
    for good (550) and those in `busy` for now (450)."""

    def __init__(self):
        self.received = []  # (envelope recipients, parsed message)
        self.refuse = set()
        self.busy = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        if address in self.busy:
            return "450 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # As an MTA delivering to a mailbox: SMTP's CRLF line ends become the local ones.
        content = envelope.content.replace(b"\r\n", b"\n")
        message = message_from_bytes(content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def recipients(self):
        return sorted(rcpt for rcpts, _message in self.received for rcpt in rcpts)


class SmtpServer:
    """A real SMTP server on a fixed port, which a test can stop and start again."""

    def __init__(self, port):
        self.port = port
        self.handler = Collector()
        self.controller = None

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     server_hostname="smtp.ymcs.test")
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self):
        return self.handler.received
