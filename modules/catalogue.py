"""The models of the modules app in the model catalogue (``assbtrack.domain.registry``), registered from
``ModulesConfig.ready()``. ``pressure_map`` reads a file path in the shell; as a job, the app registers its kind
with a stored scan instead (``modules/tasks.py``)."""

from assbtrack.domain.registry import ModelSpec

MODEL_SPECS = (
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
)
