"""Who may open a page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from assbtrack.access.selectors import user_is_lab_staff

LAB_STAFF_ONLY = "Only lab staff (technicians and scientists) use these pages: partners read through the API."


def lab_staff_required(view: Callable) -> Callable:
    """Technicians and scientists (and superusers) only: anonymous users log in first, partners get 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not user_is_lab_staff(request.user):
            raise PermissionDenied(LAB_STAFF_ONLY)
        return view(request, *args, **kwargs)

    return wrapper
