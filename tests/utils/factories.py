"""Test data built the way users build it: through the services, never by writing rows directly."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal

import factory
from django.apps.registry import Apps
from django.contrib.auth.models import User
from django.db import models

from assbtrack.access.models import Organisation, Project
from assbtrack.access.roles import PARTNER, SCIENTIST, TECHNICIAN
from assbtrack.access.services import organisation_create, project_create, project_grant, user_create
from assbtrack.tracing.choices import ItemKind, LineageRole
from assbtrack.tracing.models import LineageEdge, TracedItem
from assbtrack.tracing.registry import kind_info
from assbtrack.tracing.services import edge_create, item_create

_numbers = itertools.count(1)
PASSWORD = "correct-horse-battery"  # every factory-made user's password (status changes are signed with it)


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
    password = PASSWORD
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


def use_across_projects(
    parent: TracedItem, child: TracedItem, *, user: User, amount=None, unit: str = "", role: str = LineageRole.OTHER
) -> LineageEdge:
    """A use of an item of one project in an item of another, as a database kept from before lineage stayed
    inside one project still holds: ``edge_create`` refuses such an edge now, and no migration removes the old
    ones, so the views must still show partners nothing of the other project (its items are ``withheld``).

    No service writes one any more, so this writes the edge row (and the parent's stock) itself.
    """
    if parent.project_id == child.project_id:
        raise ValueError(f"{parent.code} and {child.code} are of one project: use ``use``")
    stock = Decimal(str(amount)) if amount is not None else None
    if stock is not None and unit and unit != parent.unit:
        raise ValueError(f"give the amount in {parent.unit}, the parent's unit")
    edge = LineageEdge.objects.create(parent=parent, child=child, role=role, amount=stock,
                                      unit=parent.unit if stock is not None else "", created_by=user)
    if stock is not None:
        TracedItem.objects.filter(pk=parent.pk).update(quantity_used=models.F("quantity_used") + stock)
    return edge


def user_without_role(**kwargs) -> User:
    """An account in no group (no service makes one on purpose): it may log in and must see nothing."""
    number = next(_numbers)
    return User.objects.create_user(
        username=kwargs.pop("username", f"norole{number}"), password=kwargs.pop("password", PASSWORD),
        **kwargs,
    )


# A stand-in detail table for lineage_hydrate while the domain apps have none: an unmanaged model over
# the items table itself, in a registry of its own (no migration, no permission, invisible to Django).
_stand_in_apps = Apps()


class _StandInItem(models.Model):
    code = models.CharField(max_length=20)

    class Meta:
        apps = _stand_in_apps
        app_label = "stand_in"
        managed = False
        db_table = TracedItem._meta.db_table

    def __str__(self) -> str:
        return self.code


class StandInRecord(models.Model):
    item = models.OneToOneField(
        _StandInItem, on_delete=models.DO_NOTHING, primary_key=True, db_column="id", related_name="+"
    )

    class Meta:
        apps = _stand_in_apps
        app_label = "stand_in"
        managed = False
        db_table = TracedItem._meta.db_table

    def __str__(self) -> str:
        return f"record of {self.item}"


@contextmanager
def stand_in_detail_tables(*kinds: str) -> Iterator[type[models.Model]]:
    """Register ``StandInRecord`` as the detail table of ``kinds``; the registry is restored afterwards."""
    saved = {kind: replace(kind_info(kind)) for kind in kinds}
    try:
        for kind in kinds:
            info = kind_info(kind)
            info.model, info.select_related, info.prefetch_related = StandInRecord, (), ()
        yield StandInRecord
    finally:
        for kind, before in saved.items():
            info = kind_info(kind)
            info.model, info.select_related = before.model, before.select_related
            info.prefetch_related, info.detail_template = before.prefetch_related, before.detail_template


@contextmanager
def release_checks_set_aside(*kinds: str) -> Iterator[None]:
    """No QC check of the domain apps holds a release back (of ``kinds``, or of every kind) until the block ends.

    For tests of the core's own status rules on bare items, which have no domain record to pass a QC check.
    """
    infos = [kind_info(kind) for kind in (kinds or ItemKind.values)]
    saved = [info.release_checks for info in infos]
    try:
        for info in infos:
            info.release_checks = []
        yield
    finally:
        for info, checks in zip(infos, saved, strict=True):
            info.release_checks = checks
