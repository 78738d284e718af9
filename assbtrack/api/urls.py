"""The partner API, version 1. Each app adds its read-only viewsets through the ``register(router)`` of its
``api`` module, found among the installed apps."""

from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.utils.module_loading import module_has_submodule
from rest_framework.routers import DefaultRouter

from assbtrack.tracing.converters import ID_REGEX

app_name = "api"


class IdRouter(DefaultRouter):
    """A viewset found by its primary key takes at most 18 digits (``ID_REGEX``), as every ``<id:...>``
    path does: a longer or non-numeric id is a 404 from the resolver, never an overflow in the database."""

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        lookup_field = getattr(viewset, "lookup_field", "pk")
        if lookup_field in ("pk", "id") and getattr(viewset, "lookup_value_regex", None) is None:
            lookup_url_kwarg = getattr(viewset, "lookup_url_kwarg", None) or lookup_field
            return f"(?P<{lookup_prefix}{lookup_url_kwarg}>{ID_REGEX})"
        return super().get_lookup_regex(viewset, lookup_prefix)


def api_modules() -> list:
    """The ``api`` modules with a ``register(router)`` of assbtrack's own apps (the core's, then the domain apps'),
    in the order of ``INSTALLED_APPS``, which is the order of the chain."""
    root = Path(settings.BASE_DIR).resolve()
    found = []
    for config in apps.get_app_configs():
        if not Path(config.path).resolve().is_relative_to(root) or not module_has_submodule(config.module, "api"):
            continue
        module = import_module(f"{config.name}.api")
        if callable(getattr(module, "register", None)):
            found.append(module)
    return found


router = IdRouter()
for api_module in api_modules():
    api_module.register(router)

urlpatterns = router.urls
