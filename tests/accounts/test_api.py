from __future__ import annotations

import pytest

from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_accounts_api_uses_the_list_filters(client, viewer, csm):
    AccountFactory(name="Acme Mail", status="at_risk", owner=csm, mrr=300)
    AccountFactory(name="Globex", status="active", mrr=300)
    client.force_login(viewer)
    body = client.get("/api/v1/accounts/", {"status": "at_risk", "mrr_min": 100}).json()
    assert body["count"] == 1
    assert body["results"][0]["name"] == "Acme Mail"
    assert body["results"][0]["owner"] == csm.email


def test_accounts_api_rejects_bad_filters_with_field_messages(client, viewer):
    client.force_login(viewer)
    response = client.get("/api/v1/accounts/", {"mrr_min": "lots", "status": "bogus"})
    assert response.status_code == 400
    assert set(response.json()) == {"mrr_min", "status"}


def test_accounts_api_query_count_is_fixed(client, viewer, django_assert_max_num_queries):
    AccountFactory.create_batch(30)
    client.force_login(viewer)
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/accounts/").status_code == 200


def test_unknown_account_is_404_json(client, viewer):
    client.force_login(viewer)
    response = client.get("/api/v1/accounts/999999/")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_schema_and_docs_are_served_without_a_cdn(client, viewer):
    client.force_login(viewer)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/accounts/" in schema["paths"]
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower() and "unpkg" not in docs.lower()


@pytest.mark.parametrize("value", ["0422-06-14T11:55:20+21:37", "9999-01-01T00:00:00Z", "yesterday"])
def test_datetime_filters_reject_unusable_values_with_400(client, viewer, value):
    client.force_login(viewer)
    response = client.get("/api/v1/survey-responses/", {"responded_after": value})
    assert response.status_code == 400
    assert "responded_after" in response.json()


def test_datetime_filters_accept_offsets_and_compare_in_utc(client, viewer):
    client.force_login(viewer)
    response = client.get("/api/v1/survey-responses/", {"responded_after": "2026-01-31T09:00:00+02:00"})
    assert response.status_code == 200
