"""A `kb build` killed half way (kill -9) while it writes the index or the site (in one
process or several) leaves the published site and index usable, and the next build cleans
up after it (issue 8)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from kb_build.plugin import PARALLEL_MIN_ARTICLES
from kb_build.search import Searcher

from .bench.synth import generate
from .helpers import KB, build_environment, leftovers, make_project, snapshot

EMAIL = "come-richiedere-assistenza-servizi-email"
# Enough articles for the index to be written by its own process, and for both writes to
# take a few seconds: time to kill the build in the middle of them.
SYNTHETIC_ARTICLES = max(400, PARALLEL_MIN_ARTICLES)


def build_processes(project: Path) -> list[int]:
    """The processes a build starts (the index writer, the page renderers) still running
    for this project."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if ("kb_build.indexer" in command or "kb_build.shards" in command) and str(project) in command:
                found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """The real docs plus synthetic articles, built once: what customers see now."""
    project = make_project(tmp_path_factory.mktemp("interrupted") / "project")
    synthetic = generate(project.parent / "synthetic", SYNTHETIC_ARTICLES)
    for folder in synthetic.iterdir():
        if folder.is_dir() and not (project / "docs" / folder.name).exists():
            shutil.copytree(folder, project / "docs" / folder.name)  # a category the real docs lack
            continue
        for article in folder.glob("*.md"):
            if article.name != "index.md":
                shutil.copy(article, project / "docs" / folder.name / article.name)
    result = subprocess.run([str(KB), "build"], cwd=project, env=build_environment(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return project


@pytest.fixture
def project(published, tmp_path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(published, copy)
    return copy


def written_index(project: Path, pid: int) -> bool:
    staged = project / "build" / f".kb-index.staged-{pid}"
    return staged.is_dir() and any(staged.iterdir())


def written_pages(project: Path, pid: int) -> bool:
    building = project / f".site.building-{pid}"
    return building.is_dir() and sum(1 for _ in building.glob("*/*/index.html")) >= 50


def pages_of_another_process(project: Path, pid: int) -> bool:
    part = project / f".site.shard1-{pid}"
    return part.is_dir() and sum(1 for _ in part.glob("*/*/index.html")) >= 50


@pytest.mark.parametrize(
    "while_writing, options",
    [(written_index, []), (written_pages, []), (pages_of_another_process, ["--jobs", "2"])],
    ids=["index", "site", "site-in-two-processes"],
)
def test_a_build_killed_half_way_keeps_the_published_site_and_index(project, while_writing, options):
    site_before = snapshot(project / "site")
    with Searcher(project / "build" / "kb-index") as searcher:
        answer_before = [hit.slug for hit in searcher.search("la posta non arriva")]
    assert EMAIL in answer_before
    article = project / "docs" / "email" / f"{EMAIL}.md"
    article.write_text(article.read_text(encoding="utf-8") + "\nCapita anche con lo zebrolino.\n", encoding="utf-8")

    build = subprocess.Popen([str(KB), "build", *options], cwd=project, env=build_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not while_writing(project, build.pid):
        assert build.poll() is None, "the build ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(build.pid, signal.SIGKILL)
    build.wait()

    # What customers and the intake see is the previous build, whole.
    assert snapshot(project / "site") == site_before
    with Searcher(project / "build" / "kb-index") as searcher:
        assert [hit.slug for hit in searcher.search("la posta non arriva")] == answer_before
        assert searcher.search("zebrolino") == []
    # The index writer and the other page renderers died with their parent; only folders
    # are left, for the next build.
    for _ in range(100):
        if not build_processes(project):
            break
        time.sleep(0.05)
    assert build_processes(project) == []
    assert leftovers(project)

    result = subprocess.run([str(KB), "build", *options], cwd=project, env=build_environment(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert leftovers(project) == []
    with Searcher(project / "build" / "kb-index") as searcher:
        assert [hit.slug for hit in searcher.search("zebrolino")] == [EMAIL]
    assert "zebrolino" in (project / "site" / "email" / EMAIL / "index.html").read_text(encoding="utf-8")
