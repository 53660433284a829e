"""Build benchmark (`make bench`): our full build against plain MkDocs + Material, and the
time from saving an article to finding it through the search API during `mkdocs serve`.

    python -m tests.bench.bench_build [SIZES...] [--baseline-max N] [--out DIR] [--no-serve]

For each size (default 100, 1,000 and 5,000 articles) a project is generated under
``--out`` (default ``.bench/``, never the repository's own ``site/`` or ``build/``): the
synthetic articles of ``tests/bench/synth.py``, this repository's ``mkdocs.yml``,
``overrides/`` and intake form definitions, committed to a fresh git repository so the
"Ultimo aggiornamento" dates come from git as in production. Then, each build in its
own subprocess:

- **ours**: ``kb build`` (site and search index, built aside and swapped in);
- **baseline**: ``mkdocs build`` with Material's defaults (no ``navigation.prune``, no
  ``kb`` plugin and so no index, the same Markdown extensions) on the same ``docs/``.
  Material renders the whole navigation into every page, so this grows quadratically
  (PITFALLS.md: 3,000 pages took 250 s and 3.1 GB): it runs only up to
  ``--baseline-max`` articles (default 1,000), and the report says so.

Measured: wall time, CPU time (user + system, all processes of the build), the peak
resident memory of the largest process (``getrusage(RUSAGE_CHILDREN)`` of a fresh
wrapper process per build), and the output size (site, plus the index for ours).

Then, on the largest size, ``mkdocs serve`` runs on the project while this process keeps
one :class:`kb_build.search.Searcher` open (as the intake does, in another process): an
article's body gets a new word, an article is added, one is deleted, and the time from
each save until a query sees it is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

from ..helpers import ROOT, folder_size
from ..helpers import make_project as copy_project_files
from ..mailserver import free_port
from .synth import generate

KB = Path(sys.executable).parent / "kb"
MKDOCS = Path(sys.executable).parent / "mkdocs"

# Runs one command and prints its resource usage as JSON: a fresh process per build, so
# RUSAGE_CHILDREN covers that build only (its children and their children).
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code.returncode, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss_mb": usage.ru_maxrss / 1024, "stderr": code.stderr[-3000:]}))
"""

BASELINE_CONFIG = {
    "site_name": "Knowledge base (baseline)",
    "docs_dir": "docs",
    "theme": {"name": "material", "language": "it", "font": False},
    "markdown_extensions": [
        "admonition",
        "attr_list",
        "md_in_html",
        "tables",
        {"toc": {"permalink": True}},
        "pymdownx.details",
        "pymdownx.superfences",
    ],
}


def environment() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env["NO_MKDOCS_2_WARNING"] = "1"
    return env


def make_project(target: Path, size: int) -> Path:
    """A writer's checkout with ``size`` synthetic articles, committed to git."""
    shutil.rmtree(target, ignore_errors=True)
    generate(target, size)
    copy_project_files(target, docs=False)
    (target / "baseline.yml").write_text(yaml.safe_dump(BASELINE_CONFIG, sort_keys=False), encoding="utf-8")
    git = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.org", "-c", "commit.gpgsign=false"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "Articles"]):
        subprocess.run(git + command, cwd=target, check=True, capture_output=True)
    return target


def measure(command: list[str], cwd: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], cwd=cwd, env=environment(), capture_output=True, text=True
    )
    found = json.loads(result.stdout)
    if found["code"] != 0:
        raise RuntimeError(f"{' '.join(command)} failed in {cwd}:\n{found['stderr']}")
    return found


def build_ours(project: Path) -> dict:
    for name in ("site", "build"):
        shutil.rmtree(project / name, ignore_errors=True)
    found = measure([str(KB), "build"], project)
    found["site_mb"] = folder_size(project / "site") / 1e6
    found["index_mb"] = folder_size(project / "build" / "kb-index") / 1e6
    return found


def build_baseline(project: Path) -> dict:
    site = project / "site-baseline"
    shutil.rmtree(site, ignore_errors=True)
    found = measure([str(MKDOCS), "build", "-q", "-f", "baseline.yml", "-d", str(site)], project)
    found["site_mb"] = folder_size(site) / 1e6
    found["index_mb"] = 0.0
    shutil.rmtree(site, ignore_errors=True)  # gigabytes at large sizes
    return found


# ---------------------------------------------------------------------------
# mkdocs serve: save -> searchable


def wait_for(predicate, timeout: float, step: float = 0.01):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError("gave up waiting")


