"""Renderers of the partner API beyond DRF's own."""

from rest_framework.renderers import JSONRenderer


class JsonLdRenderer(JSONRenderer):
    """JSON-LD (``?format=jsonld`` or ``Accept: application/ld+json``); the view adds the ``@context``."""

    media_type = "application/ld+json"
    format = "jsonld"
