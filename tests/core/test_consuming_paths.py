"""Holds that hold, by every path: each function that writes lineage edges or releases items is registered
(``assbtrack.tracing.registry.CONSUMING_PATHS``), the source is searched for callers that are not, and every
registered path is driven here with an affected item (a hold upstream of it, not on it): refused, naming the
hold, with nothing written; then accepted under a signed deviation naming that hold.

A new function that calls ``edge_create``, ``edges_bulk_create`` or ``item_release`` fails
``test_every_caller_of_a_core_writer_is_a_registered_path`` until it is registered, and a registered path
fails ``test_every_registered_path_has_a_scenario`` until it has a scenario below.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assbtrack.tracing.choices import ItemKind, ItemStatus, LineageRole
from assbtrack.tracing.models import DeviationPurpose, LineageEdge, TracedItem
from assbtrack.tracing.registry import CONSUMING_PATHS
from assbtrack.tracing.services import deviation_record, edges_bulk_create, item_quarantine, item_release
from cells.choices import AnodeType, CellFormat, Connection, Stacking
from cells.services import cell_build
from electrodes.services import sheets_cut
from materials.services import conductivity_spec_set
from tests.utils.factories import PASSWORD, traced_item, use
from tests.utils.factories_cells import make_cell_films, make_layers
from tests.utils.factories_electrodes import RECIPES, make_component_sources, make_film, make_sse_batch
from tests.utils.factories_materials import make_batch, make_lot, make_measurement
from tests.utils.factories_modules import make_design, make_module

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CORE_WRITERS = {"edge_create", "edges_bulk_create", "item_release"}
SOURCE_DIRS = ("assbtrack", "materials", "electrodes", "cells", "modules", "bench")
# Seed data only: they build a lab from nothing (no hold can stand in it) and pass through the core writers,
# which check anyway. Nothing a person or a partner sends reaches them.
EXEMPT_FILES = {"demo.py": "demo data loaded into an empty lab", "synth.py": "the synthetic benchmark lab",
                "learning_demo.py": "the process-learning demo, loaded into an empty lab after the chain's demo"}
HOLD_REASON = "conductivity below specification"


# ----------------------------------------------------------------------------------- the registry is complete


def _callers_of_core_writers() -> dict[str, str]:
    """Every function (module.qualname) in the project's source that refers to a core writer, with its file."""
    found: dict[str, str] = {}
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts or path.name in EXEMPT_FILES:
                continue
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            tree = ast.parse(path.read_text(), filename=str(path))
            _visit(tree, module, [], found, str(path.relative_to(ROOT)))
    return found


def _visit(node: ast.AST, module: str, scope: list[str], found: dict[str, str], where: str) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            _visit(child, module, [*scope, child.name], found, where)
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            continue
        name = child.id if isinstance(child, ast.Name) else child.attr if isinstance(child, ast.Attribute) else None
        if name in CORE_WRITERS and scope != [name]:
            # the outermost function is the path (a nested helper belongs to it); module level is named as such
            found.setdefault(f"{module}.{scope[0]}" if scope else f"{module}:<module level>", where)
        _visit(child, module, scope, found, where)


@pytest.fixture(scope="module")
def callers() -> dict[str, str]:
    """The callers found in the source, with their modules imported (a path registers when its module loads)."""
    found = _callers_of_core_writers()
    for name in found:
        importlib.import_module(name.split(":")[0].rsplit(".", 1)[0])
    return found


def test_every_caller_of_a_core_writer_is_a_registered_path(callers):
    # the search itself works: it finds the paths this test was written against
    assert {"cells.services.cell_build", "modules.services.module_assemble",
            "assbtrack.tracing.views.item_status_action"} <= set(callers)
    unregistered = {name: where for name, where in callers.items() if name not in CONSUMING_PATHS}
    assert not unregistered, (
        "these use parents or release items without being registered consuming paths "
        f"(decorate them with @consuming_path and add a scenario here): {unregistered}"
    )


