"""Ticket attachments: size limits, a type allowlist checked by content, safe file names.

The KB promises "allegati (dimensione massima: 1 MB)". The type is decided by what the
file *contains* (magic bytes via the ``filetype`` library; text must decode as UTF-8),
never by its name or by the Content-Type the browser sends: an ``.exe`` renamed
``fattura.pdf`` is refused. The stored name is sanitised (``werkzeug.utils.secure_filename``)
and given the extension of the detected type.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 1 * MB          # per file, as the KB article says
DEFAULT_MAX_TOTAL_BYTES = 4 * MB    # all attachments of one request
DEFAULT_MAX_COUNT = 5

# Allowed types: MIME type -> (extension we store, name for the customer).
BINARY_TYPES = {
    "application/pdf": ("pdf", "PDF"),
    "image/png": ("png", "immagine PNG"),
    "image/jpeg": ("jpg", "immagine JPEG"),
    "image/gif": ("gif", "immagine GIF"),
}
TEXT_EXTENSIONS = {"txt", "log", "csv"}
ALLOWED_DESCRIPTION = "PDF, immagini PNG, JPEG o GIF, file di testo (.txt, .log), messaggi email (.eml)"
ACCEPT_ATTRIBUTE = ".pdf,.png,.jpg,.jpeg,.gif,.txt,.log,.csv,.eml,application/pdf,image/png,image/jpeg,image/gif,text/plain,message/rfc822"

# Headers that make a text file an e-mail message (.eml): the failing message itself is
# the best evidence for a mail problem.
EML_HEADERS = ("from", "received", "return-path", "message-id")
# Control characters other than tab, newline, carriage return and form feed mean "binary".
_CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\r", "\f"}


@dataclass(frozen=True)
class Attachment:
    """A checked attachment, ready to be stored or mailed."""

    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


class AttachmentError(ValueError):
    """An attachment is refused; the message is Italian, for the customer."""


def human_size(size: int) -> str:
    """``1048576`` -> ``"1 MB"``, ``1536`` -> ``"1,5 KB"`` (Italian decimal comma)."""
    for unit, factor in (("MB", MB), ("KB", 1024)):
        if size >= factor:
            value = f"{size / factor:.1f}".rstrip("0").rstrip(".")
            return f"{value.replace('.', ',')} {unit}"
    return f"{size} byte"


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return not any(c in _CONTROL for c in text)


def _is_email_message(data: bytes) -> bool:
    """True for an RFC 5322 message: header lines first, including From or Received."""
    if b"\x00" in data:
        return False
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    try:
        head.decode("ascii")
    except UnicodeDecodeError:
        return False
    message = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head + b"\n\n")
    keys = {k.lower() for k in message.keys()}
    return bool(keys) and any(h in keys for h in EML_HEADERS) and not message.defects


def detect_type(data: bytes, filename: str = "") -> tuple[str, str] | None:
    """``(content_type, extension)`` decided from the content, or None when not allowed.

    The name only chooses between text flavours (``.log`` stays ``.log``, ``.eml`` is
    checked as a message); it never makes a binary file acceptable.
    """
    kind = filetype.guess(data)
    if kind is not None:
        if kind.mime in BINARY_TYPES:
            return kind.mime, BINARY_TYPES[kind.mime][0]
        return None
    suffix = PurePath(filename).suffix.lower().lstrip(".")
    if suffix == "eml" and _is_email_message(data):
        return "message/rfc822", "eml"
    if _is_text(data):
        if _is_email_message(data) and suffix not in TEXT_EXTENSIONS:
            return "message/rfc822", "eml"
        return "text/plain", suffix if suffix in TEXT_EXTENSIONS else "txt"
    return None


def safe_filename(filename: str, extension: str, index: int = 1) -> str:
    """A name safe to store and to show: no path, ASCII, with the detected ``extension``.

    ``"../../etc/passwd"`` -> ``"etc_passwd.txt"``; ``"fattura città.PDF"`` -> ``"fattura_citta.pdf"``;
    a name with nothing left becomes ``"allegato-<index>.<extension>"``.
    """
    # Browsers on Windows may send a full path with backslashes.
    name = filename.replace("\\", "/")
    last = name.rsplit("/", 1)[-1]
    if "." in last.strip("."):  # drop the customer's extension: ours says what the file is
        name = name[: len(name) - len(last)] + last.rsplit(".", 1)[0]
    stem = secure_filename(name).strip("._-")[:80]
    if not stem:
        stem = f"allegato-{index}"
    return f"{stem}.{extension}"


def read_limited(storage: FileStorage, max_bytes: int) -> bytes:
    """The file's bytes, reading at most ``max_bytes + 1`` (enough to know it is too big)."""
    return storage.stream.read(max_bytes + 1)


def chosen_files(files) -> list[FileStorage]:
    """The files actually chosen: browsers send an empty part when none is."""
    return [f for f in files or [] if isinstance(f, FileStorage) and f.filename]


def check_attachments(
    files,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_total: int = DEFAULT_MAX_TOTAL_BYTES,
    max_count: int = DEFAULT_MAX_COUNT,
) -> list[Attachment]:
    """Check every uploaded file; return the attachments or raise AttachmentError (Italian).

    All problems are reported at once, one sentence each, so the customer fixes them in one go.
    """
    chosen = chosen_files(files)
    if len(chosen) > max_count:
        raise AttachmentError(f"Puoi allegare al massimo {max_count} file: ne hai scelti {len(chosen)}.")
    problems: list[str] = []
    attachments: list[Attachment] = []
    for index, storage in enumerate(chosen, start=1):
        shown = PurePath(storage.filename.replace("\\", "/")).name or f"allegato {index}"
        data = read_limited(storage, max_bytes)
        if len(data) > max_bytes:
            problems.append(
                f"Il file «{shown}» supera la dimensione massima di {human_size(max_bytes)} per allegato: "
                "riducilo (ad esempio comprimendo l'immagine) o allega solo la parte utile."
            )
            continue
        if not data:
            problems.append(f"Il file «{shown}» è vuoto.")
            continue
        detected = detect_type(data, storage.filename)
        if detected is None:
            problems.append(
                f"Il file «{shown}» non è di un tipo accettato: il suo contenuto non corrisponde a nessuno "
                f"dei tipi ammessi ({ALLOWED_DESCRIPTION})."
            )
            continue
        content_type, extension = detected
        attachments.append(Attachment(safe_filename(storage.filename, extension, index), content_type, data))
    total = sum(a.size for a in attachments)
    if not problems and total > max_total:
        problems.append(
            f"Gli allegati superano in totale {human_size(max_total)} ({human_size(total)}): "
            "togli qualche file o riducine le dimensioni."
        )
    if problems:
        raise AttachmentError(" ".join(problems))
    return _unique_names(attachments)


def _unique_names(attachments: list[Attachment]) -> list[Attachment]:
    """Two files called ``log.txt`` become ``log.txt`` and ``log-2.txt``."""
    seen: set[str] = set()
    result = []
    for item in attachments:
        name = item.filename
        stem, _, extension = name.rpartition(".")
        counter = 2
        while name in seen:
            name = f"{stem}-{counter}.{extension}"
            counter += 1
        seen.add(name)
        result.append(Attachment(name, item.content_type, item.data) if name != item.filename else item)
    return result
