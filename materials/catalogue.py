"""The models of the materials app in the model catalogue (``assbtrack.domain.registry``), registered from
``MaterialsConfig.ready()``."""

from assbtrack.domain.registry import ModelSpec

MODEL_SPECS = (
    ModelSpec("conductivity", "materials.conductivity:run_conductivity", "Ionic conductivity from impedance",
              check="materials.conductivity:read_conductivity_inputs"),
    ModelSpec("arrhenius", "materials.conductivity:run_arrhenius", "Activation energy (Arrhenius fit)",
              check="materials.conductivity:read_arrhenius_inputs"),
    ModelSpec("milling_saturation", "materials.milling:run_milling_saturation", "Milling saturation fit",
              check="materials.milling:read_milling_saturation_inputs"),
)
