"""Projects, partner organisations, the grants between them, and personal API tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class Project(models.Model):
    code = models.SlugField("code", max_length=40, unique=True)
    name = models.CharField("name", max_length=200)
    description = models.TextField("description", blank=True)
    created_at = models.DateTimeField("created at", auto_now_add=True)
    confidential_fields = models.JSONField(
        "confidential passport fields", default=list, blank=True,
        help_text="Passport keys (e.g. materialComposition.components, processParameters) left out for partners.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class Organisation(models.Model):
    """A partner (company or national lab) whose members read the projects granted to it."""

    name = models.CharField("name", max_length=200, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="organisations")
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A partner user's organisation: with the grants, what decides what they see; so it has a history."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation}"


class ProjectGrant(models.Model):
    """Read access of one organisation to one project: the only way partner data is shared."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="grants")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="grants")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    granted_at = models.DateTimeField("granted at", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "project"], name="grant_unique")]

    def __str__(self) -> str:
        return f"{self.organisation} reads {self.project.code}"


class ApiToken(models.Model):
    """A personal API token. Only a hash of the key is stored; the key is shown once, at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("name", max_length=100)
    prefix = models.CharField("key prefix", max_length=12, db_index=True)
    key_sha256 = models.CharField("key hash (SHA-256)", max_length=64, unique=True)
    created_at = models.DateTimeField("created at", auto_now_add=True)
    expires_at = models.DateTimeField("expires at")
    revoked_at = models.DateTimeField("revoked at", null=True, blank=True)
    last_used_at = models.DateTimeField("last used at", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="token_expires_after_creation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ExportLog(models.Model):
    """Every bulk export: who pulled what, with which filter, how many rows, how long it took."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exports")
    endpoint = models.CharField("endpoint", max_length=200)
    query = models.CharField("filter (query string)", max_length=2000, blank=True)
    export_format = models.CharField("format", max_length=10)
    rows = models.PositiveBigIntegerField("rows", default=0)
    started_at = models.DateTimeField("started at")
    finished_at = models.DateTimeField("finished at", null=True, blank=True)
    completed = models.BooleanField("completed", default=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["user", "-started_at"], name="exportlog_user_started")]

    def __str__(self) -> str:
        return f"{self.user} exported {self.rows} rows of {self.endpoint}"

    @property
    def duration_s(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


def _user_history_register() -> None:
    """Roles are the user's groups: their history (who was given or lost which role, when, by whom) is kept
    beside the user's, in this app. Password hashes and log-in times are not copied into it."""
    from django.contrib.auth import get_user_model
    from simple_history import register

    user_model = get_user_model()
    if not hasattr(user_model, "history"):
        register(user_model, app="assbtrack.access", m2m_fields=[user_model.groups.field],
                 excluded_fields=["password", "last_login"], table_name="access_historicaluser")


_user_history_register()
