"""The passport bundle of a cell or module: an RO-Crate zip with the passport, the files the apps' bundle parts
add (``assbtrack.tracing.registry.register_bundle_part``: the cycling time series in the Battery Data Format,
BDF, from ``cells/passport.py``) and the plots (of the cell; of the module and its cells).

Plots are the PNG and SVG files of the finished jobs of the item and, for a module, of its cells. The parts
read what they bundle from the passport document, so what a project keeps confidential from partners stays
out of their bundles too.

Small bundles are built inside the request; one whose cycler files add up to more than
``PASSPORT_BUNDLE_INLINE_BYTES`` (or any with ``?async=1``) is built by a ``passport_bundle`` job, whose zip
the requester downloads from the job.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from rocrate.rocrate import ROCrate

from assbtrack.domain.inputs import ModelInputError
from assbtrack.jobs.handlers import QUEUE_IMPORTS, JobContext, JobOutput, PermanentJobError, register_job_kind
from assbtrack.jobs.models import JobFile, JobStatus
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.registry import bundle_parts, passport_kinds
from assbtrack.tracing.selectors import item_get_for_user

from .passport import passport_build


def bundle_source_bytes(document: dict) -> int:
    """The size of the files the bundle parts would read (the cycler files): what decides between the request
    and a job."""
    return sum(part.source_bytes(document) for part in bundle_parts())


def _plot_subjects(item) -> list[int]:
    subjects = [item.pk]
    if item.kind == ItemKind.MODULE:
        subjects += list(item.edges_in.filter(parent__kind=ItemKind.CELL).values_list("parent_id", flat=True))
    return subjects


def passport_bundle_zip(item, document: dict, folder: Path) -> Path:
    """Write the crate of ``item`` (a cell or module; its passport ``document`` already built for the caller)
    into ``folder``."""
    content = folder / "content"
    content.mkdir()
    crate = ROCrate()
    crate.name = f"Passport of {item.code}"
    crate.description = "Battery passport, cycling data in the Battery Data Format and plots, from assbtrack."
    passport_path = content / "passport.json"
    passport_path.write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
    crate.add_file(passport_path, dest_path="passport.json",
                   properties={"name": "Battery passport", "encodingFormat": "application/json"})

    for part in bundle_parts():  # the cycling time series of the cells app, ...
        for bundle_file in part.write(document, content):
            crate.add_file(content / bundle_file.name, dest_path=bundle_file.name, properties={
                "name": bundle_file.name, "description": bundle_file.description,
                "encodingFormat": bundle_file.encoding_format})

    plots = (JobFile.objects.filter(job__subject_id__in=_plot_subjects(item), job__status=JobStatus.SUCCEEDED)
             .order_by("job_id", "name"))
    for job_file in plots:
        if not job_file.is_image:
            continue
        name = f"plots/job-{job_file.job_id}-{job_file.name}"
        target = content / name
        target.parent.mkdir(exist_ok=True)
        try:
            with job_file.file.open("rb") as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink)
        except (FileNotFoundError, OSError):
            continue
        fmt = "image/png" if name.lower().endswith(".png") else "image/svg+xml"
        crate.add_file(target, dest_path=name, properties={"name": job_file.name, "encodingFormat": fmt})

    zip_path = folder / f"{item.code}-passport.zip"
    crate.write_zip(zip_path)
    return zip_path


def new_bundle_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="assbtrack-passport-"))


# ------------------------------------------------------------------------------------ as a job (large ones)

BUNDLE_JOB = "passport_bundle"


def _validate_bundle(inputs: Mapping[str, Any]) -> dict[str, Any]:
    code = inputs.get("code")
    if not isinstance(code, str) or not code.strip() or len(code) > 40:
        raise ModelInputError("code", "must be the code of a cell or module")
    unknown = sorted(set(inputs) - {"code", "requested_at"})
    if unknown:  # the person is who asked for the job, never an input (no "user_id")
        raise ModelInputError(unknown[0], "is not a known input key")
    return {"code": code.strip().upper(), "requested_at": str(inputs.get("requested_at", ""))}


def run_passport_bundle(context: JobContext) -> JobOutput:
    """Build the bundle as the person who asked (their scope, their confidential fields) into a file of the job."""
    inputs = context.inputs
    user = get_user_model().objects.filter(pk=context.requested_by_id, is_active=True).first()
    if user is None:
        raise PermanentJobError("the account that asked for this bundle no longer exists or is inactive")
    item = item_get_for_user(inputs["code"], user)
    if item is None or item.kind not in passport_kinds():
        raise PermanentJobError(f"no cell or module {inputs['code']} that the account may read")
    context.progress(10, "building the passport")
    document = passport_build(item, user=user)
    context.progress(30, "writing the cycling data and plots")
    folder = new_bundle_folder()
    try:
        zip_path = passport_bundle_zip(item, document, folder)
        handle = tempfile.NamedTemporaryFile(prefix="assbtrack-bundle-", suffix=".zip", delete=False)
        handle.close()
        shutil.move(zip_path, handle.name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    context.progress(95, "bundle written")
    return JobOutput(result={"item": item.code, "file": zip_path.name, "bytes": Path(handle.name).stat().st_size},
                     file_paths={zip_path.name: Path(handle.name)})


register_job_kind(BUNDLE_JOB, queue=QUEUE_IMPORTS, title="Passport bundle (RO-Crate)", run=run_passport_bundle,
                  validate=_validate_bundle, per_requester=True)
