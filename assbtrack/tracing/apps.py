from django.apps import AppConfig


class TracingConfig(AppConfig):
    name = "assbtrack.tracing"
    label = "tracing"
    verbose_name = "Traced items and lineage"
