"""Demo data: a project, one user per role, and the chain of items as far as the apps build it.

Each domain app may have a ``demo.py`` with ``load(context)``; they run in the order of the chain
and hand items on through ``context.items``. Everything goes through the services.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction

from assbtrack.access.models import Organisation, Project
from assbtrack.access.roles import PARTNER, SCIENTIST, TECHNICIAN
from assbtrack.access.services import organisation_create, project_create, project_grant, user_create

DEMO_PROJECT = "pilot-line"
DEMO_USERS = (
    # username, password, role, organisation
    ("technician", "demo-technician-pw", TECHNICIAN, None),
    ("scientist", "demo-scientist-pw", SCIENTIST, None),
    ("partner", "demo-partner-pw", PARTNER, "Helios Cells GmbH"),
    ("outsider", "demo-outsider-pw", PARTNER, "Other Partner Lab"),
)
DEMO_ADMIN = ("admin", "demo-admin-pw")
CHAIN_APPS = ("materials", "electrodes", "cells", "modules", "assbtrack.instruments")
# Demos that read what the whole chain recorded (process learning), loaded after it.
LATE_DEMOS = ("modules.learning_demo",)


@dataclass
class DemoContext:
    project: Project
    other_project: Project
    users: dict[str, User]
    items: dict[str, object] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)


@transaction.atomic
def demo_load() -> DemoContext:
    project = Project.objects.filter(code=DEMO_PROJECT).first()
    fresh = project is None
    if fresh:
        project = project_create(
            code=DEMO_PROJECT, name="Sulfide ASSB pilot line",
            description="Li6PS5Cl separators and dry-process NCM811 cathodes, from pellets to pouch cells and modules.",
        )
    other = Project.objects.filter(code="halide-screening").first() or project_create(
        code="halide-screening", name="Halide SSE screening", description="Li2ZrCl6 and Li3InCl6 synthesis routes."
    )
    users: dict[str, User] = {}
    organisations: dict[str, Organisation] = {}
    for username, password, role, organisation_name in DEMO_USERS:
        organisation = None
        if organisation_name:
            organisation = organisations.get(organisation_name) or Organisation.objects.filter(
                name=organisation_name
            ).first() or organisation_create(name=organisation_name)
            organisations[organisation_name] = organisation
        users[username] = User.objects.filter(username=username).first() or user_create(
            username=username, password=password, role=role, organisation=organisation
        )
    project_grant(organisation=organisations["Helios Cells GmbH"], project=project)
    admin_name, admin_password = DEMO_ADMIN
    users[admin_name] = User.objects.filter(username=admin_name).first() or User.objects.create_superuser(
        admin_name, "admin@example.org", admin_password
    )
    context = DemoContext(project=project, other_project=other, users=users)
    if fresh:
        for app in CHAIN_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as error:
                if error.name != f"{app}.demo":
                    raise
                continue
            module.load(context)
        for name in LATE_DEMOS:
            importlib.import_module(name).load(context)
    return context
