"""Typed text read by modules/parsing.py, and the services refusing anything but typed values."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from assbtrack.jobs.models import Job
from modules.parsing import system_sizes_parse
from modules.services import module_efficiency_submit
from tests.utils.factories_modules import make_module


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1, 10, 20", [1.0, 10.0, 20.0]), ("20; 1", [20.0, 1.0]), (" 5 ", [5.0]), ("", None), ("   ", None), (None, None)],
)
def test_system_sizes_are_read_as_typed(text, expected):
    assert system_sizes_parse(text) == expected


def test_a_word_among_the_sizes_is_named():
    with pytest.raises(ValidationError) as caught:
        system_sizes_parse("1, ten")
    assert caught.value.message_dict == {"system_sizes_kwh": ["'ten' is not a number"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ("1, 10", "give the sizes as a list of numbers (kWh)"),
        ([True], "True is not a number"),
        (["10"], "'10' is not a number"),
        ([0.0], "sizes must be greater than 0 and at most 1000000 kWh"),
        ([float(size) for size in range(1, 14)], "at most 12 sizes"),
    ],
)
def test_the_service_takes_numbers_only(project, tech, sci, sizes, message):
    module = make_module(project, tech, cell_count=1)
    with pytest.raises(ValidationError) as caught:
        module_efficiency_submit(module=module, user=sci, system_sizes_kwh=sizes)
    assert caught.value.message_dict == {"system_sizes_kwh": [message]}
    assert not Job.objects.exists()
