"""Many at once: concurrent simulated trainees against one database, then an exactly-once check.

Each simulated trainee plays one full session through ``SessionService`` (start, up to
``TURNS`` trainee turns with the scripted customer, End and scoring), by default as fast as it can
— no think time, the worst case for the database and the cores. ``--think S`` has each trainee
take a while before every turn, as a person reads the reply and types (uniformly 0.5-1.5 × S
seconds, seeded per trainee): the realistic case of a class practising together. Afterwards every turn of every session
is read back: indexes 0..n-1 without gaps, customer and trainee alternating, each trainee text
exactly what that client sent and each customer text exactly the reply it was given, and no turn
or session more than the clients made.

    python bench/load.py                      # 50 trainees on SQLite (WAL) and on PostgreSQL, in one
                                              # app process and in two; writes the "load" section
                                              # of docs/benchmarks.md
    python bench/load.py --think 10           # the same with 5-15 s of reading and typing per turn
                                              # (the "load-think" section)
    python bench/load.py --trainees 20 --processes 1 --no-report
    python bench/load.py worker --url URL --trainees 3 --first 0      # one app process (JSON lines)

PostgreSQL: ``--pg-url`` (or ``TENANG_TEST_DATABASE_URL``) names a server, used through a fresh
schema that is dropped afterwards; otherwise ``scripts/pg-test-server start --durable`` starts a
throwaway one on 127.0.0.1 (PostgreSQL's default durability, fsync on) and stops it after.
Bounded: the number of sessions is fixed and each run stops starting turns after ``--time-limit``
seconds. Loopback only.

The same pieces are used by tests/test_load.py and tests/test_failures.py: ``play_session``,
``run_threads``, ``spawn_worker``/``read_events`` (another OS process playing sessions) and
``verify``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from simulator.scenario import ScenarioLibrary  # noqa: E402
from simulator.session import SessionService  # noqa: E402
from simulator.store import Repository, open_repository  # noqa: E402
from simulator.store.models import PracticeSession, Turn  # noqa: E402
from tests.pg_schema import fresh_schema  # noqa: E402

WORKER_URL_ENV = "TENANG_LOAD_DATABASE_URL"
TURNS = 8  # trainee turns at most per session (the customer may end it sooner)
SCRIPT = {
    "en": [
        "I'm sorry this happened, that sounds really frustrating.",
        "So if I understand you correctly, the problem started last week and nobody called you back?",
        "Could you give me your customer number so I can check what happened?",
        "Thank you. I can see the record here; let me check the details.",
        "I will have this looked at and call you back by Thursday between 9 and 12.",
        "If the mistake is ours, we will credit the difference to your account.",
        "Is there anything else about this that I can check for you?",
        "Thank you for your patience, and again I'm sorry for the trouble.",
    ],
    "id": [
        "Mohon maaf atas kejadian ini, Bapak/Ibu pasti kesal sekali.",
        "Jadi kalau saya tidak salah tangkap, masalahnya mulai minggu lalu dan belum ada yang menghubungi?",
        "Boleh saya minta nomor pelanggan Bapak/Ibu supaya saya bisa cek?",
        "Terima kasih. Datanya sudah saya temukan, saya periksa dulu rinciannya.",
        "Saya akan tindak lanjuti dan menghubungi Bapak/Ibu hari Kamis jam 9 sampai 12.",
        "Kalau kesalahannya dari kami, selisihnya akan kami kembalikan ke akun Bapak/Ibu.",
        "Apakah ada hal lain yang bisa saya bantu periksa?",
        "Terima kasih atas kesabarannya, sekali lagi mohon maaf atas ketidaknyamanannya.",
    ],
}


@dataclass
class Play:
    """What one client did and was told, to be checked against the database."""

    client: int
    session_id: str | None = None
    scenario: str = ""
    lang: str = ""
    opening: str = ""
    sent: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    ended: bool = False
    error: str | None = None


def trainee_text(client: int, turn: int, lang: str) -> str:
    """The client's ``turn``-th message, tagged so that a turn stored in the wrong session shows."""
    return f"{SCRIPT[lang][turn % len(SCRIPT[lang])]} (ref {client}-{turn})"


