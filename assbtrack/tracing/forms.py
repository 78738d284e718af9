"""The base of every technician form (and of the admin's record forms): numbers and dates checked by the
shared reader (``assbtrack.tracing.values``) after Django has read them, so that a form refuses, beside
the field, what an import or a service refuses: other scripts' digits, subnormal numbers, dates of
impossible length, record dates before 1990 or after tomorrow.

Fields meant to hold a date ahead (a calibration due) are named in ``future_date_fields``.
"""

from __future__ import annotations

from datetime import date, datetime

from django import forms

from .values import ascii_number_text, date_text_problem, magnitude_problem, record_date_problem

_NUMBER_FIELDS = (forms.IntegerField, forms.FloatField, forms.DecimalField)  # FloatField is an IntegerField
_DATE_FIELDS = (forms.DateField, forms.DateTimeField)


class PlausibleInputMixin:
    future_date_fields: tuple[str, ...] = ()

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