def serve_latencies(project: Path, rounds: int = 2) -> dict:
    """Seconds from saving a file to a query that sees it, for edits, additions, deletions."""
    from kb_build.search import Searcher

    log = (project / "serve.log").open("w")
    port = free_port()
    server = subprocess.Popen(
        [str(MKDOCS), "serve", "-a", f"127.0.0.1:{port}"], cwd=project, env=environment(), stdout=log, stderr=log
    )
    timings: dict[str, list[float]] = {"edit": [], "add": [], "delete": []}
    try:
        index_dir = project / "build" / "kb-index"
        searcher = Searcher(index_dir)
        started = time.perf_counter()
        wait_for(lambda: "Serving on" in (project / "serve.log").read_text(), timeout=600, step=0.2)
        first_build = time.perf_counter() - started
        searcher.check()
        articles = sorted((project / "docs").glob("*/*.md"))
        articles = [a for a in articles if a.name != "index.md"]
        log_path = project / "serve.log"

        def builds_done() -> int:
            return log_path.read_text().count("Documentation built in")

        rebuilds = []

        def save(change) -> tuple[int, float]:
            """Make a change after the previous rebuild ended (MkDocs handles a save only
            once the rebuild in progress is over, as a writer notices); its start time."""
            done = builds_done()
            change()
            return done, time.perf_counter()

        def rebuilt(done: int, saved: float) -> None:
            wait_for(lambda: builds_done() > done, timeout=900, step=0.2)
            rebuilds.append(time.perf_counter() - saved)
            time.sleep(1)

        for number in range(rounds):
            # Words no article has, and more than one edit apart (a typo-tolerant search
            # would find an article by a word one letter away).
            word, added = f"zebrolino{'abcdefgh'[number]}", f"pangolotto{'abcdefgh'[number]}"
            # An edit: a new word in an article's body.
            target = articles[number * 7]
            text = target.read_text(encoding="utf-8") + f"\nUna parola nuova: {word}.\n"
            done, saved = save(lambda: target.write_text(text, encoding="utf-8"))
            wait_for(lambda: any(h.slug == target.stem for h in searcher.search(word)), timeout=120)
            timings["edit"].append(time.perf_counter() - saved)
            rebuilt(done, saved)
            # An addition: a new article.
            new = project / "docs" / "email" / f"articolo-nuovo-{number}.md"
            body = (
                f"---\ntitle: Articolo nuovo numero {number}\nsummary: Un articolo aggiunto durante la prova.\n"
                f"category: email\n---\n\nIl testo parla di {added}.\n"
            )
            done, saved = save(lambda: new.write_text(body, encoding="utf-8"))
            wait_for(lambda: any(h.slug == new.stem for h in searcher.search(added)), timeout=120)
            timings["add"].append(time.perf_counter() - saved)
            rebuilt(done, saved)
            # A deletion.
            done, saved = save(new.unlink)
            wait_for(lambda: not searcher.search(added), timeout=120)
            timings["delete"].append(time.perf_counter() - saved)
            rebuilt(done, saved)
        searcher.close()
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    return {"first_build": first_build, "rebuild": statistics.median(rebuilds), **timings}


# ---------------------------------------------------------------------------


def report(rows: list[dict], baseline_max: int, serve: dict | None) -> str:
    lines = [
        "Build benchmark: synthetic articles (tests/bench/synth.py), each build in its own process",
        f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average at start "
        f"{rows[0]['load']:.1f} (other processes share the machine: compare CPU times too)",
        "",
        f"{'articles':>8}  {'build':<9}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}{'site MB':>9}{'index MB':>9}",
    ]
    for row in rows:
        for name in ("ours", "baseline"):
            found = row.get(name)
            if found is None:
                lines.append(f"{row['size']:>8,}  {name:<9}{'not run (> --baseline-max, grows quadratically)':>52}")
                continue
            lines.append(
                f"{row['size']:>8,}  {name:<9}{found['wall']:>8.1f}{found['cpu']:>8.1f}{found['rss_mb']:>9.0f}"
                f"{found['site_mb']:>9.1f}{found['index_mb']:>9.1f}"
            )
    by_size = {row["size"]: row for row in rows}
    if 1000 in by_size and 5000 in by_size:
        wall = by_size[5000]["ours"]["wall"] / by_size[1000]["ours"]["wall"]
        cpu = by_size[5000]["ours"]["cpu"] / by_size[1000]["ours"]["cpu"]
        lines += ["", f"ours, t(5,000) / t(1,000): {wall:.1f} (wall), {cpu:.1f} (CPU); goal <= 6, and t(5,000) < 40 s"]
    if baseline_max < max(by_size):
        lines.append(
            f"baseline not run above {baseline_max:,} articles: plain Material renders the whole "
            "navigation into every page (quadratic; PITFALLS.md: 3,000 pages 250 s, 3.1 GB)"
        )
    if serve:
        lines += ["", report_serve(serve, max(by_size))]
    return "\n".join(lines)


def report_serve(serve: dict, size: int) -> str:
    lines = [
        f"mkdocs serve on {size:,} articles (first build {serve['first_build']:.1f} s, "
        f"each rebuild about {serve['rebuild']:.0f} s), seconds from saving a file to a search "
        "(another process's Searcher) that sees it:",
    ]
    for kind in ("edit", "add", "delete"):
        values = serve[kind]
        lines.append(
            f"  {kind:<7} median {statistics.median(values):.2f}  max {max(values):.2f}  (n={len(values)}; goal < 1 s)"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000, 5000])
    parser.add_argument("--baseline-max", type=int, default=1000, help="largest size for plain MkDocs")
    parser.add_argument("--out", type=Path, default=ROOT / ".bench")
    parser.add_argument("--no-serve", action="store_true", help="skip the mkdocs serve measurement")
    parser.add_argument("--serve-only", action="store_true", help="only the mkdocs serve measurement (largest size)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.serve_only:
        size = args.sizes[-1]
        project = args.out / f"build-{size}"
        if not (project / ".git").is_dir():
            project = make_project(project, size)
        serve = serve_latencies(project)
        print(report_serve(serve, size))
        return 0
    rows = []
    project = None
    for size in args.sizes:
        print(f"generating and building {size:,} articles ...", flush=True)
        project = make_project(args.out / f"build-{size}", size)
        row = {"size": size, "load": os.getloadavg()[0], "ours": build_ours(project)}
        if size <= args.baseline_max:
            row["baseline"] = build_baseline(project)
        rows.append(row)
        print(f"  ours {row['ours']['wall']:.1f} s", flush=True)
    serve = None
    if not args.no_serve and project is not None:
        print(f"mkdocs serve on {args.sizes[-1]:,} articles ...", flush=True)
        serve = serve_latencies(project)
    text = report(rows, args.baseline_max, serve)
    print()
    print(text)
    (args.out / "build-report.txt").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
