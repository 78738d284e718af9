"""The process-learning demo: enough varied records for the milling and housing design spaces to say something."""

from __future__ import annotations

import pytest

from assbtrack.domain.design import caveats, read_problem
from assbtrack.quality.design import MODEL_KEYS, design_inputs
from assbtrack.tracing.demo import DemoContext
from modules import learning_demo as demo
from modules.models import HousingDesign
from tests.utils.factories import scientist, technician


@pytest.mark.django_db
def test_the_demo_gives_milling_and_housing_models_varied_records(project, other_project,
                                                                  django_capture_on_commit_callbacks):
    context = DemoContext(project=project, other_project=other_project,
                          users={"technician": technician(), "scientist": scientist()})
    with django_capture_on_commit_callbacks(execute=False):
        demo.load(context)
    learning = HousingDesign.objects.get(name="Campaign housing 1").project
    for step, outcome, least in (("milling", "conductivity_ms_per_cm", 30), ("housing", "pressure_map_cv", 12)):
        inputs = design_inputs(step=step, outcome=outcome, project=learning, bounds=None, count=3)
        assert len(inputs["records"]) >= least, step
        parameters, x, y, *_ = read_problem({key: inputs[key] for key in MODEL_KEYS if key in inputs})
        assert caveats(parameters, x) == ([], []), step  # every parameter varies, enough records for them
        assert y.max() > 1.5 * y.min(), step  # the outcome moves
    assert any("12 mapped housing designs" in line for line in context.log)
