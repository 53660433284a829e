"""Attachments: size limits, type by content, safe names; through the module and the form."""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage

from intake.attachments import MB, AttachmentError, check_attachments, detect_type, safe_filename
from intake.views import request_validated

from .intake_data import DEFINITIONS, error_ids, error_text, post_multipart, valid_data
from .samples import EML_BYTES, EXE_BYTES, GIF_BYTES, TEXT_BYTES, pdf_bytes, png_bytes

GENERICO = DEFINITIONS["generico"]


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type=content_type)


@pytest.mark.parametrize(
    ("name", "data", "content_type", "stored_as"),
    [
        ("fattura.pdf", pdf_bytes(), "application/pdf", "fattura.pdf"),
        ("schermata.png", png_bytes(), "image/png", "schermata.png"),
        ("animazione.gif", GIF_BYTES, "image/gif", "animazione.gif"),
        ("maillog.txt", TEXT_BYTES, "text/plain", "maillog.txt"),
        ("postfix.log", TEXT_BYTES, "text/plain", "postfix.log"),
        ("messaggio.eml", EML_BYTES, "message/rfc822", "messaggio.eml"),
        # named wrongly, but allowed content: stored with the extension of what it is
        ("schermata.pdf", png_bytes(), "image/png", "schermata.png"),
    ],
)
def test_allowed_types_are_recognised_by_content(name, data, content_type, stored_as):
    [attachment] = check_attachments([upload(name, data)])
    assert (attachment.filename, attachment.content_type, attachment.data) == (stored_as, content_type, data)


def test_exe_renamed_pdf_is_refused():
    with pytest.raises(AttachmentError) as caught:
        check_attachments([upload("fattura.pdf", EXE_BYTES, "application/pdf")])
    assert str(caught.value).startswith("Il file «fattura.pdf» non è di un tipo accettato")
    assert "PDF, immagini PNG, JPEG o GIF" in str(caught.value)


def test_binary_garbage_and_non_utf8_text_are_refused():
    assert detect_type(bytes(range(256)) * 4, "dati.txt") is None
    assert detect_type("perché".encode("latin-1"), "nota.txt") is None


def test_one_megabyte_is_accepted_one_byte_more_is_refused():
    text = b"a" * (MB - 1) + b"\n"
    assert check_attachments([upload("grande.txt", text)])[0].size == MB
    with pytest.raises(AttachmentError) as caught:
        check_attachments([upload("grande.txt", text + b"x")])
    assert str(caught.value) == (
        "Il file «grande.txt» supera la dimensione massima di 1 MB per allegato: "
        "riducilo (ad esempio comprimendo l'immagine) o allega solo la parte utile."
    )


def test_total_and_count_caps():
    files = [upload(f"log{i}.txt", b"riga\n" * 200_000) for i in range(5)]  # 5 x ~977 KB
    with pytest.raises(AttachmentError, match="superano in totale 4 MB"):
        check_attachments(files)
    with pytest.raises(AttachmentError, match="al massimo 5 file: ne hai scelti 6"):
        check_attachments([upload(f"n{i}.txt", b"ok\n") for i in range(6)])


@pytest.mark.parametrize(
    ("name", "extension", "safe"),
    [
        ("../../etc/passwd", "txt", "etc_passwd.txt"),
        ("..\\..\\Windows\\system32\\cmd.exe", "pdf", "Windows_system32_cmd.pdf"),
        ("C:\\Users\\mario\\Desktop\\fattura marzo.PDF", "pdf", "C_Users_mario_Desktop_fattura_marzo.pdf"),
        ("fattura città.pdf", "pdf", "fattura_citta.pdf"),
        ("../../", "txt", "allegato-3.txt"),
        (".htaccess", "txt", "htaccess.txt"),
        ("日本語.png", "png", "allegato-3.png"),
    ],
)
def test_file_names_are_made_safe(name, extension, safe):
    result = safe_filename(name, extension, index=3)
    assert result == safe
    assert "/" not in result and "\\" not in result and not result.startswith(".")


def test_same_names_are_kept_apart():
    names = [a.filename for a in check_attachments([upload("log.txt", b"uno\n"), upload("log.txt", b"due\n")])]
    assert names == ["log.txt", "log-2.txt"]


# --- through the form ------------------------------------------------------------------------

def post_with_files(client, files, **answers):
    return post_multipart(client, "/modulo/generico", valid_data(GENERICO, **answers), files)


def test_real_pdf_png_and_text_are_accepted_by_the_form(client, app):
    received = []
    request_validated.connect(lambda sender, submission: received.append(submission), app, weak=False)
    response = post_with_files(
        client, [("fattura.pdf", pdf_bytes()), ("errore.png", png_bytes()), ("../../etc/passwd", TEXT_BYTES)]
    )
    assert response.status_code == 303, error_ids(response.get_data(as_text=True))
    page = client.get(response.location).get_data(as_text=True)
    assert [(a.filename, a.content_type) for a in received[0].attachments] == [
        ("fattura.pdf", "application/pdf"),
        ("errore.png", "image/png"),
        ("etc_passwd.txt", "text/plain"),
    ]
    assert "etc_passwd.txt" in page and "../" not in page


def test_oversize_file_gets_an_italian_message_next_to_the_field_and_values_are_kept(client):
    response = post_with_files(client, [("enorme.log", b"x" * (MB + 1))])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error_ids(page) == ["allegati"]
    assert "supera la dimensione massima di 1 MB per allegato" in error_text(page, "allegati")
    assert "gli allegati vanno scelti di nuovo" in page
    assert "sceglili di nuovo" in page
    assert 'value="Errore 550 inviando da info@example.it verso Gmail"' in page
    assert "Da ieri mattina il problema si ripete" in page


def test_exe_renamed_pdf_is_refused_by_the_form(client):
    page = post_with_files(client, [("fattura.pdf", EXE_BYTES)]).get_data(as_text=True)
    assert error_ids(page) == ["allegati"]
    assert "non è di un tipo accettato" in error_text(page, "allegati")


def test_other_errors_also_say_attachments_must_be_chosen_again(client):
    page = post_with_files(client, [("fattura.pdf", pdf_bytes())], oggetto="aiuto!").get_data(as_text=True)
    assert error_ids(page) == ["oggetto"]
    assert "gli allegati vanno scelti di nuovo" in page


def test_request_above_the_size_limit_gets_the_italian_form_page_not_a_bare_413(tmp_path):
    from .conftest import customer_app, intake_test_config

    client = customer_app(intake_test_config(tmp_path, MAX_CONTENT_LENGTH=64 * 1024)).test_client()
    response = post_with_files(client, [("grande.log", b"x" * 100_000)])
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert 'lang="it"' in page and "<form" in page
    assert error_ids(page) == ["allegati"]
    assert "supera il limite di 64 KB e non è stata ricevuta" in error_text(page, "allegati")
    assert "torna indietro con il browser per recuperarli" in page


def test_limits_are_shown_next_to_the_field(client):
    page = client.get("/modulo/generico").get_data(as_text=True)
    assert "Al massimo 5 file, 1 MB ciascuno e 4 MB in totale." in page
    assert 'data-max-bytes="1048576"' in page
