"""The partner API, version 1. Each app adds its read-only viewsets through its ``api.register``."""

from importlib import import_module

from rest_framework.routers import DefaultRouter

from assbtrack.tracing.converters import ID_REGEX

app_name = "api"

# The apps whose ``api`` module has a ``register(router)``, in the order of the chain.
API_MODULES = (
    "assbtrack.tracing.api",
    "assbtrack.jobs.api",
    "materials.api",
    "electrodes.api",
    "cells.api",
    "modules.api",
    "assbtrack.quality.api",
)



class IdRouter(DefaultRouter):
    """A viewset found by its primary key takes at most 18 digits (``ID_REGEX``), as every ``<id:...>``
    path does: a longer or non-numeric id is a 404 from the resolver, never an overflow in the database."""

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        lookup_field = getattr(viewset, "lookup_field", "pk")
        if lookup_field in ("pk", "id") and getattr(viewset, "lookup_value_regex", None) is None:
            lookup_url_kwarg = getattr(viewset, "lookup_url_kwarg", None) or lookup_field
            return f"(?P<{lookup_prefix}{lookup_url_kwarg}>{ID_REGEX})"
        return super().get_lookup_regex(viewset, lookup_prefix)


router = IdRouter()
for module_name in API_MODULES:
    import_module(module_name).register(router)

urlpatterns = router.urls
