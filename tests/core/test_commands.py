"""The operator's commands: run_model (in-process and as a real process), check --deploy, demo_data."""

from __future__ import annotations

import json
import math
import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command

from assbtrack.access.models import Organisation, Project, ProjectGrant
from assbtrack.access.selectors import projects_visible_to, user_is_lab_staff
from assbtrack.tracing.demo import DEMO_ADMIN, DEMO_PROJECT, DEMO_USERS
from assbtrack.tracing.models import LineageEdge, StatusEvent, TracedItem

ROOT = Path(__file__).resolve().parents[2]
INPUTS = {"thickness_mm": 1.0, "diameter_mm": 10, "resistance_ohm": 40}
# Settings the commands read from the environment; the tests give each process exactly the ones it needs.
OPERATOR_VARIABLES = ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "SECURE_SSL_REDIRECT",
                      "SECURE_HSTS_SECONDS", "CSRF_TRUSTED_ORIGINS", "DJANGO_SETTINGS_MODULE",
                      "DJANGO_ALLOW_ASYNC_UNSAFE")


def expected_conductivity_ms_per_cm() -> float:
    length_cm = INPUTS["thickness_mm"] / 10
    area_cm2 = math.pi * (INPUTS["diameter_mm"] / 10) ** 2 / 4
    return length_cm / (INPUTS["resistance_ohm"] * area_cm2) * 1000


def manage(*args: str, stdin: str | None = None, **env: str) -> subprocess.Popen:
    environment = {key: value for key, value in os.environ.items() if key not in OPERATOR_VARIABLES}
    environment.update(env)
    return subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def finish(process: subprocess.Popen, stdin: str = "") -> tuple[int, str, str]:
    out, err = process.communicate(stdin, timeout=60)
    return process.returncode, out, err


def test_run_model_prints_the_result_as_json(tmp_path):
    path = tmp_path / "pellet.json"
    path.write_text(json.dumps(INPUTS))
    out = StringIO()
    call_command("run_model", "conductivity", "--input", str(path), stdout=out)
    result = json.loads(out.getvalue())
    assert result["conductivity_ms_per_cm"] == pytest.approx(expected_conductivity_ms_per_cm(), rel=1e-9)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ({**INPUTS, "resistance_ohm": -1}, "resistance_ohm: must be greater than 0"),
        ({**INPUTS, "colour": "yellow"}, "colour: is not a known input key"),
        ("{not json", "--input: not valid JSON"),
        (None, "--input: cannot read"),
    ],
)
def test_run_model_refuses_bad_input_with_exit_code_2(tmp_path, content, fragment):
    path = tmp_path / "pellet.json"
    if content is not None:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(CommandError) as caught:
        call_command("run_model", "conductivity", "--input", str(path), stdout=StringIO())
    assert caught.value.returncode == 2
    assert fragment in str(caught.value)


def test_run_model_as_a_real_process():
    """The exit codes and streams an operator's script sees (the other refusals are checked in-process above)."""
    settings = {"DJANGO_SETTINGS_MODULE": "assbtrack.settings.test"}
    cases = {
        "ok": ("-", json.dumps(INPUTS), 0, None),
        "negative": ("-", json.dumps({**INPUTS, "resistance_ohm": -1}), 2, "resistance_ohm: must be greater than 0"),
    }
    running = {
        name: manage("run_model", "conductivity", "--input", source, **settings) for name, (source, *_) in cases.items()
    }
    for name, (_, stdin, expected_code, field) in cases.items():
        code, out, err = finish(running[name], stdin)
        assert code == expected_code, (name, err)
        if field is None:
            assert json.loads(out)["conductivity_ms_per_cm"] == pytest.approx(expected_conductivity_ms_per_cm())
        else:
            assert field in err and out == "", (name, err)


def test_production_settings_pass_check_deploy_and_refuse_to_start_without_a_secret_key():
    production = {"DJANGO_SETTINGS_MODULE": "assbtrack.settings.production", "ALLOWED_HOSTS": "assbtrack.example.org",
                  "DEBUG": "0"}
    secret = secrets.token_urlsafe(45)
    assert len(secret) == 60
    checked = manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=secret, **production)
    no_secret = manage("check", "--deploy", **production)

    code, out, err = finish(checked)
    assert code == 0, err
    assert "no issues" in out
    code, out, err = finish(no_secret)
    assert code != 0
    assert "SECRET_KEY" in err


@pytest.mark.django_db
def test_demo_data_is_idempotent_and_prints_the_demo_users():
    tables = (User, Group, Project, Organisation, ProjectGrant, TracedItem, LineageEdge, StatusEvent)

    def counts() -> dict[str, int]:
        return {model.__name__: model.objects.count() for model in tables}

    first_out, second_out = StringIO(), StringIO()
    call_command("demo_data", stdout=first_out)
    after_first = counts()
    call_command("demo_data", stdout=second_out)
    assert counts() == after_first
    assert after_first["User"] >= len(DEMO_USERS) + 1

    for out in (first_out.getvalue(), second_out.getvalue()):
        admin_name, admin_password = DEMO_ADMIN
        assert f"{admin_name} / {admin_password}" in out
        for username, password, role, _ in DEMO_USERS:
            assert f"{username} / {password}  ({role}" in out

    for username, password, role, _ in DEMO_USERS:
        user = User.objects.get(username=username)
        assert user.check_password(password)
        assert list(user.groups.values_list("name", flat=True)) == [role]
    partner = User.objects.get(username="partner")
    assert not user_is_lab_staff(partner)
    assert list(projects_visible_to(partner).values_list("code", flat=True)) == [DEMO_PROJECT]
    assert DEMO_PROJECT not in projects_visible_to(User.objects.get(username="outsider")).values_list("code", flat=True)
    assert User.objects.get(username=DEMO_ADMIN[0]).is_superuser
