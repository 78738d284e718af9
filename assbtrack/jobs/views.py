"""Job pages: progress while a worker runs it, then the result and the plots."""

from __future__ import annotations

import mimetypes

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.exceptions import AuthenticationFailed

from assbtrack.access.authentication import ApiTokenAuthentication
from assbtrack.access.selectors import user_is_lab_staff

from .models import Job
from .selectors import jobs_visible_to


def _job_or_404(request: HttpRequest, job_id: int) -> Job:
    job = jobs_visible_to(request.user).filter(pk=job_id).first()
    if job is None:
        raise Http404("No such job that you may see.")
    return job


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = list(jobs_visible_to(request.user)[:100])
    return render(request, "jobs/job_list.html", {"jobs": jobs})


@login_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    # The exception behind an unexpected failure is for lab staff; everyone else reads the plain message.
    return render(request, "jobs/job_detail.html", {"job": _job_or_404(request, job_id),
                                                    "show_error_detail": user_is_lab_staff(request.user)})


@login_required
def job_status(request: HttpRequest, job_id: int) -> JsonResponse:
    """Polled by the job page (and any page showing a job) to move its progress bar."""
    job = _job_or_404(request, job_id)
    return JsonResponse(
        {
            "id": job.pk,
            "status": job.status,
            "progress_percent": job.progress_percent,
            "progress_message": job.progress_message,
            "error": job.error,
            "finished": job.is_finished,
        }
    )


def _token_or_login(view):
    """A logged-in session, or an API token (``Authorization: Token <key>``) so partners fetch export files
    with the same credentials as the API; a bad, expired or revoked token answers 401."""
    from functools import wraps

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not request.user.is_authenticated and header.startswith("Token "):
            try:
                request.user, _ = ApiTokenAuthentication().authenticate_credentials(header[6:].strip())
            except AuthenticationFailed as error:
                return HttpResponse(str(error.detail), status=401, content_type="text/plain")
            return view(request, *args, **kwargs)
        return login_required(view)(request, *args, **kwargs)

    return wrapped


@_token_or_login
def job_file(request: HttpRequest, job_id: int, name: str) -> FileResponse:
    """A file a job produced, checked against the caller's access; never rendered as HTML."""
    job = _job_or_404(request, job_id)
    job_file = next((f for f in job.files.all() if f.name == name), None)
    if job_file is None:
        raise Http404("No such file.")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type.startswith("text/html"):
        content_type = "text/plain"
    try:
        handle = job_file.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file of this job is no longer in storage.") from None
    response = FileResponse(handle, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
