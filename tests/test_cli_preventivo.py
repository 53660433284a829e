"""``kb preventivo``: the fee estimate on the command line, for support staff."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal

import pytest
from click.testing import CliRunner

from kb_build.cli import cli

from .helpers import KB


def run(*args: str):
    # Through the kb group, so the kb.commands entry point registration is exercised too.
    return CliRunner().invoke(cli, ["preventivo", *args])


JSON_CASES = [
    # arguments, totale, preventivo_richiesto, presa_in_carico_ore
    (["--fascia", "ordinaria", "--livello", "junior", "--minuti", "31"], "54.00", False, 8),
    (["--fascia", "ordinaria", "--livello", "junior", "--minuti", "31", "--urgente"], "81.00", False, 1),
    (["--fascia", "ordinaria", "--livello", "senior", "--minuti", "180"], "252.00", True, 8),
    (["--fascia", "straordinaria-pianificata", "--livello", "senior", "--minuti", "190"], "396.00", True, None),
    (["--fascia", "straordinaria-pianificata", "--livello", "junior", "--minuti", "240"], "250.00", False, None),
    (["--fascia", "straordinaria-urgente", "--livello", "senior", "--minuti", "45"], "201.00", False, 1),
    (["--fascia", "straordinaria-semplice", "--minuti", "45"], "54.00", False, None),
    (["--fascia", "straordinaria-semplice", "--livello", "senior", "--minuti", "45"], "54.00", False, None),
]


@pytest.mark.parametrize(("args", "total", "quote", "takeover"), JSON_CASES)
def test_json_output(args, total, quote, takeover):
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["totale"], data["preventivo_richiesto"], data["presa_in_carico_ore"]) == (total, quote, takeover)
    assert sum(Decimal(row["importo"]) for row in data["righe"]) == Decimal(total)


def test_text_output_shows_breakdown_total_take_over_and_quote():
    result = run("--fascia", "straordinaria-pianificata", "--livello", "senior", "--minuti", "190")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Durata stimata: 3h 10′ (fatturate 4h)" in lines
    assert any("prime 2h" in line and line.endswith("€ 230,00 + IVA") for line in lines)
    assert any("2 ore successive" in line and line.endswith("€ 166,00 + IVA") for line in lines)
    assert any(line.strip().startswith("Totale") and line.endswith("€ 396,00 + IVA") for line in lines)
    assert any(line.startswith("Preventivo da approvare: sì.") for line in lines)


def test_text_output_below_the_quote_threshold():
    result = run("--fascia", "ordinaria", "--livello", "junior", "--minuti", "31")
    assert "Presa in carico normalmente entro 8h dalla richiesta." in result.output
    assert "Preventivo da approvare: no (il costo stimato non supera € 250,00 + IVA)." in result.output


BAD_ARGS = [
    # arguments, words the message must contain
    (["--fascia", "notturna", "--livello", "junior", "--minuti", "30"],
     ["'--fascia'", "'ordinaria', 'straordinaria-pianificata', 'straordinaria-urgente', 'straordinaria-semplice'"]),
    (["--livello", "junior", "--minuti", "30"], ["Missing option '--fascia'", "straordinaria-semplice"]),
    (["--fascia", "ordinaria", "--minuti", "30"], ["Missing option '--livello'", "junior", "senior"]),
    (["--fascia", "ordinaria", "--livello", "medio", "--minuti", "30"], ["'--livello'", "'junior', 'senior'"]),
    (["--fascia", "ordinaria", "--livello", "junior"], ["Missing option '--minuti'"]),
    (["--fascia", "ordinaria", "--livello", "junior", "--minuti", "0"], ["'--minuti'", "maggiore di zero"]),
    (["--fascia", "ordinaria", "--livello", "junior", "--minuti", "3h10"], ["'--minuti'", "per 3h 10′ scrivere 190"]),
    (["--fascia", "straordinaria-pianificata", "--livello", "junior", "--minuti", "30", "--urgente"],
     ["'--urgente'", "solo nella fascia ordinaria"]),
]


@pytest.mark.parametrize(("args", "words"), BAD_ARGS)
def test_bad_arguments_say_what_is_accepted(args, words):
    result = run(*args)
    assert result.exit_code == 2
    for word in words:
        assert word in result.output


def test_kb_help_lists_the_command():
    result = CliRunner().invoke(cli, ["--help"])
    assert "preventivo" in result.output


def test_installed_console_script():
    done = subprocess.run(
        [str(KB), "preventivo", "--fascia", "straordinaria-urgente", "--livello", "senior", "--minuti", "45", "--json"],
        capture_output=True, text=True, encoding="utf-8", timeout=60,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["totale"] == "201.00"
    assert data["totale_testo"] == "€ 201,00 + IVA"
    assert data["presa_in_carico_ore"] == 1

    refused = subprocess.run(
        [str(KB), "preventivo", "--fascia", "festiva", "--livello", "senior", "--minuti", "45"],
        capture_output=True, text=True, encoding="utf-8", timeout=60,
    )
    assert refused.returncode == 2
    assert "'festiva' is not one of 'ordinaria'" in refused.stderr
    assert refused.stdout == ""
