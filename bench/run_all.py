"""Run every benchmark in bench/ and update docs/benchmarks.md."""

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

for script in sorted(HERE.glob("*.py")):
    if script.name in ("run_all.py", "report.py", "__init__.py"):
        continue
    print(f"== {script.name}")
    runpy.run_path(str(script), run_name="__main__")
