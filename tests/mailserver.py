"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the mail tests, stoppable and restartable on its port."""

from __future__ import annotations

import socket
import ssl
import subprocess
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)


class _Handler:
    def __init__(self, server: SMTPServer):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.server.refuse:
            return "550 5.1.1 Mailbox unavailable"
        if address in self.server.rcpt_replies:
            return self.server.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for address in envelope.rcpt_tos:
            if address in self.server.data_replies:
                return self.server.data_replies[address]
        self.server.inbox.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


class _BrokenSTARTTLSHandler(_Handler):
    """Offers STARTTLS without a certificate, as a half-configured relay does (see :class:`_RefuseSTARTTLS`)."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-STARTTLS", responses[-1]]


class _RefuseSTARTTLS(SMTP):
    async def smtp_STARTTLS(self, arg: str):
        await self.push("554 5.7.3 TLS not available due to local problem")


class _BrokenSTARTTLSController(Controller):
    def factory(self):
        return _RefuseSTARTTLS(self.handler, **self.SMTP_kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed_certificate(directory: Path) -> Path:
    """A certificate for 127.0.0.1 made with Debian's openssl: ``cert.pem`` (returned) and ``key.pem`` beside it."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert


class SMTPServer:
    """``start()``/``stop()`` any number of times; the port stays the same, like a restarted server.

    :param credentials: ``(user, password)`` to require AUTH.
    :param tls: ``"starttls"`` or ``"ssl"`` with ``certificate`` (see :func:`self_signed_certificate`).
    :param broken_starttls: offer STARTTLS but answer it with "554 TLS not available".
    """

    def __init__(
        self,
        credentials: tuple[str, str] | None = None,
        tls: str | None = None,
        certificate: Path | None = None,
        broken_starttls: bool = False,
    ):
        self.port = free_port()
        self.broken_starttls = broken_starttls
        self.inbox: list[Received] = []
        self.refuse: set[str] = set()  # recipients refused with "550 5.1.1 Mailbox unavailable"
        # Any other answer: to RCPT TO of a recipient (e.g. "451 4.3.0 Try again later"), or to
        # DATA of a message for a recipient (e.g. "552 5.3.4 Message too big").
        self.rcpt_replies: dict[str, str] = {}
        self.data_replies: dict[str, str] = {}
        self.credentials = credentials
        self.logins: list[str] = []
        self.tls = tls
        self.certificate = certificate
        self._controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = self.credentials and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        if ok:
            self.logins.append(auth_data.login.decode())
        # handled=False: aiosmtpd then answers "535 Authentication credentials invalid" itself.
        return AuthResult(success=bool(ok), handled=False)

    def start(self) -> None:
        options = {}
        if self.credentials:
            # Without TLS, AUTH is offered but not required (aiosmtpd warns against requiring
            # it in clear text); a client that logs in with wrong credentials is still refused.
            # With implicit TLS (smtps) aiosmtpd does not see the session as encrypted, so only
            # STARTTLS can require it.
            with_tls = self.tls == "starttls"
            options.update(authenticator=self._authenticate, auth_required=with_tls, auth_require_tls=with_tls)
        if self.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.certificate, self.certificate.parent / "key.pem")
            if self.tls == "starttls":
                options.update(tls_context=context, require_starttls=True)
            else:
                options.update(ssl_context=context)
        if self.broken_starttls:
            controller = _BrokenSTARTTLSController(_BrokenSTARTTLSHandler(self), hostname="127.0.0.1", port=self.port)
        else:
            controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **options)
        self._controller = controller
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def url(self) -> str:
        scheme = {None: "smtp", "starttls": "smtp+starttls", "ssl": "smtps"}[self.tls]
        auth = f"{self.credentials[0]}:{self.credentials[1]}@" if self.credentials else ""
        query = f"?cafile={self.certificate}" if self.certificate else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}{query}"
