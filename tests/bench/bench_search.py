"""Search benchmark (`make bench`): Whoosh index vs SQLite FTS5 over the same synthetic KB.

    python -m tests.bench.bench_search [SIZES...] [--queries N] [--out DIR] [--profile]

For each size (default 100, 1,000, 5,000 articles) it generates the KB (tests/bench/synth.py),
loads it with the article model, then measures in the same run:

- index build time and size: ``kb_build.index.build_index`` vs inserting the same fields
  into an FTS5 table (``unicode61 remove_diacritics 2``) in a SQLite file;
- query latency p50/p95 over N queries (default 500) with one reused searcher / connection,
  after a warm-up of 20 queries. Both return the top 5 with a highlighted snippet; Whoosh
  also does its Italian analysis, synonyms and fuzzy matching, FTS5 only ORs the typed
  words. Latency is reported as CPU time of this process (what a query costs, stable on
  a shared machine) and as wall-clock time (what a user waits, noisy when other
  processes compete for the 2 cores).

Ratios are Whoosh / FTS5 (lower is better for Whoosh). ``--profile`` prints where Whoosh
spends its time on the largest size.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import sqlite3
import statistics
import time
from pathlib import Path

from kb_build.articles import load_docs
from kb_build.index import build_index
from kb_build.search import FIELD_WEIGHTS, Searcher

from ..helpers import ROOT, folder_size
from .synth import generate, queries

FTS_COLUMNS = ("title", "headings", "summary", "body", "tags")
FTS_WEIGHTS = tuple(FIELD_WEIGHTS[column] for column in FTS_COLUMNS)  # bm25() weights, as Whoosh's
_WORD = re.compile(r"\w+")


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


def time_queries(run, texts: list[str]) -> tuple[list[float], list[float]]:
    """Milliseconds per query: (CPU times, wall-clock times)."""
    for text in texts[:20]:  # warm-up: lazily opened files, first allocations
        run(text)
    cpu, wall = [], []
    for text in texts:
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        run(text)
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start_wall) * 1000)
    return cpu, wall


def build_fts(articles, path: Path) -> float:
    if path.exists():
        path.unlink()
    start = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute(
        "CREATE VIRTUAL TABLE docs USING fts5("
        f"slug UNINDEXED, {', '.join(FTS_COLUMNS)}, tokenize='unicode61 remove_diacritics 2')"
    )
    db.executemany(
        "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)",
        [(a.slug, a.title, "\n".join(a.headings), a.summary, a.text, " ".join(a.tags)) for a in articles],
    )
    db.commit()
    db.close()
    return time.perf_counter() - start


def fts_searcher(path: Path):
    db = sqlite3.connect(path, check_same_thread=False)
    weights = ", ".join(str(w) for w in FTS_WEIGHTS)
    sql = (
        "SELECT slug, title, summary, snippet(docs, 4, '<mark>', '</mark>', '…', 24), "
        f"bm25(docs, 0, {weights}) AS score FROM docs WHERE docs MATCH ? ORDER BY score LIMIT 5"
    )

    def search(text: str):
        words = _WORD.findall(text)
        if not words:
            return []
        return db.execute(sql, [" OR ".join(f'"{w}"' for w in words)]).fetchall()

    return db, search


def measure(size: int, texts: list[str], out: Path) -> dict:
    workdir = out / f"kb-{size}"
    shutil.rmtree(workdir, ignore_errors=True)
    docs_dir = generate(workdir, size)
    start = time.perf_counter()
    docs = load_docs(docs_dir)
    load_seconds = time.perf_counter() - start
    assert len(docs.articles) == size and not docs.problems, docs.problems[:3]

    index_dir = workdir / "kb-index"
    start = time.perf_counter()
    build_index(docs.articles, index_dir)
    whoosh_build = time.perf_counter() - start
    load_machine = os.getloadavg()[0]
    fts_path = workdir / "fts.sqlite"
    fts_build = build_fts(docs.articles, fts_path)

    start = time.perf_counter()
    searcher = Searcher(index_dir)
    searcher.check()  # opens the index: vocabulary, field lengths
    whoosh_open = time.perf_counter() - start
    whoosh_cpu, whoosh_wall = time_queries(lambda text: searcher.search(text, limit=5), texts)
    db, fts_search = fts_searcher(fts_path)
    fts_cpu, fts_wall = time_queries(fts_search, texts)
    found = sum(1 for text in texts if searcher.search(text, limit=5))
    fts_found = sum(1 for text in texts if fts_search(text))
    db.close()
    result = {
        "size": size,
        "load": load_seconds,
        "build": (whoosh_build, fts_build),
        "bytes": (folder_size(index_dir), fts_path.stat().st_size),
        "p50 cpu": (percentile(whoosh_cpu, 0.50), percentile(fts_cpu, 0.50)),
        "p95 cpu": (percentile(whoosh_cpu, 0.95), percentile(fts_cpu, 0.95)),
        "p50 wall": (percentile(whoosh_wall, 0.50), percentile(fts_wall, 0.50)),
        "p95 wall": (percentile(whoosh_wall, 0.95), percentile(fts_wall, 0.95)),
        "open": whoosh_open,
        "found": (found, fts_found),
        "searcher": searcher,
        "load average": load_machine,
    }
    return result


def row(label: str, pair: tuple[float, float], unit: str, digits: int) -> str:
    whoosh, fts = pair
    ratio = whoosh / fts if fts else float("inf")
    return f"{label:<16}{whoosh:>10.{digits}f} {unit:<3}{fts:>10.{digits}f} {unit:<3}{ratio:>8.1f}x"


def report(results: list[dict], count: int) -> str:
    lines = [
        f"Search benchmark: {count} queries per size, top 5 with snippet, one reused searcher/connection",
        f"machine: {os.cpu_count()} CPUs, Python {'.'.join(map(str, __import__('sys').version_info[:3]))}, "
        f"SQLite {sqlite3.sqlite_version}",
        "",
    ]
    for r in results:
        lines.append(
            f"== {r['size']:,} articles (parse {r['load']:.1f} s; Whoosh searcher opens in {r['open'] * 1000:.0f} ms; "
            f"queries with results: Whoosh {r['found'][0]}, FTS5 {r['found'][1]}; "
            f"load average {r['load average']:.1f})"
        )
        lines.append(f"{'':<16}{'Whoosh':>14}{'FTS5':>14}{'ratio':>9}")
        lines.append(row("build", r["build"], "s", 2))
        lines.append(row("size", tuple(b / 1e6 for b in r["bytes"]), "MB", 1))
        for key in ("p50 cpu", "p95 cpu", "p50 wall", "p95 wall"):
            lines.append(row(f"query {key}", r[key], "ms", 2))
        lines.append("")
    return "\n".join(lines)


def profile(searcher: Searcher, texts: list[str]) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for text in texts:
        searcher.search(text, limit=5)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(25)
    return stream.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000, 5000])
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--out", type=Path, default=ROOT / ".bench")
    parser.add_argument("--profile", action="store_true", help="profile Whoosh queries on the largest size")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    texts = queries(args.queries)
    results = []
    for size in args.sizes:
        print(f"measuring {size:,} articles ...", flush=True)
        results.append(measure(size, texts, args.out))
    text = report(results, len(texts))
    print()
    print(text)
    (args.out / "search-report.txt").write_text(text + "\n", encoding="utf-8")
    if args.profile:
        print(profile(results[-1]["searcher"], texts))
    for r in results:
        r["searcher"].close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
