"""The upload form: which kind of records, which project, which file."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import User

from assbtrack.access.models import Project
from assbtrack.access.selectors import projects_visible_to
from assbtrack.tracing.forms import LabForm

from .registry import importer_choices


class ProjectField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Project) -> str:
        return f"{obj.code} – {obj.name}"


class UploadForm(LabForm):
    kind = forms.ChoiceField(label="Records to import", choices=())
    project = ProjectField(label="Project", queryset=Project.objects.none())
    file = forms.FileField(
        label="File (CSV or XLSX)", help_text="Use the template of the kind: one record per row, units in the headers.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = importer_choices()
        self.fields["project"].queryset = projects_visible_to(user)
