"""Reading a large cycler export: assbtrack's chunked reader beside navani's own read of the same file.

``write_cycling_bdf_csv`` writes a synthetic galvanostatic test as a BDF CSV (``Test Time / s``,
``Current / A``, ``Voltage / V``, ``Cycle Count / 1``), a file both readers take. ``python -m
bench.cycler PATH [--navani]`` reads it in a fresh process and prints one JSON line: points, seconds,
rows/s and the growth of the process's peak memory while reading (``ru_maxrss``), so a measurement is
never polluted by what the caller already holds.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

POINTS_PER_HALF_CYCLE = 500
CURRENT_A = 0.0005  # 0.5 mA
STEP_S = 10.0
# Each half cycle passes 0.5 mA × 499 intervals × 10 s = 0.693 mAh (the first point of a run starts it).
HALF_CYCLE_MAH = CURRENT_A * 1000 * (POINTS_PER_HALF_CYCLE - 1) * STEP_S / 3600


def write_cycling_bdf_csv(path: Path, points: int) -> int:
    """A test of ``points`` points (charge then discharge at ±0.5 mA, 10 s apart); returns the bytes written."""
    rising = [3.0 + 1.2 * index / POINTS_PER_HALF_CYCLE for index in range(POINTS_PER_HALF_CYCLE)]
    falling = [4.2 - 1.2 * index / POINTS_PER_HALF_CYCLE for index in range(POINTS_PER_HALF_CYCLE)]
    with path.open("w", encoding="ascii", newline="\n") as out:
        out.write("Cycle Count / 1,Test Time / s,Current / A,Voltage / V\n")
        index = 0
        while index < points:
            cycle = index // (2 * POINTS_PER_HALF_CYCLE) + 1
            lines = []
            for current, voltages in ((CURRENT_A, rising), (-CURRENT_A, falling)):
                for voltage in voltages:
                    if index >= points:
                        break
                    lines.append(f"{cycle},{index * STEP_S:.1f},{current:.6f},{voltage:.6f}\n")
                    index += 1
            out.write("".join(lines))
    return path.stat().st_size


def measure_in_subprocess(path: Path, *, navani: bool = False, timeout_s: float = 900.0) -> dict:
    """Read ``path`` in a new interpreter; its JSON report (see the module docstring)."""
    command = [sys.executable, "-m", "bench.cycler", str(path)] + (["--navani"] if navani else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s,
                          cwd=Path(__file__).resolve().parent.parent, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"reading {path.name} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _read(path: Path, navani: bool) -> dict:
    if navani:
        import navani.echem as echem

        before, started = _peak_mb(), time.perf_counter()
        frame = echem.echem_file_loader(str(path))
        seconds, points, cycles = time.perf_counter() - started, len(frame), None
    else:
        from cells.cycler_files import CyclerSource, read_cycler_files

        before, started = _peak_mb(), time.perf_counter()
        report = read_cycler_files([CyclerSource(path, path.name)])
        metrics = report.accumulator.metrics()
        seconds, points, cycles = time.perf_counter() - started, report.accumulator.points, len(metrics)
    return {"reader": "navani" if navani else "assbtrack", "points": points, "cycles": cycles,
            "seconds": seconds, "rows_per_s": points / seconds if seconds else None,
            "peak_growth_mb": _peak_mb() - before, "file_mb": path.stat().st_size / 2**20}


if __name__ == "__main__":
    arguments = sys.argv[1:]
    sys.stdout.write(json.dumps(_read(Path(arguments[0]), "--navani" in arguments)) + "\n")
