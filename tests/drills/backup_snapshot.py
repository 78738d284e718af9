"""What a backup drill compares between the original and the restored copy: traces, history rows and files.

Run inside a test, or as ``python -m tests.drills.backup_snapshot`` against another database (it prints JSON).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def snapshot() -> dict:
    from django.apps import apps
    from django.conf import settings

    from assbtrack.tracing.models import TracedItem
    from assbtrack.tracing.reports import lineage_csv_rows
    from assbtrack.tracing.selectors import held_ancestors_for, lineage_downstream, lineage_upstream

    def rows(lineage):
        held = held_ancestors_for(list(lineage.nodes))
        return [[str(value) for value in row] for row in lineage_csv_rows(lineage, held)]

    traces = {}
    for item in TracedItem.objects.order_by("code"):
        traces[item.code] = {
            "status": item.status,
            "upstream": rows(lineage_upstream(item)),
            "downstream": rows(lineage_downstream(item)),
        }
    history = {}
    for model in apps.get_models():
        if not model.__name__.startswith("Historical"):
            continue
        if hasattr(model, "history_type"):
            rows = model.objects.order_by("history_id").values_list(
                "history_id", "history_type", "history_user_id", "history_date", "history_change_reason")
        else:  # the history of a many-to-many field (a user's roles): every column of its rows
            columns = [field.attname for field in model._meta.concrete_fields]
            rows = model.objects.order_by(model._meta.pk.attname).values_list(*columns)
        history[model._meta.label] = [[str(value) for value in row] for row in rows]
    root = Path(settings.MEDIA_ROOT)
    files = {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
             for path in sorted(root.rglob("*")) if path.is_file()}
    return {"traces": traces, "history": history, "files": files}


if __name__ == "__main__":
    import django

    django.setup()
    print(json.dumps(snapshot(), sort_keys=True))
