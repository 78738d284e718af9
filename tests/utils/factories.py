"""Test data built the way users build it: through the services, never by writing rows directly."""

from __future__ import annotations

import itertools
from decimal import Decimal

import factory
from django.contrib.auth.models import User

from assbtrack.access.models import Organisation, Project
from assbtrack.access.roles import PARTNER, SCIENTIST, TECHNICIAN
from assbtrack.access.services import organisation_create, project_create, project_grant, user_create
from assbtrack.tracing.choices import ItemKind, LineageRole
from assbtrack.tracing.models import LineageEdge, TracedItem
from assbtrack.tracing.services import edge_create, item_create

_numbers = itertools.count(1)


class ProjectFactory(factory.Factory):
    class Meta:
        model = Project

    code = factory.Sequence(lambda n: f"project-{n}")
    name = factory.Sequence(lambda n: f"Project {n}")

    @classmethod
    def _create(cls, model_class, **kwargs):
        return project_create(**kwargs)


class OrganisationFactory(factory.Factory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Partner organisation {n}")

    @classmethod
    def _create(cls, model_class, **kwargs):
        return organisation_create(**kwargs)


class UserFactory(factory.Factory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    password = "correct-horse-battery"
    role = TECHNICIAN
    organisation = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        if kwargs["role"] == PARTNER and kwargs.get("organisation") is None:
            kwargs["organisation"] = OrganisationFactory()
        return user_create(**kwargs)


def technician(**kwargs) -> User:
    return UserFactory(role=TECHNICIAN, **kwargs)


def scientist(**kwargs) -> User:
    return UserFactory(role=SCIENTIST, **kwargs)


def partner_for(*projects: Project, organisation: Organisation | None = None) -> User:
    """A partner whose organisation is granted exactly ``projects``."""
    user = UserFactory(role=PARTNER, organisation=organisation or OrganisationFactory())
    for project in projects:
        project_grant(organisation=user.organisations.get(), project=project)
    return user


def traced_item(
    *,
    project: Project,
    user: User,
    kind: str = ItemKind.MATERIAL_LOT,
    quantity: Decimal | str | float | None = "100",
    unit: str = "g",
) -> TracedItem:
    return item_create(kind=kind, project=project, user=user, quantity=quantity, unit=unit if quantity else "")


def use(
    parent: TracedItem, child: TracedItem, *, user: User, amount=None, unit: str = "", role: str = LineageRole.OTHER
) -> LineageEdge:
    return edge_create(parent=parent, child=child, role=role, user=user, amount=amount, unit=unit)
