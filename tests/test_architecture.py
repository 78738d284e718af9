"""House rules that keep the code base navigable: the core imports no app; pure science loads neither Django nor
Celery; every model has history."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps

from assbtrack.domain import PURE_MODULES

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = {"django", "rest_framework", "celery", "kombu", "django_filters", "drf_spectacular", "simple_history"}
APPS = ("materials", "electrodes", "cells", "modules")  # the domain apps; the core is ``assbtrack``

# The science modules the house rules name: each must be in the registry of pure modules.
NAMED_SCIENCE_MODULES = (
    "materials.conductivity", "materials.milling", "electrodes.films", "cells.energy", "cells.tiers",
    "cells.cycling", "cells.cycler_files", "modules.housing", "modules.pressure", "assbtrack.instruments.exposure",
    "assbtrack.domain.inputs", "assbtrack.domain.plotting", "assbtrack.domain.registry",
    "assbtrack.domain.spreadsheet",
)
# Modules whose imports happen to name no framework today but that belong to the Django side (job registration,
# request bounds, URL converters): not promised pure, so not in the registry.
PURE_BY_CHANCE = {"materials.tasks", "assbtrack.jobs.handlers", "assbtrack.api.numbers",
                  "assbtrack.tracing.converters"}
# Django's own rooms: never science.
NOT_MODULES = {"migrations", "management", "settings", "templatetags", "scripts", "static", "templates"}


def module_paths() -> dict[str, Path]:
    """Every module of the core and the apps (package ``__init__`` files left out), by dotted name."""
    found = {}
    for package in ("assbtrack", *APPS):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] != "__init__" and not NOT_MODULES.intersection(parts):
                found[".".join(parts)] = path
    return found


def imported_names(module: str, path: Path) -> set[str]:
    """What the module's import statements name (at the top and inside functions): ``a.b`` for ``import a.b``,
    ``a.b`` and ``a.b.c`` for ``from a.b import c``; relative imports resolved against ``module``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*module.split(".")[:-node.level], *([node.module] if node.module else [])])
            if node.module:
                names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def looks_pure(paths: dict[str, Path]) -> set[str]:
    """The modules that import no framework, neither directly nor through another module of the project."""
    imports = {module: imported_names(module, path) for module, path in paths.items()}
    impure = {module for module, names in imports.items() if any(name.split(".")[0] in FRAMEWORKS for name in names)}
    grown = True
    while grown:
        grown = False
        for module, names in imports.items():
            if module not in impure and names & impure:
                impure.add(module)
                grown = True
    return set(paths) - impure


def test_every_named_science_module_is_registered_as_pure():
    missing = [module for module in NAMED_SCIENCE_MODULES if module not in PURE_MODULES]
    assert not missing, f"not in assbtrack.domain.PURE_MODULES: {missing}"


def test_every_module_that_looks_pure_is_registered():
    """A new module whose imports name no framework is science (or a plain helper of it): it joins the registry,
    which keeps it pure, unless it is Django-side code listed in ``PURE_BY_CHANCE``."""
    paths = module_paths()
    assert {"materials.conductivity", "assbtrack.celery", "cells.models"} <= set(paths)  # the walk finds modules
    unregistered = sorted(looks_pure(paths) - set(PURE_MODULES) - PURE_BY_CHANCE)
    assert not unregistered, f"add to assbtrack.domain.PURE_MODULES (or PURE_BY_CHANCE): {unregistered}"
    unknown = sorted(set(PURE_MODULES) - set(paths))
    assert not unknown, f"PURE_MODULES names modules that do not exist: {unknown}"


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_no_framework(module: str):
    """Statically, in its own source (inside functions too), so the error names the import."""
    path = module_paths()[module]
    forbidden = sorted(name for name in imported_names(module, path) if name.split(".")[0] in FRAMEWORKS)
    assert not forbidden, f"{module} imports {forbidden}: pure modules stay pure"
    assert "matplotlib.pyplot" not in imported_names(module, path), f"{module} imports pyplot (global state)"


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_loads_neither_django_nor_celery(module: str):
    """At run time, transitively, in a fresh interpreter: importing the module alone (and the packages above it)
    loads no Django and no Celery."""
    code = (
        f"import sys; import {module}; "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'celery', 'rest_framework')); "
        "assert not loaded, loaded"
    )
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, f"importing {module}: {completed.stderr.strip().splitlines()[-1:]}"


def test_the_core_imports_no_domain_app():
    """Per-kind content reaches the core through the kind registry (``assbtrack/tracing/registry.py``), filled from
    each app's ``AppConfig.ready()``; no module of ``assbtrack/`` imports an app, at the top or in a function."""
    found = []
    for module, path in module_paths().items():
        if not module.startswith("assbtrack."):
            continue
        found += [f"{module} imports {name}" for name in sorted(imported_names(module, path))
                  if name.split(".")[0] in APPS]
    assert not found, found


def test_the_import_check_sees_an_app_import(tmp_path: Path):
    """The check above reads both spellings, and from inside a function too."""
    source = tmp_path / "sample.py"
    source.write_text("import os\n\ndef f():\n    from cells.models import Cell\n    import modules.housing\n")
    names = imported_names("assbtrack.api.sample", source)
    assert {"cells.models", "cells.models.Cell", "modules.housing"} <= names
    assert {name.split(".")[0] for name in names} & set(APPS) == {"cells", "modules"}


DOMAIN_APPS = ("materials", "electrodes", "cells", "modules", "tracing", "access")
# Counters, append-only logs and credentials keep no history of their own.
UNAUDITED = {"CodeCounter", "StatusEvent", "Deviation", "ExportLog", "Membership", "ApiToken"}


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
