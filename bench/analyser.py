"""The learned turn analyser's speed and memory (issue 10).

* one turn: ``analyze()`` on distinct turns from the training corpus (nothing cached), p50/p95;
* ``python -m simulator analyze``: a fresh process reading 1,000 JSON Lines (start-up and the
  encoder's load included, so this is what a user of the command waits for);
* memory: a fresh process that imports what the app process imports (streamlit, pandas, plotly,
  the session service), loads the encoder and heads and analyses one turn; peak RSS.

Targets: one turn p95 <= 60 ms on 2 cores; `analyze` >= 100 turns/s; RSS <= 450 MB.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from simulator.analysis import analyze, engine  # noqa: E402

MEMORY_PROBE = """
import resource, streamlit, pandas, plotly.express
from simulator.session import SessionService
from simulator.analysis import analyze, engine
analyze("Mohon maaf Bu, boleh saya minta nomor pelanggannya?", "id")
assert engine().mode == "learned", engine()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _turns(n: int) -> list[dict]:
    items = []
    for path in sorted((ROOT / "corpus" / "train").glob("*.jsonl")):
        items += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(0).shuffle(items)
    return items[:n]


def bench_turn(n: int = 300) -> tuple[float, float, int]:
    items = _turns(n + 20)
    for item in items[:20]:  # load the encoder and heads
        analyze(item["trainee"], item["lang"])
    timings = []
    for item in items[20:]:
        start = time.perf_counter()
        analyze(item["trainee"], item["lang"], customer_last=item.get("customer"))
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], len(timings)


def bench_cli(n: int = 1000) -> float:
    lines = "".join(json.dumps({k: i[k] for k in ("trainee", "lang")}) + "\n" for i in _turns(n))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "simulator", "analyze"], input=lines, capture_output=True,
                          text=True, cwd=ROOT, check=True)
    elapsed = time.perf_counter() - start
    assert done.stdout.count("\n") == n
    return n / elapsed


def bench_memory() -> float:
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE], capture_output=True, text=True, cwd=ROOT, check=True)
    return int(done.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    assert engine().mode == "learned", f"the learned analyser is not running: {engine().reason}"
    load_before = os.getloadavg()[0]
    p50, p95, n = bench_turn()
    per_second = bench_cli()
    rss = bench_memory()
    load_after = os.getloadavg()[0]
    threads = os.environ.get("OMP_NUM_THREADS", "unset (all cores)")
    body = (
        "## Turn analyser with the encoder (issue 10)\n\n"
        f"Load average {load_before:.1f} before and {load_after:.1f} after, on 2 cores; OMP_NUM_THREADS {threads}.\n\n"
        "| measure | figure | target |\n|---|---|---|\n"
        f"| one turn, `analyze()` p50 ({n} distinct turns from the corpus) | {p50:.1f} ms | — |\n"
        f"| one turn, `analyze()` p95 | {p95:.1f} ms | ≤ 60 ms |\n"
        f"| `python -m simulator analyze`, 1,000 turns, process start included | {per_second:.0f} turns/s | ≥ 100 |\n"
        f"| peak RSS of a process with the app's imports, encoder and heads loaded | {rss:.0f} MB | ≤ 450 MB |\n"
    )
    write_section("analyser", body)
    print(body)


if __name__ == "__main__":
    main()
