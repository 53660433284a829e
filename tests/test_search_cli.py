"""`kb search`: readable results, JSON, and one JSON array per stdin line."""

from __future__ import annotations

import json
import select
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from kb_build.cli import cli

from .helpers import KB

EMAIL = "come-richiedere-assistenza-servizi-email"
MIGRATION = "migrazione-programmata-server-dedicati"


@pytest.fixture
def run(kb_index):
    def run(*args, input=None):
        result = CliRunner().invoke(cli, ["search", "--index", str(kb_index), *args], input=input)
        return result

    return run


def test_readable_results(run):
    result = run("emial non funziona")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "1. come richiedere assistenza per i servizi email"
    assert lines[1].startswith(f"   email/{EMAIL}/  (score ")
    assert "<mark>" not in result.output and "&lt;" not in result.output
    assert "email" in lines[2]


def test_readable_no_results(run):
    result = run("come si fa?")
    assert result.exit_code == 0 and result.output == "no results\n"


def test_json_with_limit(run):
    result = run("--json", "--limit", "2", "tariffe notturne")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert len(hits) == 2
    assert {"title", "url", "slug", "score", "snippet"} <= set(hits[0])
    assert hits[0]["slug"] == "assistenza-extracontrattuale-server-dedicati-server-virtuali-colocation"
    assert hits[0]["score"] >= hits[1]["score"]


def test_stdin_gives_one_json_array_per_line_in_order(run):
    result = run("--json", "--limit", "3", "-", input="migrazzione\n\ncome si fa\nla posta non arriva\n*\n")
    assert result.exit_code == 0, result.output
    arrays = [json.loads(line) for line in result.output.splitlines()]
    assert len(arrays) == 5
    assert arrays[0][0]["slug"] == MIGRATION
    assert arrays[1] == [] and arrays[2] == [] and arrays[4] == []
    assert arrays[3][0]["slug"] == EMAIL
    assert all(len(array) <= 3 for array in arrays)


def test_stdin_readable_mode_names_each_query(run):
    result = run("-", input="migrazzione\nemial\n")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("== migrazzione\n1. migrazione programmata di server dedicati\n")
    assert "\n== emial\n1. come richiedere assistenza per i servizi email\n" in result.output


def test_missing_index_is_one_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["search", "--index", str(tmp_path / "none"), "posta"])
    assert result.exit_code == 1
    assert result.output == f"Error: no search index at {tmp_path / 'none'}: build it with `kb build` (or `mkdocs build`)\n"


def test_index_location_comes_from_mkdocs_yml(tmp_path, kb_index):
    shutil.copytree(kb_index, tmp_path / "where" / "idx")
    (tmp_path / "mkdocs.yml").write_text("site_name: Prova\nplugins:\n  - kb:\n      index_dir: where/idx\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["search", "--config", str(tmp_path / "mkdocs.yml"), "--json", "emial"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["slug"] == EMAIL


def test_stdin_mode_answers_each_line_as_it_arrives(kb_index):
    """An evaluation script can write a query and read its answer before sending the next."""
    process = subprocess.Popen(
        [str(KB), "search", "--index", str(kb_index), "--json", "--limit", "1", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        for query, slug in [("emial", EMAIL), ("migrazzione", MIGRATION), ("🙂", None)]:
            process.stdin.write(query + "\n")
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], 30)
            assert ready, f"no answer to {query!r} within 30 s"
            hits = json.loads(process.stdout.readline())
            assert [hit["slug"] for hit in hits] == ([slug] if slug else [])
        process.stdin.close()
        assert process.wait(timeout=30) == 0, process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
