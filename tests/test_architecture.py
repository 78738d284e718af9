"""House rules that keep the code base navigable: pure science imports no Django; every model has history."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_MODULES = sorted(
    path
    for pattern in ("*/conductivity.py", "*/milling.py", "*/energy.py", "*/tiers.py", "*/cycling.py", "*/films.py",
                    "*/cycler_files.py", "*/housing.py", "*/pressure.py", "assbtrack/domain/*.py")
    for path in ROOT.glob(pattern)
)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_modules_are_found():
    assert len(DOMAIN_MODULES) >= 8, [str(p) for p in DOMAIN_MODULES]


@pytest.mark.parametrize("path", DOMAIN_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_module_imports_no_django(path: Path):
    frameworks = {"django", "rest_framework", "celery"}
    forbidden = {name for name in imported_modules(path) if name.split(".")[0] in frameworks}
    assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}: domain modules stay pure"


DOMAIN_APPS = ("materials", "electrodes", "cells", "modules", "tracing", "access")
# Counters, append-only logs and credentials keep no history of their own.
UNAUDITED = {"CodeCounter", "StatusEvent", "Deviation", "ConfirmedWarning", "ExportLog", "Membership", "ApiToken"}


def test_every_domain_table_keeps_history():
    missing = [
        model.__name__
        for model in apps.get_models()
        if model._meta.app_label in DOMAIN_APPS
        and not model.__name__.startswith("Historical")
        and model.__name__ not in UNAUDITED
        and not hasattr(model, "history")
    ]
    assert not missing, f"tables without django-simple-history: {missing}"