def test_every_registered_path_has_a_scenario(callers):
    assert set(CONSUMING_PATHS) == set(SCENARIOS), "a registered path without a scenario, or a stale scenario"


# ------------------------------------------------------------------------------------------------ scenarios


@dataclass
class Case:
    affected: TracedItem  # the item used as a parent, or released, by the path
    held: TracedItem  # quarantined upstream of it once the case is built
    attempt: Callable[[], dict[str, list[str]]]  # the path; its refusals by field ({} when accepted)
    accepted: Callable[[], bool]  # whether the path's write is there
    purpose: str


def _service(call: Callable[[], object]) -> dict[str, list[str]]:
    try:
        call()
    except ValidationError as error:
        return error.message_dict
    return {}


def _edge_from(parent: TracedItem) -> Callable[[], bool]:
    return lambda: LineageEdge.objects.filter(parent=parent).exclude(child__in=_children_before[parent.pk]).exists()


_children_before: dict[int, set[int]] = {}


def _use_case(affected: TracedItem, held: TracedItem, attempt: Callable[[], object]) -> Case:
    _children_before[affected.pk] = set(LineageEdge.objects.filter(parent=affected).values_list("child_id", flat=True))
    return Case(affected, held, lambda: _service(attempt), _edge_from(affected), DeviationPurpose.USE)


def _released(item: TracedItem) -> Callable[[], bool]:
    return lambda: TracedItem.objects.get(pk=item.pk).status == ItemStatus.RELEASED


def _bare_chain(project, tech) -> tuple[TracedItem, TracedItem]:
    """A lot used in a second lot: the first is the one held, the second the affected one."""
    root = traced_item(project=project, user=tech)
    middle = traced_item(project=project, user=tech)
    use(root, middle, user=tech, amount="10", unit="g")
    return root, middle


def edge_create_case(project, tech, sci) -> Case:
    root, middle = _bare_chain(project, tech)
    child = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    return _use_case(middle, root, lambda: use(middle, child, user=tech, amount="5", unit="g"))


def edges_bulk_create_case(project, tech, sci) -> Case:
    root, middle = _bare_chain(project, tech)
    child = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    return _use_case(middle, root, lambda: edges_bulk_create(
        edges=[(middle.pk, child.pk, "5", "g", LineageRole.PRECURSOR)], user=tech))


def item_release_case(project, tech, sci) -> Case:
    root, middle = _bare_chain(project, tech)  # lots: no QC check of their kind
    return Case(middle, root, lambda: _service(lambda: item_release(item=middle, user=sci, password=PASSWORD)),
                _released(middle), DeviationPurpose.RELEASE)


def item_status_action_case(project, tech, sci) -> Case:
    root, middle = _bare_chain(project, tech)
    client = Client()
    client.force_login(sci)

    def attempt() -> dict[str, list[str]]:
        response = client.post(reverse("tracing:status-action", args=[middle.code, "release"]),
                               {"reason": "", "password": PASSWORD}, follow=True)
        assert response.status_code == 200
        return {"messages": [m.message for m in response.context["messages"] if m.level_tag == "error"]} \
            if not _released(middle)() else {}

    return Case(middle, root, attempt, _released(middle), DeviationPurpose.RELEASE)


def _qc_passed_batch(project, tech, sci, precursor: TracedItem):
    batch = make_batch(project, tech, precursors=[(precursor, 5.0)])
    conductivity_spec_set(project=project, composition=batch.composition, minimum_ms_per_cm=2.0, user=sci)
    make_measurement(batch, sci, conductivity_ms_per_cm=3.0)
    return batch


