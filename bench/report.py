"""The benchmark's rows, the printed table and the JSON file (for comparison between commits)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    """One workload: what was measured, what it is compared with, and whether the budget holds.

    ``ratio`` is reference ÷ measured for times (how many times faster) and measured ÷ reference for
    throughputs, so above 1 always means assbtrack's path wins. ``met`` is None where there is no budget.
    """

    workload: str
    figures: str
    reference: str = ""
    ratio: float | None = None
    budget: str = ""
    met: bool | None = None
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def machine() -> dict[str, Any]:
    """nproc, CPU model and RAM of this machine, for the README and the JSON file."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": ram_gib, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}"}


def commit() -> str:
    """The commit the code is at (read only), or '' outside a checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _ratio(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}×"
    return f"{value:.1f}×" if value >= 10 else f"{value:.2f}×"


def _met(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "NO")


COLUMNS = ("workload", "figures", "reference", "ratio", "budget", "met")


def table(rows: list[Row], *, markdown: bool = False) -> str:
    """The rows as one aligned text table (or a Markdown table), notes for missed budgets below it."""
    cells = [[row.workload, row.figures, row.reference or "—", _ratio(row.ratio), row.budget or "—", _met(row.met)]
             for row in rows]
    if markdown:
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in cells]
    else:
        widths = [max(len(str(line[i])) for line in [list(COLUMNS), *cells]) for i in range(len(COLUMNS))]
        rule = "  ".join("-" * width for width in widths)
        lines = ["  ".join(name.ljust(width) for name, width in zip(COLUMNS, widths)), rule]
        lines += ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)) for line in cells]
    notes = [f"- {row.workload}: {row.note}" for row in rows if row.note]
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines)


def document(rows: list[Row], *, scale_label: str, database: str, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "scale": scale_label,
        "database": database,
        "counts": counts,
        "machine": machine(),
        "rows": [asdict(row) for row in rows],
    }


def write_json(path: str | Path, doc: dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(doc, indent=2, default=str) + "\n")