def pick_scenario(library: ScenarioLibrary, client: int) -> tuple[str, str]:
    ids = sorted(library.ids())
    return ids[client % len(ids)], ("en", "id")[(client // len(ids)) % 2]


def play_session(
    service: SessionService,
    client: int,
    *,
    turns: int = TURNS,
    deadline: float | None = None,
    on_event: Any = None,
    think: float = 0.0,
) -> Play:
    """One client's full session: start, up to ``turns`` trainee turns, End. Errors are recorded
    in the Play, not raised. ``on_event(dict)`` is told after each acknowledged step. ``think``:
    the mean seconds a person takes before each turn (0: none)."""
    emit = on_event or (lambda _event: None)
    pause = random.Random(client)
    scenario_id, lang = pick_scenario(service.library, client)
    play = Play(client, scenario=scenario_id, lang=lang)
    try:
        record = service.start(scenario_id, lang, seed=client)
        play.session_id = record.id
        play.opening = service.transcript(record.id)[0].text
        emit({"event": "opening", "client": client, "session": record.id, "text": play.opening,
              "scenario": scenario_id, "lang": lang})
        for k in range(turns):
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("time limit reached")
            if think:
                time.sleep(pause.uniform(0.5, 1.5) * think)
            said = trainee_text(client, k, lang)
            started = time.perf_counter()
            result = service.say(record.id, said)
            play.latencies_ms.append((time.perf_counter() - started) * 1000)
            play.sent.append(said)
            play.replies.append(result.customer)
            emit({"event": "ack", "client": client, "session": record.id, "turn": k, "sent": said,
                  "reply": result.customer, "ms": play.latencies_ms[-1]})
            if result.ended:
                break
        service.end(record.id)
        play.ended = True
        emit({"event": "ended", "client": client, "session": record.id})
    except Exception as error:  # noqa: BLE001 - a load test counts errors, it does not stop
        play.error = f"{type(error).__name__}: {error}"
        emit({"event": "error", "client": client, "session": play.session_id, "error": play.error})
    return play


def run_threads(
    repo: Repository,
    clients: Sequence[int],
    *,
    library: ScenarioLibrary | None = None,
    turns: int = TURNS,
    time_limit: float = 60.0,
    on_event: Any = None,
    think: float = 0.0,
) -> tuple[list[Play], float]:
    """Every client in its own thread (as Streamlit runs each browser session), all started at
    once; returns the plays and the wall time in seconds."""
    library = library or ScenarioLibrary()
    warm_up(library)
    started: list[float] = []
    barrier = threading.Barrier(len(clients), action=lambda: started.append(time.perf_counter()))
    deadline = time.monotonic() + time_limit

    def one(client: int) -> Play:
        service = SessionService(repo, library)  # as ui/context.service(): one per page run
        barrier.wait()
        return play_session(service, client, turns=turns, deadline=deadline, on_event=on_event, think=think)

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        plays = list(pool.map(one, clients))
    return plays, time.perf_counter() - started[0]


def warm_up(library: ScenarioLibrary) -> None:
    """Load what a running app already has loaded (scenarios, lexicons), without the database, so
    the figures are of a warm app rather than of its first imports."""
    from simulator.analysis import analyze

    for scenario_id in library.ids():
        for lang in SCRIPT:
            scenario = library.get(scenario_id, lang)
            for line in SCRIPT[lang][:2]:
                analyze(line, lang, scenario=scenario)


# --------------------------------------------------------------------------- other processes


def spawn_worker(url: str, first: int, trainees: int, *, turns: int = TURNS, time_limit: float = 60.0,
                 start_at: float | None = None, think: float = 0.0) -> subprocess.Popen:
    """Another OS process (an app replica) playing ``trainees`` sessions against ``url``; it
    migrates the database at start-up like the app, and reports JSON lines on stdout."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "worker", "--first", str(first),
           "--trainees", str(trainees), "--turns", str(turns), "--time-limit", str(time_limit), "--think", str(think)]
    if start_at is not None:
        cmd += ["--start-at", repr(start_at)]
    env = {**os.environ, WORKER_URL_ENV: url}  # not on the command line: it may hold a password
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_events(stream: IO[str]) -> Iterator[dict]:
    for line in stream:
        line = line.strip()
        if line.startswith("{"):
            yield json.loads(line)


def plays_from_events(events: Sequence[dict]) -> list[Play]:
    """Rebuild each client's Play from a worker's events (only what was acknowledged)."""
    plays: dict[int, Play] = {}
    for event in events:
        if "client" not in event:
            continue
        play = plays.setdefault(event["client"], Play(event["client"]))
        kind = event["event"]
        if kind == "opening":
            play.session_id, play.opening = event["session"], event["text"]
            play.scenario, play.lang = event["scenario"], event["lang"]
        elif kind == "ack":
            play.sent.append(event["sent"])
            play.replies.append(event["reply"])
            play.latencies_ms.append(event["ms"])
        elif kind == "ended":
            play.ended = True
        elif kind == "error":
            play.error = event["error"]
    return [plays[k] for k in sorted(plays)]


def worker_main(args: argparse.Namespace) -> int:
    lock = threading.Lock()

    def emit(event: dict) -> None:
        with lock:
            sys.stdout.write(json.dumps(event) + "\n")
            sys.stdout.flush()

    repo = open_repository(args.url)
    emit({"event": "ready", "pid": os.getpid()})
    if args.start_at:
        time.sleep(max(0.0, args.start_at - time.time()))
    clients = list(range(args.first, args.first + args.trainees))
    plays, wall = run_threads(repo, clients, turns=args.turns, time_limit=args.time_limit, on_event=emit,
                              think=args.think)
    emit({"event": "done", "pid": os.getpid(), "wall_s": wall, "errors": sum(p.error is not None for p in plays)})
    repo.close()
    return 0


# --------------------------------------------------------------------------- checking


def verify(repo: Repository, plays: Sequence[Play], *, complete: bool = True, exclusive: bool = True) -> list[str]:
    """Problems found comparing the database with what the clients were acknowledged (empty: all
    good). ``complete``: each session holds exactly what its client was told and no more (False
    after a crash: the acknowledged turns are a prefix, later unacknowledged ones may follow).
    ``exclusive``: the database holds no other sessions or turns (a fresh database)."""
    problems: list[str] = []
    expected_turns = 0
    for play in plays:
        if play.session_id is None:
            continue
        sid = play.session_id
        turns = repo.get_turns(sid)
        want = [("customer", play.opening)]
        for said, reply in zip(play.sent, play.replies, strict=True):
            want += [("trainee", said), ("customer", reply)]
        expected_turns += len(want) if complete else len(turns)
        if [t.idx for t in turns] != list(range(len(turns))):
            problems.append(f"{sid}: indexes not 0..n-1: {[t.idx for t in turns]}")
        speakers = [t.speaker for t in turns]
        if speakers != [("customer", "trainee")[i % 2] for i in range(len(turns))] or len(turns) % 2 != 1:
            problems.append(f"{sid}: speakers do not alternate customer/trainee in whole exchanges: {speakers}")
        got = [(t.speaker, t.text) for t in turns]
        if complete and got != want:
            problems.append(f"{sid}: stored {len(got)} turns, client was acknowledged {len(want)}; first difference at "
                            f"{next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))}")
        elif not complete and got[: len(want)] != want:
            problems.append(f"{sid}: an acknowledged turn is missing or different ({len(got)} stored, {len(want)} acknowledged)")
        if complete and play.ended:
            record = repo.get_session(sid)
            if record is None or record.status != "ended" or not repo.get_scores(sid):
                problems.append(f"{sid}: ended by the client but not stored as ended with scores")
    if exclusive:
        with repo.engine.connect() as conn:
            sessions = conn.scalar(select(func.count()).select_from(PracticeSession))
            rows = conn.scalar(select(func.count()).select_from(Turn))
        made = sum(p.session_id is not None for p in plays)
        if sessions != made:
            problems.append(f"{sessions} sessions stored, clients made {made}")
        if rows != expected_turns:
            problems.append(f"{rows} turns stored in all, expected {expected_turns}")
    return problems


# --------------------------------------------------------------------------- the benchmark


@dataclass
class Outcome:
    label: str
    trainees: int
    processes: int
    sessions: int
    wall_s: float
    turns: int
    p50_ms: float
    p95_ms: float
    errors: int
    problems: list[str]

    @property
    def sessions_per_s(self) -> float:
        return self.sessions / self.wall_s if self.wall_s else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def measure(label: str, url: str, *, trainees: int, processes: int, turns: int, time_limit: float,
            think: float = 0.0) -> Outcome:
    repo = open_repository(url)  # migrated once up front (the workers' own migrate is then a no-op)
    try:
        if processes <= 1:
            plays, wall = run_threads(repo, list(range(trainees)), turns=turns, time_limit=time_limit, think=think)
        else:
            share = [trainees // processes + (1 if i < trainees % processes else 0) for i in range(processes)]
            start_at = time.time() + 3.0  # all replicas begin together, after their imports
            workers, first = [], 0
            for n in share:
                workers.append(spawn_worker(url, first, n, turns=turns, time_limit=time_limit, start_at=start_at,
                                            think=think))
                first += n
            events: list[dict] = []
            for worker in workers:
                out, err = worker.communicate(timeout=time_limit + 60)
                if worker.returncode != 0:
                    raise RuntimeError(f"worker failed ({worker.returncode}): {err[-2000:]}")
                events += list(read_events(iter(out.splitlines())))
            plays = plays_from_events(events)
            wall = max(e["wall_s"] for e in events if e["event"] == "done")
        problems = verify(repo, plays)
    finally:
        repo.close()
    latencies = [ms for play in plays for ms in play.latencies_ms]
    return Outcome(
        label=label,
        trainees=trainees,
        processes=processes,
        sessions=sum(p.ended for p in plays),
        wall_s=wall,
        turns=len(latencies),
        p50_ms=statistics.median(latencies) if latencies else 0.0,
        p95_ms=percentile(latencies, 0.95),
        errors=sum(p.error is not None for p in plays),
        problems=problems,
    )


@contextmanager
def postgres_server(given: str | None) -> Iterator[str | None]:
    """A PostgreSQL URL: the given server, or a throwaway durable one (None: not available)."""
    if given:
        with fresh_schema(given, prefix="tenang_load") as url:
            yield url
        return
    script = ROOT / "scripts" / "pg-test-server"
    started = subprocess.run([str(script), "start", "--durable"], capture_output=True, text=True, timeout=600)
    if started.returncode != 0:
        print(f"PostgreSQL not available ({started.returncode}): {started.stderr.strip()[-500:]}", file=sys.stderr)
        yield None
        return
    url = started.stdout.strip().splitlines()[-1]
    try:
        yield url
    finally:
        subprocess.run([str(script), "stop", url], capture_output=True, text=True, timeout=120)


def table(outcomes: Sequence[Outcome]) -> str:
    lines = [
        "| database | trainees × processes | sessions | sessions/s | trainee turns | turn p50 | turn p95 | errors | lost or duplicated turns |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        lost = "0" if not o.problems else f"**{len(o.problems)} problems**"
        lines.append(
            f"| {o.label} | {o.trainees} × {o.processes} | {o.sessions} | {o.sessions_per_s:.1f} | {o.turns} | "
            f"{o.p50_ms:.0f} ms | {o.p95_ms:.0f} ms | {o.errors} | {lost} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "worker"])
    parser.add_argument("--trainees", type=int, default=50)
    parser.add_argument("--processes", type=int, default=2,
                        help="bench mode: also measure with this many app processes sharing the trainees (1: threads only)")
    parser.add_argument("--turns", type=int, default=TURNS)
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a trainee takes before each turn (uniform 0.5-1.5 x; 0: none, the worst case)")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds; no new turn is started after it (default 60 plus the turns' think time)")
    parser.add_argument("--url", default=os.environ.get(WORKER_URL_ENV), help=f"worker mode: the database URL (or ${WORKER_URL_ENV})")
    parser.add_argument("--first", type=int, default=0, help="worker mode: number of its first client")
    parser.add_argument("--start-at", type=float, default=None, help="worker mode: wall-clock time to begin")
    parser.add_argument("--pg-url", default=os.environ.get("TENANG_TEST_DATABASE_URL") or None)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-report", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    if args.time_limit is None:
        args.time_limit = 60.0 + 1.5 * args.think * args.turns
    if not 0 <= args.think <= 60:
        parser.error("bounded: a think time of 0-60 s")
    if not 1 <= args.trainees <= 200 or not 1 <= args.processes <= 8 or not 0 < args.time_limit <= 1000:
        parser.error("bounded: 1-200 trainees, 1-8 processes, a time limit of at most 1000 s")
    if args.mode == "worker":
        if not args.url:
            parser.error("worker mode needs --url")
        return worker_main(args)

    outcomes: list[Outcome] = []
    load_before = os.getloadavg()[0]
    kw = dict(trainees=args.trainees, turns=args.turns, time_limit=args.time_limit, think=args.think)
    with tempfile.TemporaryDirectory() as tmp:
        outcomes.append(measure("SQLite (WAL), one file", f"sqlite:///{tmp}/load.db", processes=1, **kw))
        if args.processes > 1:
            outcomes.append(measure("SQLite (WAL), one file", f"sqlite:///{tmp}/load-mp.db", processes=args.processes, **kw))
    pg_note = ""
    if not args.no_postgres:
        with postgres_server(args.pg_url) as pg:
            if pg is None:
                pg_note = "\nPostgreSQL: not measured (no server could be started on this machine).\n"
            else:
                outcomes.append(measure("PostgreSQL 127.0.0.1", pg, processes=1, **kw))
                if args.processes > 1:
                    with fresh_schema(pg, prefix="tenang_load") as url:
                        outcomes.append(measure("PostgreSQL 127.0.0.1", url, processes=args.processes, **kw))
    if args.think:
        title, command = "Many at once, at a person's pace", f"python bench/load.py --think {args.think:g}"
        pace = f"each taking {0.5 * args.think:g}-{1.5 * args.think:g} s before every turn (reading the reply and typing)"
    else:
        title, command, pace = "Many at once", "python bench/load.py", "with no think time"
    body = (
        f"## {title} (issues 7 and 14)\n\n"
        f"`{command}`: {args.trainees} simulated trainees at once, each playing one full session through "
        f"`SessionService` (start, up to {args.turns} trainee turns with the scripted customer, End and scoring) "
        f"{pace}, all against one database; then every turn of every session is read back and checked "
        "(indexes 0..n-1, speakers alternating, each text exactly what the client sent or was answered, no extra "
        "sessions or turns). Turn latency is one `say()` (analysis, mood, reply, one transaction). "
        "\"× 1\": threads in one app process, as Streamlit runs browser sessions; \"× N\": N OS processes (replicas) "
        "sharing the trainees. PostgreSQL: a local throwaway server with its default durability (fsync on); "
        "SQLite: WAL with synchronous=NORMAL. 2 shared cores run both the clients and the database.\n\n"
        f"{table(outcomes)}\n{pg_note}\n"
        f"Load average when the run started: {load_before:.1f} (other work shares these cores, so figures vary "
        "between runs; the exactly-once check is what must hold).\n"
    )
    print(body)
    for o in outcomes:
        for problem in o.problems[:20]:
            print(f"{o.label} × {o.processes}: {problem}", file=sys.stderr)
    if not args.no_report:
        from bench.report import write_section

        write_section("load-think" if args.think else "load", body)
    return 1 if any(o.problems or o.errors for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
