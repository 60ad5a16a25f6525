"""Which login a Zoho identity signs in as: matched by verified e-mail, or created by domain."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client

from opportunities.models import SignUpDomain, SignUpRole
from opportunities.roles import Role, role_of
from opportunities.services import SignInRefused, login_for_zoho_identity, sign_up_domain_save
from opportunities.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _sign_in(email: str, *, verified: bool = True) -> User:
    user = login_for_zoho_identity(
        email=email, email_verified=verified, first_name="Aisha", last_name="Rahman"
    )
    assert isinstance(user, User)
    return user


def test_an_existing_login_is_matched_by_email_whatever_the_letter_case() -> None:
    rep = UserFactory.create(username="aisha", email="Aisha.Rahman@Example.com", role=Role.REP)

    assert _sign_in("aisha.rahman@example.COM") == rep
    assert User.objects.count() == 1


def test_an_unknown_person_gets_no_login() -> None:
    UserFactory.create(username="someone", email="someone@example.com", role=Role.REP)

    with pytest.raises(SignInRefused, match="No Pipeline Pulse login has the e-mail address"):
        _sign_in("stranger@example.com")
    assert not User.objects.filter(email__iexact="stranger@example.com").exists()


def test_an_unverified_address_is_refused_even_when_a_login_has_it() -> None:
    UserFactory.create(username="aisha", email="aisha@example.com", role=Role.MANAGER)

    with pytest.raises(SignInRefused, match="Zoho has not verified the e-mail address"):
        _sign_in("aisha@example.com", verified=False)


def test_an_allowed_domain_creates_a_rep_login_without_a_password() -> None:
    admin = UserFactory.create(username="boss", role=Role.ADMIN)
    sign_up_domain_save(entry=SignUpDomain(domain=" Example.COM "), user=admin)

    user = _sign_in("Aisha.Rahman@EXAMPLE.com")

    assert user.username == "aisha.rahman"
    assert user.email == "Aisha.Rahman@example.com"
    assert user.get_full_name() == "Aisha Rahman"
    assert not user.has_usable_password()
    assert not user.is_staff
    assert role_of(user) is Role.REP
    # Signing in again finds the same login.
    assert _sign_in("aisha.rahman@example.com") == user


def test_the_domain_entry_decides_the_role_and_subdomains_are_separate() -> None:
    admin = UserFactory.create(username="boss", role=Role.ADMIN)
    sign_up_domain_save(
        entry=SignUpDomain(domain="example.com", role=SignUpRole.VIEWER), user=admin
    )

    assert role_of(_sign_in("viewer.person@example.com")) is Role.VIEWER
    with pytest.raises(SignInRefused):
        _sign_in("someone@sales.example.com")


def test_an_unverified_address_in_an_allowed_domain_is_refused() -> None:
    admin = UserFactory.create(username="boss", role=Role.ADMIN)
    sign_up_domain_save(entry=SignUpDomain(domain="example.com"), user=admin)

    with pytest.raises(SignInRefused, match="not verified"):
        _sign_in("new.person@example.com", verified=False)
    assert not User.objects.filter(email__iexact="new.person@example.com").exists()


def test_a_taken_username_gets_a_number() -> None:
    admin = UserFactory.create(username="boss", role=Role.ADMIN)
    UserFactory.create(username="sam", email="sam@elsewhere.example", role=Role.REP)
    sign_up_domain_save(entry=SignUpDomain(domain="example.com"), user=admin)

    assert _sign_in("sam@example.com").username == "sam2"


def test_two_logins_with_the_address_are_ambiguous_and_a_deactivated_one_is_refused() -> None:
    UserFactory.create(username="a1", email="shared@example.com", role=Role.REP)
    UserFactory.create(username="a2", email="SHARED@example.com", role=Role.REP)
    with pytest.raises(SignInRefused, match="More than one login"):
        _sign_in("shared@example.com")

    UserFactory.create(username="gone", email="gone@example.com", role=Role.REP, is_active=False)
    with pytest.raises(SignInRefused, match="deactivated"):
        _sign_in("gone@example.com")


def test_a_domain_must_look_like_one() -> None:
    admin = UserFactory.create(username="boss", role=Role.ADMIN)
    for bad in ("@example.com", "example", "exa mple.com", "user@example.com"):
        with pytest.raises(ValidationError):
            sign_up_domain_save(entry=SignUpDomain(domain=bad), user=admin)
    assert not SignUpDomain.objects.exists()


def test_an_admin_allows_a_domain_in_the_admin(admin_client_: Client) -> None:
    response = admin_client_.post(
        "/admin/opportunities/signupdomain/add/", {"domain": "Example.COM", "role": "Rep"}
    )
    assert response.status_code == 302
    entry = SignUpDomain.objects.get()
    assert (entry.domain, entry.role) == ("example.com", "Rep")
    assert entry.created_by == entry.updated_by == admin_client_.user  # type: ignore[attr-defined]

    refused = admin_client_.post(
        "/admin/opportunities/signupdomain/add/", {"domain": "@example.com", "role": "Admin"}
    )
    assert refused.status_code == 200
    assert SignUpDomain.objects.count() == 1
