"""The ``passport`` and ``passport/bundle`` actions shared by the cell and module viewsets
(``/api/v1/cells/{code}/passport/``, ``/api/v1/modules/{code}/passport/bundle/``).

It goes through the viewset's scoped ``get_object``, so a code outside the caller's projects answers 404.
"""

from __future__ import annotations

import shutil

from django.conf import settings
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from assbtrack.jobs.services import job_submit

from .bundle import BUNDLE_JOB, bundle_source_bytes, new_bundle_folder, passport_bundle_zip
from .exports import job_accepted
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
    @extend_schema(
        responses={(200, "application/zip"): OpenApiTypes.BINARY, (202, "application/json"): OpenApiTypes.OBJECT},
        parameters=[OpenApiParameter("async", OpenApiTypes.BOOL, description="build the bundle as a job")],
        filters=False,
    )
    @action(detail=True, url_path="passport/bundle", filterset_class=None, pagination_class=None)
    def passport_bundle(self, request, code=None):
        """The passport as an RO-Crate zip, with the cycling time series in the Battery Data Format (BDF CSV)
        and the plots. A bundle whose cycler files exceed the inline limit, or any with ``?async=1``, is built
        by a job: the answer is 202 with the job's address, and the zip is downloaded from the job's files."""
        record = self.get_object()
        if request.query_params.get("async") in ("1", "true"):
            return self._bundle_job(request, record.item)  # the job builds the passport: not here as well
        document = passport_build(record.item, user=request.user)
        if bundle_source_bytes(document) > settings.PASSPORT_BUNDLE_INLINE_BYTES:
            return self._bundle_job(request, record.item)
        folder = new_bundle_folder()
        try:
            zip_path = passport_bundle_zip(record.item, document, folder)
            handle = zip_path.open("rb")  # stays readable after the folder is removed
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return FileResponse(handle, as_attachment=True, filename=zip_path.name, content_type="application/zip")

    def _bundle_job(self, request, item):
        # No subject: the bundle holds what the requester may see (confidential fields differ), so only the
        # requester (and lab staff) can open the job and its file.
        job = job_submit(kind=BUNDLE_JOB, user=request.user, inputs={
            "code": item.code, "requested_at": timezone.now().isoformat()})
        return job_accepted(request, job)
