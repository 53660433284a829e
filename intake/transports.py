"""How stored messages leave: SMTP (``SMTP_URL``) or ``.eml`` files (the embedded default).

``SMTP_URL`` forms:

- ``smtp://[user:password@]host[:25]``        plain SMTP (a local relay)
- ``smtp+starttls://user:password@host[:587]`` SMTP upgraded to TLS with STARTTLS
- ``smtps://user:password@host[:465]``         SMTP over TLS
- ``file:///absolute/folder``                  write ``.eml`` files there
- unset                                        write ``.eml`` files into ``<instance>/mail``

Query options: ``timeout`` (seconds, default 30) and, for a private CA, ``cafile``.
User and password are URL-encoded (``@`` as ``%40``).
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from .settings import ConfigError

_SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("ssl", 465)}
_EXAMPLE = "e.g. smtp+starttls://user:password@mail.example.com:587 (unset: .eml files in instance/mail)"


class Transport(Protocol):
    """Delivers one stored message. Used as a context manager around a batch of sends."""

    def __enter__(self) -> Transport: ...

    def __exit__(self, *exc) -> None: ...

    def send(self, sender: str, recipient: str, message: bytes, name: str) -> None:
        """Deliver ``message``; raise on failure (the outbox records the error and retries)."""


@dataclass(frozen=True)
class SMTPSettings:
    host: str
    port: int
    security: str  # plain, starttls, ssl
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    cafile: str | None = None

    def describe(self) -> str:
        """For logs and errors: never the password."""
        user = f"{self.username}@" if self.username else ""
        return f"{self.security} SMTP {user}{self.host}:{self.port}"


def parse_transport_url(url: str | None, default_dir: Path) -> SMTPSettings | Path:
    """``SMTP_URL`` -> :class:`SMTPSettings`, or the folder for ``.eml`` files.

    :raise ConfigError: saying what is wrong and showing a correct example.
    """
    if not url:
        return Path(default_dir)
    shown = _hide_password(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"SMTP_URL: cannot parse {shown!r} ({exc}); {_EXAMPLE}") from exc
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ConfigError(f"SMTP_URL: {shown!r} must be an absolute folder, e.g. file:///var/spool/kb-mail")
        return Path(unquote(parts.path))
    if scheme not in _SCHEMES:
        raise ConfigError(
            f"SMTP_URL: unknown scheme {parts.scheme!r} in {shown!r} "
            f"(allowed: smtp://, smtp+starttls://, smtps://, file:///folder); {_EXAMPLE}"
        )
    if not parts.hostname:
        raise ConfigError(f"SMTP_URL: no host in {shown!r}; {_EXAMPLE}")
    if parts.password is not None and not parts.username:
        raise ConfigError(f"SMTP_URL: a password without a user in {shown!r}; {_EXAMPLE}")
    security, default_port = _SCHEMES[scheme]
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(options) - {"timeout", "cafile"}
    if unknown:
        raise ConfigError(f"SMTP_URL: unknown option(s) {', '.join(sorted(unknown))} (allowed: timeout, cafile)")
    try:
        timeout = float(options.get("timeout", 30))
        if timeout <= 0:
            raise ValueError
    except ValueError:
        raise ConfigError(f"SMTP_URL: timeout must be seconds above 0, got {options['timeout']!r}") from None
    cafile = options.get("cafile")
    if cafile and not Path(cafile).is_file():
        raise ConfigError(f"SMTP_URL: cafile {cafile!r} does not exist")
    return SMTPSettings(
        host=parts.hostname,
        port=port or default_port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        timeout=timeout,
        cafile=cafile,
    )


def _hide_password(url: str) -> str:
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()
    except ValueError:
        return "<unparseable URL>"


def transport_from_url(url: str | None, default_dir: Path) -> Transport:
    """The transport ``SMTP_URL`` asks for (see the module docstring)."""
    target = parse_transport_url(url, default_dir)
    if isinstance(target, Path):
        return FileTransport(target)
    return SMTPTransport(target)


class SMTPTransport:
    """One SMTP connection per batch, opened on the first send and closed at the end."""

    def __init__(self, settings: SMTPSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __repr__(self) -> str:
        return f"SMTPTransport({self.settings.describe()})"

    def __enter__(self) -> SMTPTransport:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.cafile)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._context())
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.security == "starttls":
                smtp.starttls(context=self._context())
            if s.username:
                smtp.login(s.username, s.password or "")
        except smtplib.SMTPResponseException as exc:
            smtp.close()
            if type(exc) is smtplib.SMTPResponseException:  # e.g. "554 TLS not available" to STARTTLS
                # A refusal while opening the session concerns every message, not the one
                # being sent: the outbox must not count it against that message.
                raise smtplib.SMTPConnectError(exc.smtp_code, exc.smtp_error) from exc
            raise
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, sender: str, recipient: str, message: bytes, name: str) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.sendmail(sender, [recipient], message)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()  # the next send reconnects
            raise

    def close(self) -> None:
        if self._smtp is not None:
            smtp, self._smtp = self._smtp, None
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


class FileTransport:
    """Writes each message as ``<folder>/<name>.eml``, atomically (a reader never sees half a file)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"FileTransport({self.directory})"

    def __enter__(self) -> FileTransport:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def send(self, sender: str, recipient: str, message: bytes, name: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{name}.eml"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(message)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
