"""Jobs in the API: partners read the jobs of shared items; lab staff may also submit a model run."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from assbtrack.access.selectors import user_is_lab_staff
from assbtrack.api.viewsets import HasReadRole
from assbtrack.tracing.selectors import item_get_for_user

from .handlers import catalogue_kinds
from .models import Job, JobFile
from .selectors import jobs_visible_to
from .services import job_submit


class JobFileSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = JobFile
        fields = ["name", "size_bytes", "url"]

    def get_url(self, job_file: JobFile) -> str:
        request = self.context.get("request")
        path = reverse("jobs:file", args=[job_file.job_id, job_file.name])
        return request.build_absolute_uri(path) if request else path


class JobSerializer(serializers.ModelSerializer):
    subject = serializers.SlugRelatedField(slug_field="code", read_only=True)
    files = JobFileSerializer(many=True, read_only=True)

    class Meta:
        model = Job
        fields = [
            "id", "kind", "status", "progress_percent", "progress_message", "inputs", "result", "error",
            "subject", "files", "reused_from", "attempts", "worker", "created_at", "started_at", "finished_at",
        ]


class JobSubmitSerializer(serializers.Serializer):
    kind = serializers.CharField()
    inputs = serializers.JSONField()
    subject = serializers.CharField(required=False, allow_blank=True, help_text="code of the item the run is about")


class JobViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Model runs and long operations. ``POST`` ``{kind, inputs}`` runs a catalogue model on a worker (lab staff):
    the inputs are checked in the request (400 naming the field), the model is computed on the worker."""

    serializer_class = JobSerializer
    permission_classes = [permissions.IsAuthenticated, HasReadRole]
    filterset_fields = ["kind", "status"]

    def get_queryset(self):
        return jobs_visible_to(self.request.user)

    def get_serializer_class(self):
        return JobSubmitSerializer if self.action == "create" else JobSerializer

    def create(self, request, *args, **kwargs):
        if not (user_is_lab_staff(request.user) and request.user.has_perm("jobs.add_job")):
            raise PermissionDenied("Only lab staff may submit jobs.")
        submitted = JobSubmitSerializer(data=request.data)
        submitted.is_valid(raise_exception=True)
        kind = submitted.validated_data["kind"]
        if kind not in catalogue_kinds():
            # Exports, bundles, plots and imports are started by their own pages and endpoints, which know
            # who asks and what for; by name, only the models of the catalogue.
            raise ApiValidationError({"kind": [f"{kind!r} cannot be submitted here; submit one of the catalogue "
                                               f"models: {', '.join(catalogue_kinds())}"]})
        subject = None
        if submitted.validated_data.get("subject"):
            subject = item_get_for_user(submitted.validated_data["subject"], request.user)
            if subject is None:
                raise ApiValidationError({"subject": "no item with that code"})
        try:
            job = job_submit(
                kind=kind,
                inputs=submitted.validated_data["inputs"],
                user=request.user,
                subject=subject,
            )
        except DjangoValidationError as error:
            raise ApiValidationError(error.message_dict) from None
        return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_201_CREATED)


def register(router) -> None:
    router.register("jobs", JobViewSet, basename="job")
