"""After a transactional test empties the database, the data migrations' rows are back.

pytest-django runs transactional tests after all the others and flushes the database after
each, and a module's tests run in order: the second test below starts on a database the
first one's flush emptied. The root conftest restores what the migrations wrote.
"""

import pytest
from django.contrib.auth.models import Group

from opportunities.models import Opportunity, Phase, StageMapping
from opportunities.roles import Role
from opportunities.tests.factories import OpportunityFactory
from sync.models import SyncKind, SyncTrigger
from sync.services import zoho_sync
from sync.tests.fakes import FakeDealSource, deal_record

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_transactional_test_commits_rows_and_is_flushed_after() -> None:
    OpportunityFactory.create()
    assert Opportunity.objects.count() == 1


def test_the_next_one_syncs_with_the_default_stage_mapping() -> None:
    assert not Opportunity.objects.exists()  # the flush did run
    deal = deal_record(1, stage="Negotiation/Review", probability=10)

    run = zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND, source=FakeDealSource([deal]))

    assert run.unmapped_stages == 0
    assert Opportunity.objects.get(zoho_id=deal.zoho_id).phase == Phase.PROPOSAL
    assert StageMapping.objects.filter(stage="Closed Won").exists()
    manager = Group.objects.get(name=Role.MANAGER)
    assert manager.permissions.filter(codename="view_opportunity").exists()
