"""The catalogue of models that ``run_model``, the job framework and the API can run.

Each entry names a pure function ``run(data: Mapping) -> dict`` in an app's domain module. The
function checks its own input (raising ``ModelInputError`` with the field named), so every caller
gets the same contract. Imports are lazy: listing the kinds costs nothing.
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
    version: str = "1"  # bump when the function's results change, so cached job results are not reused

    def load(self) -> ModelFunction:
        module_name, function_name = self.target.split(":")
        return getattr(importlib.import_module(module_name), function_name)


MODELS: dict[str, ModelSpec] = {
    spec.kind: spec
    for spec in (
        ModelSpec("conductivity", "materials.conductivity:run_conductivity", "Ionic conductivity from impedance"),
        ModelSpec("arrhenius", "materials.conductivity:run_arrhenius", "Activation energy (Arrhenius fit)"),
        ModelSpec("milling_saturation", "materials.milling:run_milling_saturation", "Milling saturation fit"),
        ModelSpec("stack_energy", "cells.energy:run_stack_energy", "Energy density of a cell design"),
        ModelSpec("module_efficiency", "modules.housing:run_module_efficiency", "Cell-to-module efficiency"),
        ModelSpec(
            "module_efficiency_sweep",
            "modules.housing:run_module_efficiency_sweep",
            "Cell-to-module efficiency against stack pressure",
        ),
        ModelSpec("pressure_map", "modules.pressure:run_pressure_map", "Stack-pressure map from a film scan"),
    )
}


def model_spec(kind: str) -> ModelSpec:
    try:
        return MODELS[kind]
    except KeyError:
        raise KeyError(f"unknown model kind {kind!r}; known kinds: {', '.join(sorted(MODELS))}") from None
