from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.factories import AccountFactory
from tests.privacy.planting import plant_bystander, plant_company, plant_person


@pytest.fixture
def media(settings, tmp_path):
    """Import files go to a fresh MEDIA_ROOT, searched whole by the tests."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def planted(media, csm):
    """A person's markers in every place, at an account of the CSM's, next to a bystander account."""
    account = AccountFactory(owner=csm, name="Acme Mail", external_id="acme-zq")
    people = plant_person(account, csm=csm)
    bystander = plant_bystander()
    account.refresh_from_db()
    return SimpleNamespace(account=account, bystander=bystander, **people)


@pytest.fixture
def planted_account(media, csm):
    """The same, at an account that also carries the company's markers: for an account erasure."""
    account = AccountFactory(owner=csm)
    plant_company(account)
    people = plant_person(account, csm=csm)
    bystander = plant_bystander()
    account.refresh_from_db()
    return SimpleNamespace(account=account, bystander=bystander, **people)