def batch_status_case(project, tech, sci) -> Case:
    root = make_lot(project, tech).item
    lot = make_lot(project, tech).item
    use(root, lot, user=tech, amount="1", unit="g")
    batch = _qc_passed_batch(project, tech, sci, lot)
    client = Client()
    client.force_login(sci)

    def attempt() -> dict[str, list[str]]:
        response = client.post(reverse("materials:batch-status", args=[batch.item.code]),
                               {"action": "release", "reason": "", "password": PASSWORD})
        if response.status_code == 302:
            return {}
        return {field: list(errors) for field, errors in response.context["form"].errors.items()}

    return Case(batch.item, root, attempt, _released(batch.item), DeviationPurpose.RELEASE)


def batch_create_case(project, tech, sci) -> Case:
    root = make_lot(project, tech).item
    lot = make_lot(project, tech).item
    use(root, lot, user=tech, amount="1", unit="g")
    return _use_case(lot, root, lambda: make_batch(project, tech, precursors=[(lot, 5.0)]))


def film_create_case(project, tech, sci) -> Case:
    batch = make_sse_batch(project, tech)
    lot = batch.item.edges_in.first().parent
    components = make_component_sources(project, tech, ItemKind.CATHODE_FILM, sse_batch=batch)
    return _use_case(batch.item, lot, lambda: make_film(project, tech, ItemKind.CATHODE_FILM, components=components))


def sheets_cut_case(project, tech, sci) -> Case:
    batch = make_sse_batch(project, tech)
    film = make_film(project, tech, ItemKind.CATHODE_FILM, sse_batch=batch)
    return _use_case(film.item, batch.item, lambda: sheets_cut(film=film, user=tech, count=1, area_cm2=10.0))


def _cell_films_and_layers(project, tech):
    films = make_cell_films(project, tech)
    layers = make_layers(films, tech, count=1, anode_type=AnodeType.LI_METAL)
    batch = films["cathode"].components.get(role=LineageRole.ELECTROLYTE).source
    return films, layers, batch


CELL = {"cell_format": CellFormat.SINGLE_LAYER_POUCH, "stacking": Stacking.SINGLE_SHEET,
        "connection": Connection.PARALLEL, "length_mm": 300.0, "width_mm": 100.0, "edge_margin_mm": 1.0,
        "operating_stack_pressure_mpa": 5.0, "anode_type": AnodeType.LI_METAL}


def cell_build_case(project, tech, sci) -> Case:
    _films, layers, batch = _cell_films_and_layers(project, tech)
    sheet = layers[0]["cathode"]
    return _use_case(sheet, batch, lambda: cell_build(project=project, user=tech, layers=layers, **CELL))


def module_assemble_case(project, tech, sci) -> Case:
    _films, layers, batch = _cell_films_and_layers(project, tech)
    cell = cell_build(project=project, user=tech, layers=layers, **CELL)
    design = make_design(project, tech)
    return _use_case(cell.item, batch, lambda: make_module(project, tech, cells=[cell], design=design))


SCENARIOS: dict[str, Callable] = {
    "assbtrack.tracing.services.edge_create": edge_create_case,
    "assbtrack.tracing.services.edges_bulk_create": edges_bulk_create_case,
    "assbtrack.tracing.services.item_release": item_release_case,
    "assbtrack.tracing.views.item_status_action": item_status_action_case,
    "materials.services.batch_create": batch_create_case,
    "materials.views.batch_status": batch_status_case,
    "electrodes.services.film_create": film_create_case,
    "electrodes.services.sheets_cut": sheets_cut_case,
    "cells.services.cell_build": cell_build_case,
    "modules.services.module_assemble": module_assemble_case,
}
# Where each path's refusal lands: the field of its form or its argument.
REFUSAL_FIELD = {
    "assbtrack.tracing.services.edge_create": "parent",
    "assbtrack.tracing.services.edges_bulk_create": "parent",
    "assbtrack.tracing.services.item_release": "status",
    "assbtrack.tracing.views.item_status_action": "messages",
    "materials.services.batch_create": "precursors.0.lot",
    "materials.views.batch_status": "action",
    "electrodes.services.film_create":
        f"components[{[what for what, _ in RECIPES[ItemKind.CATHODE_FILM]['rows']].index('sse')}].source",
    "electrodes.services.sheets_cut": "count",
    "cells.services.cell_build": "layers-0-cathode",
    "modules.services.module_assemble": "cell_codes",
}


