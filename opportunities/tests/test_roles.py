"""Roles are groups; what a login sees follows from its role."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group

from opportunities.models import CrmUser, Opportunity
from opportunities.roles import Role, role_of
from opportunities.tests.factories import CrmUserFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_four_role_groups_exist_with_their_permissions() -> None:
    groups = {group.name: group for group in Group.objects.prefetch_related("permissions")}
    assert {"Admin", "Manager", "Rep", "Viewer"} <= set(groups)

    def codenames(name: str) -> set[str]:
        return {perm.codename for perm in groups[name].permissions.all()}

    assert "change_opportunity" not in codenames("Viewer")
    assert "view_opportunity" in codenames("Viewer")
    assert "change_opportunity" in codenames("Rep")
    assert "change_stagemapping" not in codenames("Manager")
    assert {"change_stagemapping", "add_user", "change_group"} <= codenames("Admin")


def test_role_of() -> None:
    assert role_of(AnonymousUser()) is None
    assert role_of(UserFactory.create()) is None
    assert role_of(UserFactory.create(is_superuser=True)) is Role.ADMIN
    assert role_of(UserFactory.create(role=Role.VIEWER)) is Role.VIEWER
    both = UserFactory.create(role=Role.REP)
    both.groups.add(Group.objects.get(name="Manager"))
    assert role_of(both) is Role.MANAGER


def test_rep_sees_only_deals_owned_by_their_email_case_insensitively() -> None:
    rep = UserFactory.create(role=Role.REP, email="Ana.Tan@Example.com")
    own = OpportunityFactory.create(owner=CrmUserFactory.create(email="ana.tan@example.com"))
    OpportunityFactory.create()
    assert list(Opportunity.objects.visible_to(rep)) == [own]
    assert CrmUser.objects.for_login(rep) == own.owner


def test_rep_without_email_sees_nothing() -> None:
    OpportunityFactory.create(owner=CrmUserFactory.create(email=""))
    assert not Opportunity.objects.visible_to(UserFactory.create(role=Role.REP, email="")).exists()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.VIEWER])
def test_other_roles_see_every_live_deal(role: Role) -> None:
    live = OpportunityFactory.create_batch(2)
    OpportunityFactory.create(is_deleted=True)
    assert set(Opportunity.objects.visible_to(UserFactory.create(role=role))) == set(live)


def test_login_without_role_sees_nothing() -> None:
    OpportunityFactory.create()
    assert not Opportunity.objects.visible_to(UserFactory.create()).exists()
    assert not Opportunity.objects.visible_to(AnonymousUser()).exists()


def test_roles_can_read_the_health_history() -> None:
    def codenames(name: str) -> set[str]:
        return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))

    history = {"view_changeevent", "view_pipelinesnapshot", "view_healththresholds"}
    assert history <= codenames("Manager")
    assert history <= codenames("Viewer")
    assert "view_changeevent" in codenames("Rep")
    assert "add_healththresholds" not in codenames("Manager")
    assert {"add_healththresholds", "view_changeevent"} <= codenames("Admin")
