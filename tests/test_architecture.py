"""House rules that keep the code base navigable: the core imports no app; pure science loads neither Django nor
Celery; every model has history; imports between the project's modules happen at the top of a module and form
no cycle."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
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
    "cells.geometry", "cells.cycling", "cells.cycler_files", "modules.housing", "modules.pressure",
    "assbtrack.instruments.exposure",
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


# ------------------------------------------------------------------------ imports between the project's modules

APPLICATION_PACKAGES = ("assbtrack", "materials", "electrodes", "cells", "modules")
APPLICATION_FILES = sorted(
    path
    for package in APPLICATION_PACKAGES
    for path in (ROOT / package).rglob("*.py")
    if "migrations" not in path.relative_to(ROOT).parts
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


PROJECT_MODULES = {module_name(path): path for path in APPLICATION_FILES}

# Function-level imports of project modules allowed outside AppConfig.ready() (where every import is app
# loading): file -> how many, each with a comment saying why on its line or just above it. None are needed today.
KEPT_FUNCTION_LEVEL_IMPORTS: dict[str, int] = {}


def _project_module(name: str) -> str | None:
    """The project module that ``import name`` loads last (a package for ``import package.name``), if any."""
    while name and name not in PROJECT_MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> set[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, base] if base else package)
        # ``from package import module`` loads the module too
        names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
    found = {_project_module(name) for name in names}
    return {target for target in found if target and target != module}


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def project_imports(path: Path) -> Iterator[tuple[ast.Import | ast.ImportFrom, set[str], ast.AST | None]]:
    """Every import of a project module in ``path``: the node, what it loads, and the function it sits in
    (None at module level, i.e. run on import). Imports under ``if TYPE_CHECKING:`` never run and are left out."""
    module = module_name(path)
    is_package = path.name == "__init__.py"

    def walk(node: ast.AST, function: ast.AST | None) -> Iterator:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                targets = _targets(child, module, is_package)
                if targets:
                    yield child, targets, function
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                yield from walk(child, child)
            else:
                yield from walk(child, function)

    yield from walk(ast.parse(path.read_text(), filename=str(path)), None)


def _marked(lines: list[str], node: ast.AST, function: ast.AST) -> bool:
    """A comment on the import's line or above its block of imports; in ready(), one comment opening the
    method marks all of its imports."""
    if "#" in lines[node.lineno - 1]:
        return True
    if getattr(function, "name", "") == "ready" and lines[function.body[0].lineno - 2].strip().startswith("#"):
        return True
    above = node.lineno - 2
    while above >= 0 and (
        not lines[above].strip()
        or lines[above].strip().startswith(("from ", "import ", ")"))
        or lines[above].strip().endswith(",")
    ):
        above -= 1
    return above >= 0 and lines[above].strip().startswith("#")


def function_level_imports() -> dict[str, list[tuple[int, bool, bool]]]:
    """Per file, each function-level import of a project module: (line, inside ready(), marked with a comment)."""
    found: dict[str, list[tuple[int, bool, bool]]] = {}
    for path in APPLICATION_FILES:
        lines = path.read_text().splitlines()
        for node, _, function in project_imports(path):
            if function is None:
                continue
            in_ready = getattr(function, "name", "") == "ready" and path.name == "apps.py"
            found.setdefault(str(path.relative_to(ROOT)), []).append(
                (node.lineno, in_ready, _marked(lines, node, function))
            )
    return found


def test_function_level_imports_are_only_the_kept_ones():
    found = function_level_imports()
    assert found, "the walk found no function-level import at all: the apps' ready() methods have some"
    over = {
        name: [line for line, in_ready, _ in imports if not in_ready]
        for name, imports in found.items()
        if sum(not in_ready for _, in_ready, _ in imports) > KEPT_FUNCTION_LEVEL_IMPORTS.get(name, 0)
    }
    assert not over, (
        f"function-level imports of project modules beyond the kept list (file: lines): {over}. Import at the "
        "top of the module; if that makes a cycle, move the code to the room it belongs in (constants to "
        "choices, reads to selectors, enqueueing through the jobs service)."
    )
    unmarked = {name: [line for line, _, marked in imports if not marked] for name, imports in found.items()}
    unmarked = {name: lines for name, lines in unmarked.items() if lines}
    assert not unmarked, f"kept function-level imports without a comment saying why (file: lines): {unmarked}"


def module_import_graph() -> dict[str, set[str]]:
    """Which project modules each project module imports when it is itself imported."""
    return {
        module_name(path): {
            target for _, targets, function in project_imports(path) if function is None for target in targets
        }
        for path in APPLICATION_FILES
    }


def import_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as the modules along it (the first again at the end), or None if there is none."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path = [start]
        pending = [iter(sorted(graph[start]))]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                pending.pop()
                done.add(path.pop())
            elif step in path:
                return [*path[path.index(step):], step]
            elif step in graph and step not in done:
                path.append(step)
                pending.append(iter(sorted(graph[step])))
    return None


def test_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert import_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert import_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set(), "d": {"a", "c"}}) is None
    assert import_cycle({"a": {"a"}}) == ["a", "a"]


def test_project_modules_import_each_other_without_a_cycle():
    graph = module_import_graph()
    assert len(graph) > 100 and graph["cells.services"] >= {"cells.selectors", "cells.choices", "cells.geometry"}
    cycle = import_cycle(graph)
    assert cycle is None, f"import cycle at module level: {' -> '.join(cycle)}"