def snapshot() -> dict[str, object]:
    """Rows of every table of the chain, and every item's status and stock."""
    counts: dict[str, object] = {
        model._meta.label: model._default_manager.count()
        for label in ("tracing", "materials", "electrodes", "cells", "modules")
        for model in apps.get_app_config(label).get_models()
    }
    counts["items"] = sorted(TracedItem.objects.values_list("pk", "status", "quantity_used"))
    return counts


@pytest.mark.parametrize("path", sorted(SCENARIOS))
def test_a_path_refuses_an_affected_item_and_accepts_it_under_a_deviation(path, project, tech, sci):
    case = SCENARIOS[path](project, tech, sci)
    item_quarantine(item=case.held, user=sci, reason=HOLD_REASON)
    on = timezone.localtime()
    expected = (f"{case.affected.code} is affected: it comes from {case.held.code}, quarantined on "
                f"{on.day} {on:%b %Y} by {sci.username} ({HOLD_REASON})")

    before = snapshot()
    refusals = case.attempt()
    assert any(expected in message for message in refusals.get(REFUSAL_FIELD[path], [])), refusals
    assert snapshot() == before, "a refused path wrote something"
    assert not case.accepted()

    # a deviation for the other purpose does not open this path
    other = DeviationPurpose.USE if case.purpose == DeviationPurpose.RELEASE else DeviationPurpose.RELEASE
    deviation_record(item=case.affected, user=sci, purpose=other, reason="wrong purpose", password=PASSWORD,
                     held_item_ids=[case.held.pk])
    assert expected in " ".join(case.attempt().get(REFUSAL_FIELD[path], []))

    deviation_record(item=case.affected, user=sci, purpose=case.purpose, reason="retest passed on the pellet",
                     password=PASSWORD, held_item_ids=[case.held.pk])
    assert case.attempt() == {}
    assert case.accepted()


def test_an_import_reports_the_affected_lot_at_its_row_and_column_and_writes_nothing(project, tech, sci):
    """Imports reach the lineage through the app's services (here ``batch_create``): the same refusal, per row."""
    from assbtrack.imports.models import ImportStatus
    from materials.models import SynthesisBatch
    from tests.imports.test_domain_importers import headers, run_import
    from tests.utils.factories_imports import csv_bytes

    root = make_lot(project, tech).item
    lot = make_lot(project, tech).item
    use(root, lot, user=tech, amount="1", unit="g")
    item_quarantine(item=root, user=sci, reason=HOLD_REASON)
    columns = headers("synthesis_batches", "composition", "sse_class", "route", "precursor_1_lot",
                      "precursor_1_mass_g", "batch_mass_g", "milling_time_h", "speed_rpm")
    content = csv_bytes(columns, [["Li6PS5Cl", "sulfide", "mechanochemical", lot.code, "5", "4.5", "10", "510"]])
    before = snapshot()
    run = run_import("synthesis_batches", project, tech, content)
    assert run.status != ImportStatus.IMPORTED
    [problem] = run.problems
    assert (problem["row"], problem["column"]) == (2, "precursor 1 lot (code)")
    assert problem["reason"].startswith(f"{lot.code} is affected: it comes from {root.code}, quarantined on ")
    assert not SynthesisBatch.objects.exists()
    assert snapshot() == before  # the chain's tables (the import run itself is recorded, as it should be)

    deviation_record(item=lot, user=sci, purpose=DeviationPurpose.USE, reason="retest passed", password=PASSWORD,
                     held_item_ids=[root.pk])
    run = run_import("synthesis_batches", project, tech, content)
    assert (run.status, run.created_count) == (ImportStatus.IMPORTED, 1), run.problems
