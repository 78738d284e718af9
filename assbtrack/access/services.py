"""Writes for projects, organisations, users and tokens. Views, admin, commands and tests call these."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Iterator
from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import ApiToken, ExportLog, Membership, Organisation, Project, ProjectGrant
from .roles import PARTNER, ROLE_PERMISSIONS, SCIENTIST

TOKEN_MAX_LIFETIME_DAYS = 365


@transaction.atomic
def project_create(*, code: str, name: str, description: str = "") -> Project:
    project = Project(code=code, name=name, description=description)
    project.full_clean()
    project.save()
    return project


@transaction.atomic
def organisation_create(*, name: str) -> Organisation:
    organisation = Organisation(name=name)
    organisation.full_clean()
    organisation.save()
    return organisation


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    organisation: Organisation | None = None,
) -> User:
    """A user in one role; a partner must belong to an organisation, lab staff must not need one."""
    if role not in ROLE_PERMISSIONS:
        raise ValidationError({"role": f"unknown role {role!r}; use one of {', '.join(ROLE_PERMISSIONS)}"})
    if role == PARTNER and organisation is None:
        raise ValidationError({"organisation": "a partner must belong to an organisation"})
    # Scientists work in the admin; technicians and partners use the pages and the API.
    user = User(
        username=username, email=email, first_name=first_name, last_name=last_name, is_staff=role == SCIENTIST
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    if organisation is not None:
        Membership.objects.create(organisation=organisation, user=user)
    return user


@transaction.atomic
def project_grant(*, organisation: Organisation, project: Project, granted_by: User | None = None) -> ProjectGrant:
    grant, _ = ProjectGrant.objects.get_or_create(
        organisation=organisation, project=project, defaults={"granted_by": granted_by}
    )
    return grant


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str, lifetime_days: int = 90) -> tuple[ApiToken, str]:
    """A new token and its key; the key is not stored and cannot be shown again."""
    if not 1 <= lifetime_days <= TOKEN_MAX_LIFETIME_DAYS:
        raise ValidationError({"lifetime_days": f"must be between 1 and {TOKEN_MAX_LIFETIME_DAYS} days"})
    if not name.strip():
        raise ValidationError({"name": "give the token a name, so that you can tell your tokens apart"})
    key = f"asb_{secrets.token_urlsafe(32)}"
    now = timezone.now()
    token = ApiToken(
        user=user,
        name=name.strip(),
        prefix=key[:12],
        key_sha256=token_hash(key),
        created_at=now,
        expires_at=now + timedelta(days=lifetime_days),
    )
    token.full_clean(exclude=["created_at"])
    token.save()
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, user: User) -> ApiToken:
    if token.user_id != user.pk and not user.is_superuser:
        raise ValidationError({"token": "only its owner or an administrator can revoke a token"})
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# ------------------------------------------------------------------------------------------ export log


def export_log_start(*, user: User, endpoint: str, query: str = "", export_format: str) -> ExportLog:
    """The log row of an export that begins now: who pulls what, with which filter, in which format."""
    return ExportLog.objects.create(
        user=user, endpoint=endpoint[:200], query=query[:2000], export_format=export_format, started_at=timezone.now()
    )


def export_log_finish(*, log: ExportLog, rows: int, completed: bool) -> ExportLog:
    """How far the export got: its row count, when it ended, and whether it reached the last row."""
    log.rows, log.finished_at, log.completed = rows, timezone.now(), completed
    ExportLog.objects.filter(pk=log.pk).update(rows=log.rows, finished_at=log.finished_at, completed=completed)
    return log


def export_logged(chunks: Iterable[tuple[str, int]], *, log: ExportLog) -> Iterator[str]:
    """The text of each ``(text, rows)`` chunk of an export, and its log finished when the stream ends.

    Also when the client hangs up half-way (the generator is closed): the log says how many rows were sent.
    """
    count = 0
    completed = False
    try:
        for text, rows in chunks:
            yield text
            count += rows
        completed = True
    finally:
        export_log_finish(log=log, rows=count, completed=completed)
