"""The models of the cells app in the model catalogue (``assbtrack.domain.registry``), registered from
``CellsConfig.ready()``."""

from assbtrack.domain.registry import ModelSpec

MODEL_SPECS = (
    ModelSpec("stack_energy", "cells.energy:run_stack_energy", "Energy density of a cell design",
              check="cells.energy:stack_design_from_inputs"),
)
