"""Load test of the intake under gunicorn (`make bench`), next to a bare Flask hello world.

    python -m tests.bench.bench_intake [--duration S] [--connections N] [--rounds R] [--out DIR]

In one run, on 127.0.0.1:

1. a PostgreSQL 15 server of its own (fsync on, as in production) and the search index
   built from the committed docs/;
2. the intake under gunicorn with deploy/gunicorn.conf.py and 2 workers, configured only by
   environment variables (rate limits raised for the run by configuration: one client
   address sends everything), and the hello world (tests/bench/hello.py) under the same
   settings;
3. wrk (a second process, 1 thread, ``--connections`` connections) for ``--duration``
   seconds on each of: the hello world and the form page (``GET /modulo/email?token=``,
   with the session cookie of the search that issued the token, as a browser sends it), in
   turns for ``--rounds`` rounds (hello first, then form first, ...: a change of the
   machine's speed during the run weighs on both); the search step (``GET /?q=``, cycling
   through the public relevance queries: each one searches the index, records an analytics
   event and signs a token); ticket submission (``POST /modulo/email``).

Submissions need the gate's single-use search token, a CSRF token and their session: before
the timed run, the script goes through the real search step (search, "continue", the form
page) once per credential, with several clients at a time, and the Lua script spends each
credential exactly once. Enough are issued for twice the search step's rate.

Reported: requests/s, latency p50/p90/p99, errors (socket errors and unexpected statuses),
and, for submissions, the tickets in the database against the accepted answers (303).
Goals: the form page at least half the hello world's rate (the median of the rounds'
ratios); no error; no ticket lost.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote_plus, urlencode

import yaml
from sqlalchemy import func, select

from intake import DEFAULT_FORMS_DIR
from intake.db import Database, OutboxMessage, Ticket
from intake.formspec import load_definitions
from kb_build.articles import load_docs
from kb_build.index import build_index

from ..gunicorn import INTAKE_APP, gunicorn, intake_environment
from ..helpers import ROOT
from ..intake_client import LiveCustomer
from ..intake_data import valid_data
from ..postgres import postgres_instance

WRK_DIR = Path(__file__).with_name("wrk")
QUERIES = ROOT / "tests" / "relevance" / "queries.yaml"
FALLBACK_QUERIES = ["la posta non arriva", "errore 550", "migrazione server dedicato", "costo intervento notturno"]
NO_LIMIT = "1000000 per minute"
WARM_UP_SECONDS = 6


def wrk(url: str, script: str, args: list[str], duration: int, connections: int) -> dict:
    """One wrk run; its JSON report (tests/bench/wrk/report.lua) plus the command's output."""
    command = [
        "wrk", "--threads", "1", "--connections", str(connections), "--duration", f"{duration}s",
        "--timeout", "10s", "--latency", "--script", str(WRK_DIR / script), url, "--", *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120, check=True)
    line = next(l for l in result.stdout.splitlines() if l.startswith("WRK-JSON "))
    report = json.loads(line[len("WRK-JSON "):])
    report["rps"] = report["requests"] / (report["duration_us"] / 1e6)
    report["socket_errors"] = sum(report[k] for k in ("connect", "read", "write", "timeout"))
    return report


def queries() -> list[str]:
    if QUERIES.is_file():
        return [item["query"] for item in yaml.safe_load(QUERIES.read_text(encoding="utf-8"))]
    return FALLBACK_QUERIES


def issue_credentials(base: str, count: int, answers: dict) -> list[str]:
    """``count`` lines ``cookie TAB body``: each a session that went through the real search
    step and opened the e-mail form, with its form's answers and hidden fields."""

    def one(_):
        customer = LiveCustomer(base)
        hidden = customer.open_form()
        return customer.cookie_header() + "\t" + urlencode(answers | hidden)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


def stored_tickets(database_url: str) -> tuple[set[str], int]:
    """The IDs of the tickets in the database and the number of outbox e-mails."""
    database = Database(database_url)
    try:
        with database.session() as session:
            tickets = set(session.scalars(select(Ticket.id)))
            outbox = session.scalar(select(func.count()).select_from(OutboxMessage))
    finally:
        database.dispose()
    return tickets, outbox


