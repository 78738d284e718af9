"""The ``passport`` action shared by the cell and module viewsets (``/api/v1/cells/{code}/passport/``).

It goes through the viewset's scoped ``get_object``, so a code outside the caller's projects answers 404.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .passport import passport_build, passport_jsonld
from .renderers import JsonLdRenderer


class PassportMixin:
    @extend_schema(
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "application/ld+json"): OpenApiTypes.OBJECT},
        filters=False,
    )
    @action(detail=True, renderer_classes=[JSONRenderer, JsonLdRenderer], filterset_class=None,
            pagination_class=None)
    def passport(self, request, code=None):
        """Everything upstream of this item in one document, aligned with the Battery Pass data model
        (general product information, material composition, performance and durability) plus process
        parameters, measurements, QC, cycling summary and model results. ``?format=jsonld`` answers JSON-LD."""
        record = self.get_object()
        document = passport_build(record.item, user=request.user)
        if request.accepted_renderer.format == JsonLdRenderer.format:
            document = passport_jsonld(document, iri=request.build_absolute_uri(request.path))
        return Response(document)


class PassportBundleMixin:
    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY}, filters=False)
    @action(detail=True, url_path="passport/bundle", filterset_class=None, pagination_class=None)
    def passport_bundle(self, request, code=None):
        """The passport as an RO-Crate zip, with the cycling time series in the Battery Data Format (BDF CSV)
        and the cell's plots."""
        import shutil

        from django.http import FileResponse

        from .bundle import new_bundle_folder, passport_bundle_zip

        record = self.get_object()
        document = passport_build(record.item, user=request.user)
        folder = new_bundle_folder()
        try:
            zip_path = passport_bundle_zip(record, document, folder)
            handle = zip_path.open("rb")  # stays readable after the folder is removed
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return FileResponse(handle, as_attachment=True, filename=zip_path.name, content_type="application/zip")
