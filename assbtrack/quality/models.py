"""Control charts of QC series and the records their rules flag.

A series is identified by a key built by the app that owns the numbers (``materials.conductivity:<project>:
<composition>:<route>``); its row holds the scientist's baseline and which chart job set the flags. Flags
are written only by ``control_flags_replace``, from a finished chart: one row per record and rule.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from assbtrack.access.models import Project
from assbtrack.jobs.models import Job
from assbtrack.tracing.models import TracedItem

DEFAULT_BASELINE_COUNT = 20
MIN_BASELINE_COUNT = 8


class ControlRule(models.TextChoices):
    WE1 = "we1", "WE1: one point beyond 3σ"
    WE2 = "we2", "WE2: two of three beyond 2σ, one side"
    WE3 = "we3", "WE3: four of five beyond 1σ, one side"
    WE4 = "we4", "WE4: eight in a row on one side"


class ControlSeries(models.Model):
    key = models.CharField("series key", max_length=250, unique=True)
    title = models.CharField("title", max_length=250)
    unit = models.CharField("unit", max_length=30, blank=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="control_series")
    baseline_count = models.PositiveSmallIntegerField(
        "baseline (first records)", null=True, blank=True,
        help_text=f"How many of the first records set the limits; empty: the first {DEFAULT_BASELINE_COUNT}.",
    )
    baseline_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    chart_job = models.ForeignKey(
        Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The chart whose rules set the current flags.",
    )
    center = models.FloatField("centre line", null=True, blank=True)
    sigma = models.FloatField("σ (moving range / 1.128)", null=True, blank=True)
    points = models.PositiveIntegerField("records charted", default=0)
    updated_at = models.DateTimeField("updated at", auto_now=True)

    class Meta:
        verbose_name = "control series"
        verbose_name_plural = "control series"
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(baseline_count__isnull=True) | Q(baseline_count__gte=MIN_BASELINE_COUNT),
                name="control_series_baseline_ge_8",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def effective_baseline_count(self) -> int:
        return self.baseline_count or DEFAULT_BASELINE_COUNT


class ControlFlag(models.Model):
    """A record a Western Electric rule flags on its series' latest chart."""

    series = models.ForeignKey(ControlSeries, on_delete=models.CASCADE, related_name="flags")
    item = models.ForeignKey(TracedItem, on_delete=models.CASCADE, related_name="control_flags")
    rule = models.CharField("rule", max_length=3, choices=ControlRule.choices)
    value = models.FloatField("value")
    z = models.FloatField("z (σ from the centre)")
    position = models.PositiveIntegerField("position in the series")
    measured_at = models.DateTimeField("measured at")
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    flagged_at = models.DateTimeField("flagged at", auto_now_add=True)

    class Meta:
        verbose_name = "out-of-control flag"
        ordering = ["-measured_at", "rule"]
        constraints = [
            models.UniqueConstraint(fields=["series", "item", "position", "rule"], name="control_flag_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.rule} on {self.series_id}"

    @property
    def rule_text(self) -> str:
        return self.get_rule_display()


class PlannedExperiment(models.Model):
    """A proposal of a design-space model made into a planned record: the suggested parameters, what the model
    expected, and the model run that proposed it (kept: the plan says where it came from)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="planned_experiments")
    step = models.CharField("step", max_length=40)
    outcome = models.CharField("outcome", max_length=60)
    parameters = models.JSONField("suggested parameters")
    expected_mean = models.FloatField("expected outcome (model mean)")
    expected_std = models.FloatField("model uncertainty (standard deviation)")
    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="planned_experiments",
                            verbose_name="model run that proposed it")
    suggestion_index = models.PositiveSmallIntegerField("proposal number (0 = best)")
    # the app's own record made from the proposal (a housing design, ...), where the step makes one
    record_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name="planned record (kind)")
    record_id = models.PositiveBigIntegerField("planned record (id)", null=True, blank=True)
    record = GenericForeignKey("record_type", "record_id")
    # kept when linked, so that lists of plans name and link their records without a query per plan
    record_label = models.CharField("planned record", max_length=200, blank=True)
    record_url = models.CharField("planned record (page)", max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("planned at", auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "suggestion_index"], name="planned_experiment_once_per_proposal"),
            models.CheckConstraint(condition=Q(expected_std__gte=0), name="planned_experiment_std_ge_0"),
            models.CheckConstraint(condition=Q(record_type__isnull=True, record_id__isnull=True)
                                   | Q(record_type__isnull=False, record_id__isnull=False),
                                   name="planned_experiment_record_whole"),
        ]

    def __str__(self) -> str:
        return f"planned {self.step} #{self.pk}"

    def link_record(self, record) -> None:
        """Point at ``record`` (a model instance with a page): what the writers of plans call before saving."""
        self.record = record
        self.record_label = str(record)[:200]
        item = getattr(record, "item", None)
        page = record.get_absolute_url() if hasattr(record, "get_absolute_url") else item.get_absolute_url()
        self.record_url = page[:300]
