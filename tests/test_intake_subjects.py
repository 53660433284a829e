"""The generic-subject rule (intake/subjects.py) on a table of real-looking subjects."""

from __future__ import annotations

import pytest

from intake.subjects import GENERIC_MESSAGE, SHOUTING_MESSAGE, VAGUE_MESSAGE, meaningful_words, subject_problem

GENERIC, VAGUE, SHOUTING, OK = "generic", "vague", "shouting", "ok"

# (subject, verdict): the KB's own bad examples first, then what customers write.
SUBJECTS = [
    ("richiesta assistenza", GENERIC),
    ("apertura ticket", GENERIC),
    ("aiuto!", GENERIC),
    ("problema", GENERIC),
    ("urgente", GENERIC),
    ("non funziona l'email!", VAGUE),
    ("Non funziona l’email!", VAGUE),
    ("Richiesta informazioni", GENERIC),
    ("help", GENERIC),
    ("SOS", GENERIC),
    ("ticket", GENERIC),
    ("Assistenza tecnica urgente", GENERIC),
    ("non va niente", GENERIC),
    ("Buongiorno, vi scrivo per un problema", GENERIC),
    ("Supporto urgente per favore", GENERIC),
    ("???", GENERIC),
    ("Problemi email", VAGUE),
    ("Problema con il sito", VAGUE),
    ("Sito lento", VAGUE),
    ("Cambio password", VAGUE),
    ("example.it", VAGUE),
    ("URGENTE!!! IL SITO NON VA", SHOUTING),
    ("ERRORE INVIO POSTA DA OUTLOOK", SHOUTING),
    ("NON RICEVO PIÙ LE EMAIL SU INFO@EXAMPLE.IT", SHOUTING),
    ("Errore 550 inviando da info@example.it verso Gmail", OK),
    ("Casella info@example.it non riceve posta da ieri", OK),
    ("Rinnovo del dominio example.it non riuscito", OK),
    ("Il sito example.it è lento da stamattina", OK),
    ("Certificato SSL scaduto su www.example.it", OK),
    ("Fattura 2024/118 con importo errato", OK),
    ("Outlook chiede continuamente la password di mario@example.it", OK),
    ("Migrazione server srv12.example.it: switch IP il 14 marzo", OK),
    ("Preventivo assistenza managed per server a noleggio", OK),
    ("Configurazione DNS record MX per example.it", OK),
    ("Riavvio urgente del server dedicato srv3", OK),
    ("Messaggi verso libero.it respinti con errore 554", OK),
    ("Aumento spazio disco Hosting Pro example.it", OK),
    ("Backup del database WordPress non completato", OK),
    ("Pagina bianca dopo aggiornamento plugin WooCommerce", OK),
    ("Trasferimento dominio città.it da altro registrar", OK),
    ("Errore SMTP 535 autenticazione fallita su Thunderbird", OK),
    ("VPS CronusVPS non raggiungibile via SSH", OK),
    ("DNS MX di example.it", OK),
]


def test_the_table_is_big_enough():
    assert len(SUBJECTS) >= 30
    assert {verdict for _, verdict in SUBJECTS} == {GENERIC, VAGUE, SHOUTING, OK}


@pytest.mark.parametrize(("subject", "verdict"), SUBJECTS)
def test_subject_rule(subject, verdict):
    problem = subject_problem(subject)
    expected = {
        OK: None,
        GENERIC: GENERIC_MESSAGE.format(subject=subject),
        VAGUE: VAGUE_MESSAGE.format(subject=subject),
        SHOUTING: SHOUTING_MESSAGE,
    }[verdict]
    assert problem == expected, meaningful_words(subject)


def test_every_refusal_explains_what_to_write():
    for subject, verdict in SUBJECTS:
        if verdict != OK:
            assert "il servizio o il dominio" in subject_problem(subject)
            assert "ad esempio «" in subject_problem(subject)


def test_elisions_accents_and_addresses_are_handled():
    assert meaningful_words("L’email dell'account città@example.it") == ["email", "account", "citta@example.it"]


def test_empty_subject_is_left_to_the_required_check():
    assert subject_problem("   ") is None