def row(name: str, report: dict, expected: set[str]) -> dict:
    unexpected = sum(n for status, n in report["statuses"].items() if status not in expected)
    return {
        "name": name,
        "requests": report["requests"],
        "rps": report["rps"],
        "p50": report["p50_us"] / 1000,
        "p90": report["p90_us"] / 1000,
        "p99": report["p99_us"] / 1000,
        "errors": report["socket_errors"] + unexpected,
        "statuses": report["statuses"],
    }


def median_row(name: str, rounds: list[dict]) -> dict:
    """One row for the rounds of an endpoint: the median of each figure, requests and errors in all."""
    middle = {key: statistics.median(r[key] for r in rounds) for key in ("rps", "p50", "p90", "p99")}
    statuses: dict[str, int] = {}
    for r in rounds:
        for status, n in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    total = {key: sum(r[key] for r in rounds) for key in ("requests", "errors")}
    return {"name": name, **middle, **total, "statuses": statuses}


def format_table(rows: list[dict]) -> str:
    lines = [
        "| endpoint | requests | req/s | p50 ms | p90 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['requests']} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p90']:.1f} | {r['p99']:.1f} | {r['errors']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint (default 10)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of hello world and form page, in turns (default 3)")
    parser.add_argument("--out", type=Path, default=ROOT / ".bench", help="where the report is written")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")

    work = Path(tempfile.mkdtemp(prefix="kb-bench-intake-"))
    started = time.monotonic()
    try:
        docs = load_docs(ROOT / "docs")
        index = build_index(docs.articles, work / "kb-index")
        email_form = load_definitions(DEFAULT_FORMS_DIR)["email"]
        with postgres_instance(fsync=True) as database:
            env = intake_environment(
                SECRET_KEY=secrets.token_hex(32),
                DATABASE_URL=database.url,
                KB_INDEX_DIR=str(index),
                KB_INSTANCE_PATH=str(work / "instance"),
                RATELIMIT_SEARCH=NO_LIMIT,
                RATELIMIT_API=NO_LIMIT,
                RATELIMIT_SUBMIT=NO_LIMIT,
            )
            with gunicorn(INTAKE_APP, env, ROOT, log_dir=work) as (intake, _), gunicorn(
                "tests.bench.hello:app", env, ROOT, ready="/", log_dir=work
            ) as (hello, _):
                paths = work / "search-paths.txt"
                paths.write_text("".join(f"/?q={quote_plus(q)}\n" for q in queries()), encoding="utf-8")
                # The form page as a customer's browser asks for it: with the session of its search.
                customer = LiveCustomer(intake)
                form_token = customer.open_form()["token"]
                form_cookie = customer.cookie_header()
                form_paths = work / "form-paths.txt"
                form_paths.write_text(f"/modulo/email?token={form_token}\n", encoding="utf-8")
                # Warm-up: every worker opens its index and database pool before the clock runs.
                # The hello world goes last and longest: sync workers close every connection, so
                # each request leaves a socket in TIME_WAIT for 60 s, and with thousands of them
                # connecting costs more (the hello world's rate fell from about 3,400 to 2,700
                # req/s within 10 s). After 6 s of it their number is steady, so the first round
                # is not measured on a cleaner machine than the others.
                for base, target, seconds in (
                    (intake, paths, 2), (intake, form_paths, 2), (hello, hello_paths(work), WARM_UP_SECONDS)
                ):
                    wrk(base, "get.lua", [str(target)], seconds, options.connections)

                # The hello world and the form page in turns (hello first, then form first, ...),
                # so that a change of the machine's speed during the run weighs on both alike;
                # each round gives one ratio, and the goal is judged on their median.
                hellos, forms = [], []
                for turn in range(options.rounds):
                    runs = [
                        (hellos, hello, [str(hello_paths(work))]),
                        (forms, intake, [str(form_paths), form_cookie]),
                    ]
                    for results, base, args in runs if turn % 2 == 0 else reversed(runs):
                        results.append(wrk(base, "get.lua", args, options.duration, options.connections))
                ratios = [f["rps"] / h["rps"] for h, f in zip(hellos, forms)]
                rows = [
                    median_row("hello world (Flask)", [row("", r, {"200"}) for r in hellos]),
                    row("search step GET /?q=", wrk(intake, "get.lua", [str(paths)], options.duration, options.connections), {"200"}),
                    median_row("form page GET /modulo/email", [row("", r, {"200"}) for r in forms]),
                ]
                search = rows[1]

                needed = int(2 * search["rps"] * options.duration) + 100
                print(f"issuing {needed} search tokens through the search step ...", flush=True)
                issued_at = time.monotonic()
                credentials = work / "credentials.txt"
                credentials.write_text("\n".join(issue_credentials(intake, needed, valid_data(email_form))) + "\n", encoding="utf-8")
                issuing = time.monotonic() - issued_at
                before, _ = stored_tickets(database.url)
                ids_file = work / "accepted-ids.txt"
                submit_args = [str(credentials), "1", "/modulo/email", str(ids_file)]
                submitted = wrk(intake, "submit.lua", submit_args, options.duration, options.connections)
                rows.append(row("ticket submission POST /modulo/email", submitted, {"303"}))
                time.sleep(2)  # requests in flight when wrk stopped finish on the server
                after, outbox = stored_tickets(database.url)
                accepted_ids = set(ids_file.read_text().split())
    finally:
        shutil.rmtree(work, ignore_errors=True)

    accepted = submitted["statuses"].get("303", 0)
    new = after - before
    lost = accepted_ids - new  # accepted (303 with its ID) but not in the database
    unanswered = new - accepted_ids  # stored, but wrk stopped before reading the answer
    tickets_ok = not lost and len(accepted_ids) == accepted and len(unanswered) <= options.connections
    ratio = statistics.median(ratios)
    errors = sum(r["errors"] for r in rows)
    report = "\n".join(
        [
            f"Intake load test: gunicorn, 2 sync workers, deploy/gunicorn.conf.py; PostgreSQL 15 (fsync on); "
            f"wrk 1 thread, {options.connections} connections, {options.duration} s per endpoint and round; "
            f"{os.cpu_count()} cores. Hello world and form page: {options.rounds} rounds in turns; "
            "their rows give the median of the rounds, requests in all.",
            "",
            format_table(rows),
            "",
            f"form page / hello world: {ratio:.2f}, the median of the rounds' "
            + ", ".join(f"{r:.2f}" for r in ratios)
            + f" (goal >= 0.50: {'met' if ratio >= 0.5 else 'NOT met'})",
            f"errors: {errors} (goal 0: {'met' if errors == 0 else 'NOT met'}); statuses: "
            + "; ".join(f"{r['name'].split(' ')[0]} {r['statuses']}" for r in rows),
            f"tickets: {accepted} accepted answers (303), {len(accepted_ids & new)} of their IDs in the database, "
            f"{len(lost)} lost; {len(new)} stored in all, {len(unanswered)} of them sent when the time was up "
            f"(stored, answer not awaited by wrk); outbox {outbox} = 2 x {len(after)} tickets: "
            f"{'yes' if outbox == 2 * len(after) else 'NO'} (goal, no ticket lost: {'met' if tickets_ok else 'NOT met'})",
            f"{needed} credentials issued through the search step in {issuing:.1f} s before the timed run "
            f"({'some left unused' if accepted < needed else 'ALL USED: the rate above is a lower bound'})",
            f"whole run {time.monotonic() - started:.0f} s",
        ]
    )
    print(report)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "intake-report.txt").write_text(report + "\n", encoding="utf-8")


def hello_paths(work: Path) -> Path:
    path = work / "hello-paths.txt"
    if not path.exists():
        path.write_text("/\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    main()
