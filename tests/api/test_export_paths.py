"""The flat export path (rows read as tuples) writes exactly what the serializer path writes, on every list of
the API, for the whole rows and for a choice of columns; and lists with nested records keep the serializer."""

from __future__ import annotations

import pytest

from assbtrack.api.exports import flat_export_plan
from tests.cells.test_cells_api import imported
from tests.utils.factories_materials import make_measurement

from .helpers import make_chain, token_client
from .test_scope_walk import api_routes, build_everything, kwarg_names

pytestmark = pytest.mark.django_db


def list_paths() -> list[str]:
    """Every exportable list of /api/v1/ (routes whose view answers ``list`` and has the export mixin)."""
    paths = []
    for route, callback in api_routes():
        actions = getattr(callback, "actions", None) or {}
        view_class = getattr(callback, "cls", None)
        if actions.get("get") == "list" and not kwarg_names(route) and hasattr(view_class, "_export_rows"):
            paths.append("/" + route.replace("^", "").replace("$", ""))
    return paths


def export(client, path: str, fmt: str, **params) -> str:
    response = client.get(path, {"export": fmt, **params})
    assert response.status_code == 200, (path, response.status_code)
    return b"".join(response.streaming_content).decode()


def test_every_list_exports_the_same_rows_on_both_paths(project, sci, settings):
    chain = build_everything(project, sci)  # a record on every list
    make_measurement(chain["batch"], sci)
    imported(chain["cells"][0], sci)
    client = token_client(sci)
    paths = list_paths()
    assert len(paths) >= 10, paths
    for path in paths:
        settings.ASSBTRACK_EXPORT_FLAT = True
        fast = {fmt: export(client, path, fmt) for fmt in ("csv", "jsonl")}
        settings.ASSBTRACK_EXPORT_FLAT = False
        slow = {fmt: export(client, path, fmt) for fmt in ("csv", "jsonl")}
        assert fast == slow, path
        assert fast["csv"].count("\n") >= 2, f"{path} exported no row: the comparison would prove nothing"


def test_a_choice_of_flat_columns_takes_the_flat_path_even_on_a_nested_list(project, sci, settings):
    from assbtrack.tracing.api import TracedItemSerializer
    from assbtrack.tracing.models import TracedItem
    from materials.api import SynthesisBatchSerializer
    from materials.selectors import batches_annotated

    chain = make_chain(project, sci, cells=1)
    batches = batches_annotated()
    nested = SynthesisBatchSerializer()
    assert flat_export_plan(batches, nested, list(nested.fields)) is None  # precursors are nested records
    assert flat_export_plan(batches, nested, ["code", "mass_remaining_g", "composition"]) is not None
    items = TracedItem.objects.all()
    serializer = TracedItemSerializer()
    annotations, steps = flat_export_plan(items, serializer, list(serializer.fields))
    assert set(annotations) == {"export_quantity_remaining"}
    assert ("project__code", None) in steps

    client = token_client(sci)
    path, fields = "/api/v1/sse-batches/", "code,mass_g,mass_used_g,mass_remaining_g,composition"
    settings.ASSBTRACK_EXPORT_FLAT = True
    fast = export(client, path, "csv", fields=fields)
    settings.ASSBTRACK_EXPORT_FLAT = False
    assert fast == export(client, path, "csv", fields=fields)
    assert chain["batch"].item.code in fast and fast.splitlines()[0] == fields
