"""House rules that keep the code base navigable: pure science imports no Django; every model has history;
imports between the project's modules happen at the top of a module and form no cycle."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_MODULES = sorted(
    path
    for pattern in ("*/conductivity.py", "*/milling.py", "*/energy.py", "*/tiers.py", "*/cycling.py", "*/films.py",
                    "*/geometry.py",
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

# Function-level imports of project modules that stay, outside AppConfig.ready() (where every import is
# app loading): file -> how many. Each one carries a comment saying why, on its line or just above it.
KEPT_FUNCTION_LEVEL_IMPORTS = {
    "assbtrack/api/bundle.py": 3,  # the core reads the cells app only when a bundle is built
    "assbtrack/api/passport.py": 2,  # the core reads the cells and materials apps only when a passport is built
}


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
