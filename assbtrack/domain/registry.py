"""The catalogue of models that ``run_model``, the job framework and the API can run.

Each entry names a pure function ``run(data: Mapping) -> dict`` in an app's domain module. The
function checks its own input (raising ``ModelInputError`` with the field named), so every caller
gets the same contract. ``check`` names the part of it that only reads and checks the input, without
computing: what a submitting request runs before a worker computes. Imports are lazy: listing the
kinds costs nothing.

A job's inputs never name a file on the server: a model whose shell input is a path (``pressure_map``
reads ``image_path``) has ``job_kind_from_app`` set, and its app registers the job kind with inputs
that reference stored records (a pressure scan by id).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ModelFunction = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class ModelSpec:
    kind: str
    target: str  # "package.module:function"
    title: str
    check: str = ""  # "package.module:function" that checks the inputs without computing
    version: str = "1"  # bump when the function's results change, so cached job results are not reused
    job_kind_from_app: bool = False

    def load(self) -> ModelFunction:
        return _load(self.target)

    def load_check(self) -> Callable[[Mapping[str, Any]], Any]:
        return _load(self.check)


def _load(target: str) -> Callable:
    module_name, function_name = target.split(":")
    return getattr(importlib.import_module(module_name), function_name)


MODELS: dict[str, ModelSpec] = {
    spec.kind: spec
    for spec in (
        ModelSpec("conductivity", "materials.conductivity:run_conductivity", "Ionic conductivity from impedance",
                  check="materials.conductivity:read_conductivity_inputs"),
        ModelSpec("arrhenius", "materials.conductivity:run_arrhenius", "Activation energy (Arrhenius fit)",
                  check="materials.conductivity:read_arrhenius_inputs"),
        ModelSpec("milling_saturation", "materials.milling:run_milling_saturation", "Milling saturation fit",
                  check="materials.milling:read_milling_saturation_inputs"),
        ModelSpec("stack_energy", "cells.energy:run_stack_energy", "Energy density of a cell design",
                  check="cells.energy:stack_design_from_inputs"),
        ModelSpec("module_efficiency", "modules.housing:run_module_efficiency", "Cell-to-module efficiency",
                  check="modules.housing:read_module_efficiency_inputs"),
        ModelSpec(
            "module_efficiency_sweep",
            "modules.housing:run_module_efficiency_sweep",
            "Cell-to-module efficiency against stack pressure",
            check="modules.housing:read_module_efficiency_sweep_inputs",
        ),
        ModelSpec("pressure_map", "modules.pressure:run_pressure_map", "Stack-pressure map from a film scan",
                  check="modules.pressure:read_pressure_map_inputs", job_kind_from_app=True),
        ModelSpec("spc", "assbtrack.domain.spc:run_spc", "Control chart of a QC series (Western Electric rules)",
                  check="assbtrack.domain.spc:read_spc_inputs"),
        ModelSpec("design_suggest", "assbtrack.domain.design:run_design_suggest",
                  "Next experiments by Bayesian optimisation (Gaussian process, expected improvement)",
                  check="assbtrack.domain.design:read_problem"),
    )
}


def model_spec(kind: str) -> ModelSpec:
    try:
        return MODELS[kind]
    except KeyError:
        raise KeyError(f"unknown model kind {kind!r}; known kinds: {', '.join(sorted(MODELS))}") from None
