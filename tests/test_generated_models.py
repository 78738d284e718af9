"""No model escapes the generated tests: every model of the kind registry and every model behind an API list has
a test class built from ``tests.utils.generated.GeneratedModelTests``."""

from __future__ import annotations

import importlib
from pathlib import Path

from assbtrack.api.urls import router
from assbtrack.tracing.registry import registered_kinds
from tests.utils.generated import GENERATED

TESTS = Path(__file__).resolve().parent


def api_list_models() -> dict[str, type]:
    found = {}
    for prefix, viewset, _basename in router.registry:
        queryset = getattr(viewset, "queryset", None)
        if queryset is None:  # a viewset that builds its queryset per request names its serializer's model
            meta = getattr(viewset.serializer_class, "Meta", None)
            if meta is None:  # a computed table (yield per step), not a list of one model's rows
                continue
            queryset = meta.model._default_manager.all()
        found[prefix] = queryset.model
    return found


def generated_classes() -> list[type]:
    for path in sorted(TESTS.glob("*/test_generated.py")):
        importlib.import_module(".".join(path.relative_to(TESTS.parent).with_suffix("").parts))
    return GENERATED


def test_every_registered_model_and_api_list_has_a_generated_test_class():
    classes = generated_classes()
    covered_models = {cls.case.model for cls in classes}
    covered_lists = {cls.case.api for cls in classes}
    kinds = {info.kind: info.model for info in registered_kinds()}
    assert kinds, "the kind registry is empty: the apps did not register"
    missing_kinds = sorted(kind for kind, model in kinds.items() if model not in covered_models)
    assert not missing_kinds, f"registered kinds whose model has no generated test class: {missing_kinds}"
    lists = api_list_models()
    missing_lists = sorted(set(lists) - covered_lists)
    assert not missing_lists, f"API lists with no generated test class: {missing_lists}"
    assert {lists[cls.case.api] for cls in classes} == covered_models, "a case's model is not its API list's model"
