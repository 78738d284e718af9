"""A service's refusal shown on the page: every message beside the field it names, the rest on top."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.forms import BaseForm, BaseFormSet


@dataclass(frozen=True)
class FormsetRows:
    """Where the refusals of a formset's rows go.

    ``<prefix><separator><row><separator><field>`` (``layers-2-sheet_code``, ``precursors.0.mass_g``) goes
    beside that field of that row, ``<prefix>`` alone above the formset. ``rows`` maps the row numbers the
    service was given to the formset's forms, when the view skipped empty rows.
    """

    formset: BaseFormSet
    prefix: str
    separator: str
    rows: Sequence[int] | None = None

    def place(self, field: str, texts: list[str]) -> bool:
        """Put ``texts`` on the formset if ``field`` names one of its rows (or the formset); else False."""
        if field == self.prefix:
            formset = self.formset
            formset._non_form_errors = formset.error_class(list(formset.non_form_errors()) + texts)
            return True
        start = self.prefix + self.separator
        if not field.startswith(start):
            return False
        index, _, row_field = field[len(start):].partition(self.separator)
        rows = self.rows if self.rows is not None else range(len(self.formset.forms))
        if not index.isdigit() or int(index) >= len(rows):
            return False
        target = self.formset.forms[rows[int(index)]]
        target.add_error(row_field if row_field in target.fields else None, texts)
        return True


def _label(field: str | None, label: str, plain: Collection[str]) -> str:
    if not field or field == "__all__" or field in plain or not label:
        return ""
    return f"{field.replace('_', ' ') if label == 'spoken' else field}: "


def errors_show(
    error: ValidationError,
    form: BaseForm,
    *,
    formset: FormsetRows | None = None,
    aliases: Mapping[str, str] | None = None,
    prefix_aliases: Mapping[str, str] | None = None,
    label: str = "spoken",
    plain: Collection[str] = (),
    fallback: list[str] | None = None,
) -> None:
    """Each message of ``error`` beside the form field (or formset row) it names; the others on top.

    ``aliases`` renames the service's fields to the form's (``module`` is typed as ``module_code``);
    ``prefix_aliases`` does so for a family (``column_map.`` to ``column_``) where the form has the field.
    A message no field holds goes on top, led by its field's name (``label``: "spoken" with spaces for
    underscores, "name" as it is, "" none; never for ``__all__`` or the keys in ``plain``), or into
    ``fallback`` when the page shows such messages elsewhere.
    """
    problems = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
    for field, texts in problems.items():
        if field and aliases:
            field = aliases.get(field, field)
        if field and formset is not None and formset.place(field, texts):
            continue
        for prefix, replacement in (prefix_aliases or {}).items():
            if field and field.startswith(prefix) and replacement + field[len(prefix):] in form.fields:
                field = replacement + field[len(prefix):]
        if field in form.fields:
            form.add_error(field, texts)
            continue
        lead = _label(field, label, plain)
        if fallback is not None:
            fallback.extend(f"{lead}{text}" for text in texts)
        else:
            form.add_error(None, [f"{lead}{text}" for text in texts])
