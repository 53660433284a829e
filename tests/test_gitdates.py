"""Last-change dates from one `git log` (kb_build.gitdates), on real git repositories."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from kb_build.gitdates import italian_date, last_changes


def commit(repo: Path, when: str, message: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    git = ["git", "-c", "user.name=Redazione", "-c", "user.email=r@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run(git + ["add", "-A"], cwd=repo, env=env, check=True, capture_output=True)
    subprocess.run(git + ["commit", "-q", "-m", message], cwd=repo, env=env, check=True, capture_output=True)


def dates(docs: Path) -> dict[str, str]:
    return {str(path.relative_to(docs.resolve())): italian_date(when) for path, when in last_changes(docs).items()}


def test_each_article_gets_its_last_edit_following_renames(tmp_path):
    repo = tmp_path / "repo"
    docs = repo / "docs"
    (docs / "email").mkdir(parents=True)
    (docs / "assistenza").mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (docs / "email" / "outlook.md").write_text("Configurare Outlook.\n" * 20, encoding="utf-8")
    (docs / "email" / "webmail.md").write_text("Usare la webmail.\n" * 20, encoding="utf-8")
    (docs / "email" / "vecchio.md").write_text("Un articolo che verrà tolto.\n", encoding="utf-8")
    (repo / "README.md").write_text("fuori da docs\n", encoding="utf-8")
    commit(repo, "2024-01-10T10:00:00+01:00", "Articoli")
    (docs / "email" / "webmail.md").write_text("Usare la webmail, aggiornato.\n" * 20, encoding="utf-8")
    commit(repo, "2024-02-20T10:00:00+01:00", "Modifica")
    # A move to another category: a rename, not an edit, keeps the date of the last edit.
    subprocess.run(["git", "mv", "docs/email/outlook.md", "docs/assistenza/outlook.md"], cwd=repo, check=True)
    (docs / "email" / "vecchio.md").unlink()
    commit(repo, "2024-03-30T10:00:00+01:00", "Sposta e togli")
    # A rename with edits counts as an edit.
    subprocess.run(["git", "mv", "docs/email/webmail.md", "docs/email/posta-web.md"], cwd=repo, check=True)
    text = (docs / "email" / "posta-web.md").read_text(encoding="utf-8")
    (docs / "email" / "posta-web.md").write_text(text + "Una riga in più.\n", encoding="utf-8")
    commit(repo, "2024-04-05T23:30:00+00:00", "Rinomina e modifica")  # 6 April in Rome
    (docs / "email" / "bozza.md").write_text("Non ancora nel repository.\n", encoding="utf-8")

    assert dates(docs) == {
        "assistenza/outlook.md": "10 gennaio 2024",
        "email/posta-web.md": "6 aprile 2024",
    }


def test_no_git_history_gives_no_dates(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("testo\n", encoding="utf-8")
    assert last_changes(docs) == {}
