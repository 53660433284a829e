"""Relevance metrics over a query file (``queries.yaml`` format), shared by the test and by
``python -m tests.relevance.metrics`` (prints the figures while tuning)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).parent
QUERIES = HERE / "queries.yaml"
HOLDOUT = HERE / "holdout.yaml"
MIN_HIT_AT_3 = 0.95
MIN_MRR = 0.85


@dataclass(frozen=True)
class Case:
    query: str
    expect: tuple[str, ...]


@dataclass
class Report:
    cases: int
    hit_at_1: float
    hit_at_3: float
    mrr: float
    misses: list[str]  # one line per query whose first expected article is not first

    def summary(self) -> str:
        return f"{self.cases} queries: hit@1 {self.hit_at_1:.3f}, hit@3 {self.hit_at_3:.3f}, MRR {self.mrr:.3f}"


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Case(str(item["query"]), tuple(item["expect"])) for item in data]


def evaluate(cases: list[Case], search) -> Report:
    """``search(query) -> [slug, ...]`` ranked; a hit is any expected slug."""
    at1 = at3 = 0
    reciprocal = 0.0
    misses = []
    for case in cases:
        ranked = search(case.query)
        rank = next((n for n, slug in enumerate(ranked, start=1) if slug in case.expect), None)
        at1 += rank == 1
        at3 += rank is not None and rank <= 3
        reciprocal += 1 / rank if rank else 0.0
        if rank != 1:
            misses.append(f"rank {rank or '-'}: {case.query!r} expected {list(case.expect)}, got {ranked[:3]}")
    n = len(cases)
    return Report(n, at1 / n, at3 / n, reciprocal / n, misses)


def main(argv: list[str]) -> int:  # pragma: no cover - a tuning aid
    from kb_build.articles import load_docs
    from kb_build.index import build_index
    from kb_build.search import Searcher

    import tempfile

    root = HERE.parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = build_index(load_docs(root / "docs").articles, Path(tmp) / "index")
        with Searcher(index_dir) as searcher:
            for path in [Path(p) for p in argv] or [QUERIES]:
                report = evaluate(load_cases(path), lambda q: [h.slug for h in searcher.search(q, limit=10)])
                print(f"{path.name}: {report.summary()}")
                for line in report.misses:
                    print("  " + line)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
