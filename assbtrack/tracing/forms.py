"""The base of every technician form (and of the admin's record forms): numbers and dates checked by the
shared reader (``assbtrack.tracing.values``) after Django has read them, so that a form refuses, beside
the field, what an import or a service refuses: other scripts' digits, subnormal numbers, dates of
impossible length, record dates before 1990 or after tomorrow.

Fields meant to hold a date ahead (a calibration due) are named in ``future_date_fields``.

A number's limits are refused in the domain's words, with the unit the label carries ("Mass used must be more
than 0 g"), never in the framework's ("Ensure this value is greater than or equal to 1e-06").
"""

from __future__ import annotations

import re
from datetime import date, datetime

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from .values import ascii_number_text, date_text_problem, magnitude_problem, record_date_problem

_NUMBER_FIELDS = (forms.IntegerField, forms.FloatField, forms.DecimalField)  # FloatField is an IntegerField
_DATE_FIELDS = (forms.DateField, forms.DateTimeField)


_UNIT_IN_LABEL = re.compile(r"^(?P<name>.*?)\s*\((?P<unit>[^(),]{1,12})\)\s*$")
_NOT_UNITS = {"–", "-", "count", "fraction", "pcs"}
# A lower limit this small stands for "more than zero": the forms cannot say "> 0" to Django.
POSITIVE_LIMIT = 1e-5


def label_name_and_unit(label: str) -> tuple[str, str]:
    """``"Mass used (g)"`` → ``("Mass used", "g")``; a label without a unit in brackets keeps its text."""
    match = _UNIT_IN_LABEL.match(label.strip())
    if not match:
        return label.strip(), ""
    unit = match["unit"].strip()
    return match["name"].strip(), "" if unit in _NOT_UNITS else unit


def _amount(value: float, unit: str) -> str:
    text = format(value, ".10g")
    return f"{text} {unit}" if unit else text


def limit_messages(field: forms.Field) -> None:
    """Give a number field's lower and upper limits messages in words, with its label's unit."""
    name, unit = label_name_and_unit(str(field.label or "The value"))
    validators = []
    for validator in field.validators:
        if type(validator) is MinValueValidator:
            low = float(validator.limit_value)
            if 0 < low <= POSITIVE_LIMIT:
                message = f"{name} must be more than {_amount(0, unit)}"
            elif low == 0:
                message = f"{name} must be {_amount(0, unit)} or more"
            else:
                message = f"{name} must be at least {_amount(low, unit)}"
            validator = MinValueValidator(validator.limit_value, message=message.replace("%", "%%"))
        elif type(validator) is MaxValueValidator:
            message = f"{name} must be at most {_amount(float(validator.limit_value), unit)}"
            validator = MaxValueValidator(validator.limit_value, message=message.replace("%", "%%"))
        validators.append(validator)
    field.validators = validators


class PlausibleInputMixin:
    future_date_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, _NUMBER_FIELDS):
                limit_messages(field)

    def _clean_fields(self) -> None:
        super()._clean_fields()
        for name, field in self.fields.items():
            if name not in self.cleaned_data or field.disabled:
                continue
            raw = self[name].data
            if isinstance(raw, (list, tuple)):
                raw = " ".join(str(part) for part in raw)
            if isinstance(field, _NUMBER_FIELDS):
                self._check_number(name, raw, self.cleaned_data[name])
            elif isinstance(field, _DATE_FIELDS):
                self._check_date(name, raw, self.cleaned_data[name])

    def _refuse(self, name: str, reason: str) -> None:
        self.add_error(name, reason)  # also removes the value from cleaned_data

    def _check_number(self, name: str, raw, value) -> None:
        if isinstance(raw, str) and raw.strip():
            try:
                ascii_number_text(raw.strip())
            except ValueError as error:
                self._refuse(name, str(error))
                return
        if value is not None:
            problem = magnitude_problem(float(value))
            if problem:
                self._refuse(name, problem)

    def _check_date(self, name: str, raw, value) -> None:
        if isinstance(raw, str):
            problem = date_text_problem(raw.strip())
            if problem:
                self._refuse(name, problem)
                return
        if isinstance(value, (date, datetime)):
            problem = record_date_problem(value, future_allowed=name in self.future_date_fields)
            if problem:
                self._refuse(name, problem)


class LabForm(PlausibleInputMixin, forms.Form):
    pass


class LabModelForm(PlausibleInputMixin, forms.ModelForm):
    pass
