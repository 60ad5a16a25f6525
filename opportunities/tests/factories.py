"""Factories for deals and logins; each test states only the fields it depends on."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from factory.django import DjangoModelFactory

from opportunities.models import Account, CrmUser, Opportunity, PhaseTransition, StageMapping
from opportunities.roles import Role

User = get_user_model()


class UserFactory(DjangoModelFactory[Any]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def role(user: Any, create: bool, extracted: Role | None, **kwargs: Any) -> None:
        if create and extracted is not None:
            user.groups.add(Group.objects.get(name=extracted.value))
            if extracted is Role.ADMIN:
                user.is_staff = True
                user.save(update_fields=["is_staff"])


class CrmUserFactory(DjangoModelFactory[CrmUser]):
    class Meta:
        model = CrmUser

    zoho_id = factory.Sequence(lambda n: f"4876876{n:012d}")
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"owner{n}@example.com")


class AccountFactory(DjangoModelFactory[Account]):
    class Meta:
        model = Account

    zoho_id = factory.Sequence(lambda n: f"3652397{n:012d}")
    name = factory.Faker("company")


class StageMappingFactory(DjangoModelFactory[StageMapping]):
    class Meta:
        model = StageMapping

    stage = factory.Sequence(lambda n: f"Custom stage {n}")
    phase = 2


class OpportunityFactory(DjangoModelFactory[Opportunity]):
    class Meta:
        model = Opportunity

    zoho_id = factory.Sequence(lambda n: f"5725767{n:012d}")
    name = factory.Sequence(lambda n: f"Deal {n}")
    account = factory.SubFactory(AccountFactory)
    owner = factory.SubFactory(CrmUserFactory)
    stage = "Qualification"
    probability = 10
    amount = Decimal("10000.00")
    currency = "SGD"
    closing_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=60))


class PhaseTransitionFactory(DjangoModelFactory[PhaseTransition]):
    class Meta:
        model = PhaseTransition

    opportunity = factory.SubFactory(OpportunityFactory)
    from_phase = 1
    to_phase = 2
    cause = "sync"
