from django import forms

from assbtrack.tracing.forms import LabForm

from .services import TOKEN_MAX_LIFETIME_DAYS


class ApiTokenForm(LabForm):
    name = forms.CharField(label="Name (what the token is for)", max_length=100)
    lifetime_days = forms.IntegerField(
        label="Valid for (days)", min_value=1, max_value=TOKEN_MAX_LIFETIME_DAYS, initial=90
    )
