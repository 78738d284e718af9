"""Run the workloads in order and collect their rows; one failing workload becomes a row saying why."""

from __future__ import annotations

import traceback

from django.contrib.auth.models import User

from assbtrack.tracing.models import LineageEdge, TracedItem

from .report import Row
from .synth import SYNTH_ADMIN, SYNTH_USERS
from .workloads import WORKLOADS, BenchContext


def lab_users() -> dict[str, User]:
    """The synthetic lab's users (technician, scientist, partner, admin); empty if no lab was built."""
    names = {key: username for key, (username, _role) in SYNTH_USERS.items()} | {"admin": SYNTH_ADMIN}
    found = {user.username: user for user in User.objects.filter(username__in=names.values())}
    if len(found) != len(names):
        return {}
    return {key: found[username] for key, username in names.items()}


def lab_counts() -> dict[str, int]:
    return {"items": TracedItem.objects.count(), "edges": LineageEdge.objects.count()}


def run(ctx: BenchContext, only: list[str] | None = None) -> list[Row]:
    rows: list[Row] = []
    for name, workload in WORKLOADS:
        if only and name not in only:
            continue
        ctx.log(f"running {name} …")
        try:
            rows.extend(workload(ctx))
        except Exception as error:  # noqa: BLE001  (the table says which workload broke and why)
            ctx.log(traceback.format_exc())
            rows.append(Row(workload=name, figures=f"FAILED: {type(error).__name__}: {error}", met=False,
                            note="the workload raised; see the log above"))
    return rows
