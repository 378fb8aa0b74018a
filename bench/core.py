"""Core speed: the rule path's analysed turns per second and one scripted turn's latency.

A scripted turn is what the service does for one trainee message: analysis (with the encoder
where it is installed), mood update, customer reply and the database commits, on SQLite (WAL) in
a temporary file. The learned analyser's own figures are in bench/analyser.py.
Targets (issue 2): rules at least 1,000 turns/s; scripted turn p95 < 50 ms.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import write_section  # noqa: E402
from simulator.understanding.rules import analyze  # noqa: E402
from simulator.session import SessionService  # noqa: E402
from simulator.store.db import open_repository  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "analysis_dev.jsonl"
TRAINEE_TURNS = [
    "I'm so sorry about this bill, that must have been a shock. Could you tell me your customer number?",
    "So your bill went from 80 thousand to over 500 thousand and nothing changed at home?",
    "When did you last see the meter reader come by?",
    "I will send a technician to re-read the meter this Thursday between 9 and 12.",
    "If it was misread, we will credit the difference to your next bill.",
    "Is there anything else about the bill I can check for you?",
]


def _items(n: int) -> list[dict]:
    base = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [base[i % len(base)] for i in range(n)]


def bench_analysis(n: int = 20_000) -> float:
    items = _items(n)
    for item in items[:200]:  # warm the lexicon caches
        analyze(item["trainee"], item["lang"])
    start = time.perf_counter()
    for item in items:
        analyze(item["trainee"], item["lang"], customer_last=item.get("customer"))
    return n / (time.perf_counter() - start)


def bench_turns(sessions: int = 40) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        service = SessionService(open_repository(f"sqlite:///{tmp}/bench.db"))
        timings = []
        for i in range(sessions):
            record = service.start("water-bill-surge", "en", seed=i)
            for text in TRAINEE_TURNS:
                start = time.perf_counter()
                result = service.say(record.id, text)
                timings.append((time.perf_counter() - start) * 1000)
                if result.ended:
                    break
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[int(len(timings) * 0.95) - 1]
        return p50, p95, len(timings)


def main() -> None:
    fn = bench_analysis()
    p50, p95, n = bench_turns()
    body = (
        "## Core (issue 2)\n\n"
        "| measure | figure | target |\n|---|---|---|\n"
        f"| analysed turns/s, rules alone (`understanding.rules.analyze`) | {fn:,.0f} | ≥ 1,000 |\n"
        f"| scripted turn p50 (analysis + mood + reply + commits, SQLite WAL), {n} turns | {p50:.1f} ms | — |\n"
        f"| scripted turn p95 | {p95:.1f} ms | < 50 ms |\n"
    )
    write_section("core", body)
    print(body)


if __name__ == "__main__":
    main()
