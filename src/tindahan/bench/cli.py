"""How long the command line takes to start: ``tindahan qr decode PAYLOAD`` (target ≤ 0.5 s
of wall) and ``tindahan --help`` (≤ 1 s), each run as a fresh process, wall and CPU time,
medians of ``--runs``. ``--compare OTHER`` runs another install's ``tindahan`` alternately
in the same loop (e.g. an older checkout's), so the two are measured under the same load.

    .venv/bin/python -m tindahan.bench.cli --runs 5 --compare ../main/.venv/bin/tindahan
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: A dynamic QR Ph payload (``tindahan qr encode … --amount 150.00``).
PAYLOAD = (
    "00020101021228410012com.p2pqrpay0111ABCDPHM1XXX03061234565204581253036085406150.00"
    "5802PH5916Aling Rosa Store6006Manila6304760D"
)
COMMANDS = {"qr decode": ["qr", "decode", PAYLOAD], "--help": ["--help"]}


def _once(binary: str, args: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([binary, *args], capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{binary} {args[0]} failed: {done.stderr.decode()[-400:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--compare", help="another `tindahan` executable, run alternately")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    here = Path(sys.executable).with_name("tindahan")
    binaries = {"this": str(here) if here.exists() else (shutil.which("tindahan") or "")}
    if args.compare:
        binaries["compare"] = args.compare
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.runs):
        for label, binary in binaries.items():
            for name, command in COMMANDS.items():
                times.setdefault((label, name), []).append(_once(binary, command))
    result = {
        f"{label} {name}": {
            "wall_s_median": round(statistics.median(w for w, _ in found), 2),
            "wall_s_range": [
                round(min(w for w, _ in found), 2),
                round(max(w for w, _ in found), 2),
            ],
            "cpu_s_median": round(statistics.median(c for _, c in found), 2),
        }
        for (label, name), found in times.items()
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
