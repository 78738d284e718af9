"""Large exports as a job (kind ``api_export``, queue "imports"): ``?export=csv&async=1`` on any list.

The worker replays the list request as the person who asked (the job's ``requested_by``: same path, filters
and scope), writes the
rows to a temporary file as they come (memory stays flat) and attaches the file to the job, where the
requester downloads it from ``/jobs/<id>/files/<name>``. The export is logged like a streamed one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import APIException

from assbtrack.access.services import export_log_start
from assbtrack.domain.inputs import ModelInputError
from assbtrack.jobs.handlers import QUEUE_IMPORTS, JobContext, JobOutput, PermanentJobError, register_job_kind

from .exports import EXPORT_FORMATS

API_PREFIX = "/api/v1/"


def _validate(inputs: Mapping[str, Any]) -> dict[str, Any]:
    path = str(inputs.get("path", ""))
    if not path.startswith(API_PREFIX):
        raise ModelInputError("path", f"must be an API list path under {API_PREFIX}")
    if inputs.get("format") not in EXPORT_FORMATS:
        raise ModelInputError("format", f"use one of {', '.join(EXPORT_FORMATS)}")
    unknown = sorted(set(inputs) - {"path", "query", "format", "requested_at"})
    if unknown:  # the person is who asked for the job, never an input (no "user_id")
        raise ModelInputError(unknown[0], "is not a known input key")
    return {"path": path, "query": str(inputs.get("query", "")), "format": inputs["format"],
            "requested_at": str(inputs.get("requested_at", ""))}


def _list_view(path: str, query: str, user):
    """The viewset of ``path`` set up for its list action, as ``user`` asking with ``query``."""
    from django.urls import Resolver404, resolve
    from rest_framework.test import APIRequestFactory, force_authenticate

    try:
        match = resolve(path)
    except Resolver404:
        raise PermanentJobError(f"{path} is not an API address") from None
    view_class = getattr(match.func, "cls", None)
    actions = getattr(match.func, "actions", None) or {}
    if view_class is None or actions.get("get") != "list" or not hasattr(view_class, "_export_rows"):
        raise PermanentJobError(f"{path} is not an exportable API list")
    django_request = APIRequestFactory().get(f"{path}?{query}" if query else path)
    force_authenticate(django_request, user=user)
    view = view_class(**match.func.initkwargs)
    view.action_map = actions
    view.action = "list"
    view.args, view.kwargs = (), match.kwargs
    view.format_kwarg = None
    request = view.initialize_request(django_request, **match.kwargs)
    view.request = request
    view.headers = {}
    view.check_permissions(request)
    return view, request


def run_api_export(context: JobContext) -> JobOutput:
    inputs = context.inputs
    user = get_user_model().objects.filter(pk=context.requested_by_id, is_active=True).first()
    if user is None:
        raise PermanentJobError("the account that asked for this export no longer exists or is inactive")
    fmt = inputs["format"]
    try:
        view, request = _list_view(inputs["path"], inputs["query"], user)
    except PermanentJobError:
        raise
    except (APIException, PermissionDenied, DjangoValidationError) as error:  # refused: the person must change it
        raise PermanentJobError(f"the export was refused: {error}") from None
    context.progress(5, "reading rows")
    queryset = view.filter_queryset(view.get_queryset())
    serializer = view.get_serializer(queryset.none(), many=True)
    columns = list(serializer.child.fields)
    log = export_log_start(user=user, endpoint=inputs["path"], query=inputs["query"], export_format=fmt)
    name = inputs["path"].strip("/").replace("/", "-") + f".{fmt}"
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", suffix=f".{fmt}", delete=False)
    with handle:
        for chunk in view._export_rows(queryset, serializer.child, columns, fmt, log):
            handle.write(chunk)
    rows = log.rows  # export_logged finished the log when the last chunk was written
    context.progress(95, f"{rows} rows written")
    return JobOutput(result={"rows": rows, "format": fmt, "file": name}, file_paths={name: Path(handle.name)})


register_job_kind("api_export", queue=QUEUE_IMPORTS, title="API export", run=run_api_export, validate=_validate,
                  per_requester=True)
