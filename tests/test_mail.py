"""The two e-mails of a ticket, header safety, and the SMTP_URL setting."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from intake.mail import (
    customer_message,
    department_message,
    format_answers,
    one_line,
    parse_address,
)
from intake.settings import ConfigError
from intake.store import Answer, Upload
from intake.transports import FileTransport, SMTPSettings, parse_transport_url, transport_from_url

WHEN = dt.datetime(2025, 11, 26, 9, 32, tzinfo=dt.timezone.utc)  # 10:32 in Rome
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def reparse(msg):
    """What a mail client sees: the stored bytes parsed back."""
    return message_from_bytes(msg.as_bytes(), policy=policy.default)


def text_of(msg) -> str:
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_department_message(make_submission, mail_settings):
    msg = reparse(
        department_message(
            "FPL-809-43017",
            make_submission(request_title="Problemi con la posta elettronica"),
            [Upload("errore.png", "image/png", PNG)],
            mail_settings,
            WHEN,
            "non ricevo",
        )
    )
    assert msg["Subject"] == "[FPL-809-43017] Non ricevo posta su info@rossi.it da ieri"
    assert msg["To"] == "hd@smacloud.it"
    assert msg["From"] == "Assistenza SMACloud <noreply@smacloud.it>"
    assert msg["Reply-To"] == "mario.rossi@example.com"  # answering reaches the customer
    assert msg["Message-ID"].endswith("@smacloud.it>")
    body = text_of(msg)
    assert body.startswith("Nuova richiesta FPL-809-43017: Problemi con la posta elettronica\n")
    assert "Modulo:     email\n" in body
    assert "Ricevuta:   mercoledì 26 novembre 2025, 10:32 (ora italiana)" in body
    assert 'Ricerca:    "non ricevo"' in body
    # Labels and values in the form's order, multi-line values indented under their label.
    answers = body[body.index("Oggetto:"):body.index("--- Allegati")]
    assert answers.strip() == (
        "Oggetto:\n  Non ricevo posta su info@rossi.it da ieri\n\n"
        "Caselle coinvolte:\n  info@rossi.it, amministrazione@rossi.it\n\n"
        "Direzione:\n  ricezione\n\n"
        "Messaggio di errore:\n  550 5.7.1 Relaying denied\n  second line of the bounce"
    )
    assert "errore.png (image/png, 264 byte)" in body
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "errore.png"
    assert attachment.get_content_type() == "image/png"
    assert attachment.get_content() == PNG


def test_sales_requests_go_to_sales(make_submission, mail_settings):
    msg = department_message("FPL-1", make_submission(department="sales"), [], mail_settings, WHEN)
    assert msg["To"] == "sales@smacloud.it"


def test_customer_confirmation_in_italian(make_submission, mail_settings):
    msg = reparse(
        customer_message("FPL-809-43017", make_submission(), mail_settings, WHEN, "La esamineremo entro lunedì alle 12:00.")
    )
    assert msg["Subject"] == "[FPL-809-43017] Abbiamo ricevuto la tua richiesta: Non ricevo posta su info@rossi.it da ieri"
    assert msg["To"] == "mario.rossi@example.com"
    assert msg["Reply-To"] == "hd@smacloud.it"  # a reply reaches the department, ID in the subject
    assert msg["Auto-Submitted"] == "auto-generated"
    assert not list(msg.iter_attachments())
    body = text_of(msg)
    for expected in (
        "le abbiamo assegnato il numero FPL-809-43017",
        "Reparto: Assistenza Tecnica",
        "Cosa succede ora",
        "La esamineremo entro lunedì alle 12:00.",
        "Messaggio di errore:\n  550 5.7.1 Relaying denied",
    ):
        assert expected in body


def test_messages_are_7bit_clean_for_any_smtp_server(make_submission, mail_settings):
    for msg in (
        department_message("FPL-1", make_submission(subject="Perché però è così?"), [], mail_settings, WHEN),
        customer_message("FPL-1", make_submission(subject="Perché però è così?"), mail_settings, WHEN, "Entro oggi."),
    ):
        raw = msg.as_bytes()
        assert raw.isascii()
        assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
        assert reparse(msg)["Subject"].endswith("Perché però è così?")


INJECTIONS = [
    "Problema\r\nBcc: vittima@example.org",
    "Problema\nBcc: vittima@example.org",
    "Problema\rBcc: vittima@example.org",
    "Problema\u2028Bcc: vittima@example.org",
    "Problema\x85Bcc: vittima@example.org",
    "Problema\r\n\r\nCorpo finto",
]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_line_breaks_in_customer_text_never_create_a_header(make_submission, mail_settings, evil):
    submission = make_submission(
        subject=evil,
        department_name=evil,
        priority=evil,
        request_type=evil,
        answers=[Answer("x", evil, evil)],
    )
    for msg in (
        department_message("FPL-1", submission, [Upload(f"a{evil}.png", f"image/png{evil}", PNG)], mail_settings, WHEN),
        customer_message("FPL-1", submission, mail_settings, WHEN, evil),
    ):
        parsed = reparse(msg)
        assert parsed.get_all("Bcc") is None
        assert set(parsed.keys()) <= {
            "From", "To", "Reply-To", "Subject", "Date", "Message-ID", "Auto-Submitted",
            "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
        }
        assert "Bcc: vittima@example.org" in parsed["Subject"] or "Corpo finto" in parsed["Subject"]
        for part in parsed.walk():
            assert part.get_all("Bcc") is None


@pytest.mark.parametrize(
    "address",
    [
        "mario@example.com\r\nBcc: vittima@example.org",
        "mario@example.com\nBcc: vittima@example.org",
        "mario@example.com, vittima@example.org",
        "Mario <mario@example.com>, <vittima@example.org>",
        "mario",
        "mario@",
        "",
    ],
)
def test_addresses_that_are_not_exactly_one_mailbox_are_refused(address):
    with pytest.raises(ValueError):
        parse_address(address)


@pytest.mark.parametrize(
    ("text", "display", "addr"),
    [
        ("mario@example.com", "", "mario@example.com"),
        ("Assistenza SMACloud <noreply@smacloud.it>", "Assistenza SMACloud", "noreply@smacloud.it"),
        ('"Rossi, Mario" <mario@example.com>', "Rossi, Mario", "mario@example.com"),
        ("info@caffè.it", "", "info@xn--caff-8oa.it"),
    ],
)
def test_addresses_accepted(text, display, addr):
    parsed = parse_address(text)
    assert (parsed.display_name, parsed.addr_spec) == (display, addr)


def test_one_line_keeps_the_words_and_drops_the_breaks():
    assert one_line("  a\r\nb\tc\u2029d  ") == "a b c d"


def test_empty_answers_are_shown_as_not_given():
    assert format_answers([Answer("x", "Versione del client", "")]) == "Versione del client:\n  (non indicato)"


def test_unknown_department_is_a_configuration_error(make_submission, mail_settings):
    with pytest.raises(ConfigError, match="no address for department 'noc'.*add 'noc=address@example.com'"):
        department_message("FPL-1", make_submission(department="noc"), [], mail_settings, WHEN)


# --- SMTP_URL -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:2525", SMTPSettings("127.0.0.1", 2525, "plain")),
        ("smtp://relay.example.com", SMTPSettings("relay.example.com", 25, "plain")),
        (
            "smtp+starttls://user%40example.com:p%40ss@mail.example.com",
            SMTPSettings("mail.example.com", 587, "starttls", "user@example.com", "p@ss"),
        ),
        ("smtps://u:p@mail.example.com?timeout=5", SMTPSettings("mail.example.com", 465, "ssl", "u", "p", 5.0)),
    ],
)
def test_smtp_urls(url, expected, tmp_path):
    assert parse_transport_url(url, tmp_path) == expected


def test_unset_smtp_url_means_eml_files_in_the_instance_folder(tmp_path):
    transport = transport_from_url(None, tmp_path / "mail")
    assert isinstance(transport, FileTransport) and transport.directory == tmp_path / "mail"
    assert transport_from_url("file:///var/spool/kb", tmp_path).directory == Path("/var/spool/kb")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.com", "unknown scheme 'http'"),
        ("mail.example.com:25", "unknown scheme"),
        ("smtp://", "no host"),
        ("smtp://mail.example.com:99999", "cannot parse"),
        ("smtp://mail.example.com:abc", "cannot parse"),
        ("smtp://:secret@mail.example.com", "a password without a user"),
        ("smtp://mail.example.com?tls=yes", "unknown option(s) tls"),
        ("smtp://mail.example.com?timeout=-1", "timeout must be seconds above 0"),
        ("smtp://mail.example.com?cafile=/nonexistent/ca.pem", "cafile '/nonexistent/ca.pem' does not exist"),
        ("file://relative/dir", "must be an absolute folder"),
    ],
)
def test_smtp_url_problems_say_how_to_fix(url, message, tmp_path):
    with pytest.raises(ConfigError) as info:
        parse_transport_url(url, tmp_path)
    assert str(info.value).startswith("SMTP_URL: ")
    assert message in str(info.value)


def test_smtp_url_errors_never_show_the_password(tmp_path):
    with pytest.raises(ConfigError) as info:
        parse_transport_url("smtpx://user:hunter2@mail.example.com", tmp_path)
    assert "hunter2" not in str(info.value) and "user:***@" in str(info.value)


def test_file_transport_writes_whole_eml_files(tmp_path):
    transport = FileTransport(tmp_path / "mail")
    with transport:
        transport.send("a@example.com", "b@example.com", b"Subject: x\r\n\r\nciao\r\n", "FPL-1-customer-2")
    assert [p.name for p in (tmp_path / "mail").iterdir()] == ["FPL-1-customer-2.eml"]
