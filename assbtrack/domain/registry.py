"""The catalogue of models that ``run_model``, the job framework and the API can run.

Each entry names a pure function ``run(data: Mapping) -> dict`` in an app's domain module; the app registers its
entries when Django starts, so the core names no app. The
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


# Filled by the apps from ``AppConfig.ready()`` (``<app>/catalogue.py``) through ``jobs.handlers.register_model``.
MODELS: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to the catalogue; registering the same spec twice is harmless, another under its kind is not."""
    known = MODELS.get(spec.kind)
    if known is not None and known != spec:
        raise ValueError(f"model kind {spec.kind!r} is already {known.target}")
    MODELS[spec.kind] = spec
    return spec


def model_spec(kind: str) -> ModelSpec:
    try:
        return MODELS[kind]
    except KeyError:
        raise KeyError(f"unknown model kind {kind!r}; known kinds: {', '.join(sorted(MODELS))}") from None
