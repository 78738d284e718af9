"""The process-learning models in the model catalogue (``assbtrack.domain.registry``), registered from
``QualityConfig.ready()``."""

from assbtrack.domain.registry import ModelSpec

MODEL_SPECS = (
    ModelSpec("spc", "assbtrack.domain.spc:run_spc", "Control chart of a QC series (Western Electric rules)",
              check="assbtrack.domain.spc:read_spc_inputs"),
    ModelSpec("design_suggest", "assbtrack.domain.design:run_design_suggest",
              "Next experiments by Bayesian optimisation (Gaussian process, expected improvement)",
              check="assbtrack.domain.design:read_problem"),
)
