"""Technician pages of the instruments app: equipment and calibrations, room sensor logs, storage open/close.

Thin: parse the form, check the role (technicians and scientists), call a service, show the result.
"""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from assbtrack.tracing.selectors import item_get_for_user
from assbtrack.web.decorators import lab_staff_required
from assbtrack.web.forms import errors_show

from . import selectors
from .choices import EquipmentKind
from .forms import (
    CalibrationForm,
    ChannelForm,
    EquipmentForm,
    SensorLogForm,
    StorageCloseForm,
    StorageOpenForm,
    StorageRecordForm,
)
from .models import Calibration, StorageEvent
from .services import (
    calibration_add,
    channel_add,
    environment_log_import,
    equipment_create,
    storage_close,
    storage_event_record,
    storage_open,
)


def _equipment_or_404(pk: int):
    equipment = selectors.equipment_detail_queryset().filter(pk=pk).first()
    if equipment is None:
        raise Http404("No such equipment.")
    return equipment


def _form_page(request: HttpRequest, form: Form, *, title: str, submit: str, back=None, multipart=False,
               status: int = 200) -> HttpResponse:
    context = {"form": form, "title": title, "submit": submit, "back": back, "multipart": multipart}
    return render(request, "instruments/form.html", context, status=400 if form.errors else status)


@lab_staff_required
def equipment_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind") or None
    if kind not in EquipmentKind.values:
        kind = None
    rows = [(equipment, selectors.annotated_state(equipment)) for equipment in selectors.equipment_list(kind=kind)]
    overdue = [pair for pair in rows if not pair[1].is_ok]
    return render(request, "instruments/equipment_list.html",
                  {"rows": rows, "kinds": EquipmentKind.choices, "kind": kind, "overdue_count": len(overdue)})


@lab_staff_required
def equipment_new(request: HttpRequest) -> HttpResponse:
    form = EquipmentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            equipment = equipment_create(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_show(error, form)
        else:
            messages.success(request, f"{equipment.name} added.")
            return redirect(equipment)
    return _form_page(request, form, title="New equipment", submit="Add equipment")


@lab_staff_required
def equipment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    equipment = _equipment_or_404(pk)
    context = {
        "equipment": equipment,
        "state": selectors.equipment_calibration_state(equipment),
        "calibrations": list(equipment.calibrations.all()),
        "channels": list(equipment.channels.all()),
    }
    if equipment.is_room:
        context.update(
            logs=selectors.room_logs(equipment),
            open_events=selectors.room_open_events(equipment),
            flags=selectors.room_flags(equipment),
            readings=selectors.room_readings_recent(equipment, hours=24)[:50],
        )
    return render(request, "instruments/equipment_detail.html", context)


@lab_staff_required
def calibration_new(request: HttpRequest, pk: int) -> HttpResponse:
    equipment = _equipment_or_404(pk)
    form = CalibrationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            calibration_add(equipment=equipment, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_show(error, form)
        else:
            messages.success(request, f"Calibration of {equipment.name} recorded.")
            return redirect(equipment)
    return _form_page(request, form, title=f"Calibration of {equipment.name}", submit="Record calibration",
                      back=equipment, multipart=True)


@lab_staff_required
def channel_new(request: HttpRequest, pk: int) -> HttpResponse:
    equipment = _equipment_or_404(pk)
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            channel_add(equipment=equipment, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_show(error, form)
        else:
            messages.success(request, f"Channel {form.cleaned_data['label']} added to {equipment.name}.")
            return redirect(equipment)
    return _form_page(request, form, title=f"New channel of {equipment.name}", submit="Add channel", back=equipment)


@lab_staff_required
def log_new(request: HttpRequest, pk: int) -> HttpResponse:
    room = _equipment_or_404(pk)
    form = SensorLogForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            log = environment_log_import(room=room, user=request.user, content=upload.read(), file_name=upload.name,
                                         timezone_name=form.cleaned_data["timezone_name"])
        except ValidationError as error:
            errors_show(error, form)
        else:
            messages.success(request, f"{log.readings_added} readings imported from {log.file_name}"
                             f"{f' ({log.readings_skipped} already on record)' if log.readings_skipped else ''}.")
            return redirect(room)
    return _form_page(request, form, title=f"Import a sensor log of {room.name}", submit="Import log", back=room,
                      multipart=True)


@lab_staff_required
def certificate(request: HttpRequest, pk: int) -> FileResponse:
    calibration = Calibration.objects.filter(pk=pk).exclude(certificate="").first()
    if calibration is None:
        raise Http404("No certificate.")
    name = calibration.certificate.name.rsplit("/", 1)[-1]
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type.startswith("text/html") or content_type == "image/svg+xml":
        content_type = "application/octet-stream"
    response = FileResponse(calibration.certificate.open("rb"), content_type=content_type, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@lab_staff_required
def storage(request: HttpRequest, code: str) -> HttpResponse:
    item = item_get_for_user(code, request.user)
    if item is None:
        raise Http404(f"No item {code} that you may see.")
    action = request.POST.get("action") if request.method == "POST" else None
    open_form = StorageOpenForm(request.POST if action == "open" else None, prefix="open")
    close_form = StorageCloseForm(request.POST if action == "close" else None, prefix="close")
    record_form = StorageRecordForm(request.POST if action == "record" else None, prefix="record")
    forms_by_action = {"open": open_form, "close": close_form, "record": record_form}
    form = forms_by_action.get(action)
    if form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            if action == "open":
                event = storage_open(item=item, room=data["room"], user=request.user, at=data["at"],
                                     notes=data["notes"])
                messages.success(request, f"{item.code} opened in {event.room.name}.")
            elif action == "close":
                event = storage_close(item=item, user=request.user, at=data["at"])
                messages.success(request, f"{item.code} closed (back in sealed storage).")
            else:
                event = storage_event_record(item=item, room=data["room"], user=request.user,
                                             opened_at=data["opened_at"], closed_at=data["closed_at"],
                                             notes=data["notes"])
                messages.success(request, f"Past opening of {item.code} in {event.room.name} recorded.")
        except ValidationError as error:
            errors_show(error, form)
        else:
            if event.flags.exists():
                messages.warning(request, f"{item.code} was open during a dew-point excursion: it is flagged.")
            return redirect(reverse("instruments:storage", args=[item.code]))
    current = StorageEvent.objects.filter(item=item, closed_at__isnull=True).select_related("room").first()
    context = {"item": item, "current": current, "open_form": open_form, "close_form": close_form,
               "record_form": record_form}
    return render(request, "instruments/storage.html", context, status=400 if form is not None and form.errors else 200)


@lab_staff_required
def qc(request: HttpRequest) -> HttpResponse:
    """The QC view of instruments: equipment out of calibration, records made with it, items exposed to excursions."""
    context = {
        "overdue": selectors.equipment_overdue(),
        "records": selectors.records_with_uncalibrated_equipment(limit=100),
        "flags": selectors.flags_recent(limit=100),
        "uses": selectors.equipment_uses(),
    }
    return render(request, "instruments/qc.html", context)
