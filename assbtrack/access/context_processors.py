"""What every page needs to know about the user's role (to show or hide the technician's navigation)."""

from .selectors import user_is_lab_staff, user_is_partner


def roles(request) -> dict:
    user = getattr(request, "user", None)
    if user is None:
        return {"is_lab_staff": False, "is_partner": False}
    return {"is_lab_staff": user_is_lab_staff(user), "is_partner": user_is_partner(user)}
