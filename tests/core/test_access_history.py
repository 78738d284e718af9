"""What decides what partners see — memberships, project grants and roles — keeps a history, shown in the
admin: who was added, granted or given a role, and who lost it, when and by whom."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.test import Client

from assbtrack.access.models import Membership, ProjectGrant
from assbtrack.access.roles import PARTNER, SCIENTIST
from assbtrack.access.services import organisation_create, project_grant, user_create


def admin_client() -> tuple[Client, User]:
    root = User.objects.create_superuser("history-admin", "admin@example.org", "admin-pw-123")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(root)
    return client, root


def test_a_membership_and_its_removal_are_kept(db):
    organisation = organisation_create(name="Cell Partner GmbH")
    partner = user_create(username="p-history", password="pw-12345-abc", role=PARTNER, organisation=organisation)
    membership = Membership.objects.get(user=partner)
    membership_id = membership.pk
    membership.delete()
    records = list(Membership.history.filter(id=membership_id).order_by("history_date", "history_id"))
    assert [record.history_type for record in records] == ["+", "-"]
    assert {(record.user_id, record.organisation_id) for record in records} == {(partner.pk, organisation.pk)}


def test_a_grant_and_its_revocation_are_kept(db, project):
    organisation = organisation_create(name="National Lab")
    project_grant(organisation=organisation, project=project).delete()  # as the admin revokes a grant
    records = ProjectGrant.history.filter(organisation_id=organisation.pk, project_id=project.pk)
    assert sorted(record.history_type for record in records) == ["+", "-"]


def test_a_change_of_role_is_kept(db):
    user = user_create(username="t-history", password="pw-12345-abc", role=PARTNER,
                       organisation=organisation_create(name="Org"))
    scientist_group = Group.objects.get_or_create(name=SCIENTIST)[0]
    user.groups.add(scientist_group)
    latest = user.history.order_by("-history_date", "-history_id").first()
    assert sorted(latest.groups.values_list("group__name", flat=True)) == [PARTNER, SCIENTIST]
    assert not hasattr(latest, "password")  # no password hash in the history


def test_the_admin_shows_who_added_a_membership(db):
    client, root = admin_client()
    organisation = organisation_create(name="Pilot Line Ltd")
    partner = user_create(username="p-admin", password="pw-12345-abc", role=PARTNER,
                          organisation=organisation_create(name="Elsewhere"))
    answer = client.post("/admin/access/membership/add/", {"user": partner.pk, "organisation": organisation.pk})
    assert answer.status_code == 302, answer.content[:500]
    membership = Membership.objects.get(user=partner, organisation=organisation)
    assert membership.history.get().history_user == root
    page = client.get(f"/admin/access/membership/{membership.pk}/history/")
    assert page.status_code == 200 and "history-admin" in page.content.decode()
    grants = client.get("/admin/access/projectgrant/")
    assert grants.status_code == 200
    user_history = client.get(f"/admin/auth/user/{partner.pk}/history/")
    assert user_history.status_code == 200
