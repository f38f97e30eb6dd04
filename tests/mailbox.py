"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives and can refuse."""

import logging
import socket
import ssl
import subprocess
import threading
import warnings
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USERNAME = "zhaocuo"
PASSWORD = "mail-p@ss:word"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, and its key (openssl)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class Mailbox:
    """An SMTP server on 127.0.0.1 requiring AUTH: over the loopback in clear, or after
    STARTTLS, or on implicit TLS, with a certificate given as (cert, key)."""

    def __init__(self, tls: str | None = None, certificate: tuple[Path, Path] | None = None):
        self.lock = threading.Lock()
        self.received: list[Received] = []
        # The next DATA commands answered with a temporary failure, and recipients refused.
        self.failures_left = 0
        self.refused: set[str] = set()
        mailbox = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address in mailbox.refused:
                    return f"550 5.1.1 <{address}>: recipient address rejected"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                with mailbox.lock:
                    if mailbox.failures_left > 0:
                        mailbox.failures_left -= 1
                        return "451 4.3.0 try again later"
                    mailbox.received.append(
                        Received(
                            mail_from=envelope.mail_from,
                            rcpt_tos=list(envelope.rcpt_tos),
                            message=message_from_bytes(envelope.content, policy=policy.default),
                        )
                    )
                return "250 Message accepted for delivery"

        def authenticate(server, session, envelope, mechanism, auth_data):
            valid = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == USERNAME
                and auth_data.password.decode() == PASSWORD
            )
            return AuthResult(success=valid, handled=False)

        self.port = _free_port()
        # The server's own log says what it received, addresses included: that is the test's
        # server, not the service; kept quiet.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
        warnings.filterwarnings("ignore", message="Session.login_data is deprecated")
        options = {}
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*map(str, certificate))
            if tls == "starttls":
                options = {"tls_context": context, "require_starttls": True}
            else:
                options = {"ssl_context": context}
        self.controller = Controller(
            Handler(),
            hostname="127.0.0.1",
            port=self.port,
            authenticator=authenticate,
            auth_required=True,
            # In clear only on the loopback, in tests.
            auth_require_tls=tls == "starttls",
            **options,
        )
        self.controller.start()

    def url(self, username: str = USERNAME, password: str = PASSWORD, scheme="smtp") -> str:
        from urllib.parse import quote

        return f"{scheme}://{quote(username)}:{quote(password, safe='')}@127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.controller.stop()
