"""The KPI API: keys and numbers of DESIGN.md, series rows, errors per field, 404s, roles and the schema."""

from __future__ import annotations

import pytest

from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

PERIOD = {"start": "2024-01-01", "end": "2024-02-01"}


@pytest.fixture
def api(client, viewer):
    client.force_login(viewer)
    return client


def test_churn_rate_keys_and_values(api, book):
    body = api.get("/api/v1/kpis/churn-rate/", PERIOD).json()
    assert body == {
        "start": "2024-01-01",
        "end": "2024-02-01",
        "churn_rate": pytest.approx(1 / 6),
        "retention_rate": pytest.approx(5 / 6),
        "n_start": 6,
        "n_churn": 1,
        "reasons": {},
    }


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("mrr-churn", {"mrr_churn_rate", "start_mrr", "churn_mrr", "downsell_mrr"}),
        ("net-retention", {"net_retention_rate", "gross_retention_rate", "start_mrr", "retained_mrr"}),
        ("activity-churn", {"churn_rate", "retention_rate", "n_start", "n_churn"}),
        ("mrr-movements", {"new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr"}),
        ("arpa", {"arpa", "mrr", "n_active"}),
        ("nps", {"nps", "n_promoters", "n_passives", "n_detractors", "distribution"}),
        ("csat", {"csat", "n_responses", "n_satisfied"}),
        ("clv", {"clv", "arpa", "monthly_churn_rate", "gross_margin", "cac", "clv_cac_ratio"}),
        ("cohort-retention", {"cohorts"}),
        ("health-bands", {"bands", "n_accounts"}),
        ("csm-workload", {"owners"}),
        ("purchase-clv", {"purchase_clv", "average_purchase_value", "purchase_frequency", "average_lifespan_months"}),
        ("repeat-purchase-rate", {"repeat_purchase_rate", "n_customers", "n_repeat"}),
        ("survival", {"curve", "n_accounts", "n_churned", "n_censored", "median_lifetime_months"}),
        ("health-movement", {"transitions", "from_day", "to_day", "n_improved", "n_worsened"}),
        ("engagement-frequency", {"buckets", "day", "n_accounts", "average_active_days"}),
        ("onboarding-funnel", {"journeys", "n_accounts"}),
        ("winback-results", {"n_reactivated", "winback_rate", "mrr_won_back", "offers"}),
    ],
)
def test_every_kpi_answers_its_design_keys(api, book, name, keys):
    response = api.get(f"/api/v1/kpis/{name}/", PERIOD)
    assert response.status_code == 200, response.content
    assert keys <= set(response.json())


def test_numbers_match_the_hand_computed_book(api, book):
    assert api.get("/api/v1/kpis/mrr-churn/", PERIOD).json()["mrr_churn_rate"] == pytest.approx(420 / 890)
    nrr = api.get("/api/v1/kpis/net-retention/", PERIOD).json()
    assert (nrr["start_mrr"], nrr["retained_mrr"]) == (890, 520)
    moves = api.get("/api/v1/kpis/mrr-movements/", PERIOD).json()
    assert (moves["new_mrr"], moves["reactivation_mrr"], moves["end_mrr"]) == (90, 70, 680)
    enterprise = api.get("/api/v1/kpis/churn-rate/", {**PERIOD, "segment": "enterprise"}).json()
    assert (enterprise["n_start"], enterprise["n_churn"]) == (2, 1)


def test_activity_churn_takes_a_window(api, activity):
    assert api.get("/api/v1/kpis/activity-churn/", {**PERIOD, "window": "30d"}).json()["n_start"] == 4
    assert api.get("/api/v1/kpis/activity-churn/", {**PERIOD, "window": "1m"}).json()["n_start"] == 5


def test_series_has_one_row_per_month_with_empty_months(api, book):
    response = api.get("/api/v1/kpis/churn-rate/series/", {"start": "2023-11-01", "end": "2024-03-01"})
    rows = response.json()
    assert [(r["start"], r["end"]) for r in rows] == [
        ("2023-11-01", "2023-12-01"),
        ("2023-12-01", "2024-01-01"),
        ("2024-01-01", "2024-02-01"),
        ("2024-02-01", "2024-03-01"),
    ]
    assert rows[2] == api.get("/api/v1/kpis/churn-rate/", PERIOD).json()
    quarters = api.get("/api/v1/kpis/nps/series/", {"start": "2023-01-01", "end": "2024-01-01", "interval": "quarter"})
    assert len(quarters.json()) == 4
    assert all(r["nps"] is None and r["reasons"]["nps"] for r in quarters.json())


def test_zero_denominator_is_null_with_a_reason_not_an_error(api, db):
    body = api.get("/api/v1/kpis/net-retention/", PERIOD).json()
    assert body["net_retention_rate"] is None
    assert body["reasons"]["net_retention_rate"] == "There was no MRR at the start date."


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, {"start", "end"}),
        ({"start": "2024-13-01", "end": "yesterday"}, {"start", "end"}),
        ({"start": "2024-02-01", "end": "2024-01-01"}, {"end"}),
        ({**PERIOD, "segment": "galactic"}, {"segment"}),
        ({**PERIOD, "owner": "nobody-by-that-name"}, {"owner"}),
        ({**PERIOD, "owner": "424242"}, {"owner"}),
        ({"start": "0001-01-15", "end": "6139-06-02"}, {"start", "end"}),
    ],
)
def test_bad_parameters_are_400_with_a_message_per_field(api, params, fields):
    response = api.get("/api/v1/kpis/churn-rate/", params)
    assert response.status_code == 400
    assert set(response.json()) == fields
    assert all(isinstance(messages, list) and messages for messages in response.json().values())


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/api/v1/kpis/activity-churn/", {"window": "2w"}, "window"),
        ("/api/v1/kpis/clv/", {"margin": "1.5"}, "margin"),
        ("/api/v1/kpis/nps/", {"dedupe": "maybe"}, "dedupe"),
        ("/api/v1/kpis/churn-rate/series/", {"interval": "fortnight"}, "interval"),
        ("/api/v1/kpis/churn-rate/series/", {"start": "1990-01-01", "end": "2030-01-01"}, "end"),
    ],
)
def test_kpi_options_are_validated(api, url, params, field):
    response = api.get(url, {**PERIOD, **params})
    assert response.status_code == 400
    assert field in response.json()


def test_owner_me_is_the_signed_in_user(client, csm, book):
    client.force_login(csm)
    mine = client.get("/api/v1/kpis/mrr-movements/", {**PERIOD, "owner": "me"}).json()
    assert mine["start_mrr"] == 590


def test_unknown_kpi_is_a_json_404(api):
    response = api.get("/api/v1/kpis/happiness/", PERIOD)
    assert response.status_code == 404
    assert "churn-rate" in response.json()["detail"]
    assert api.get("/api/v1/kpis/happiness/series/", PERIOD).status_code == 404
    assert api.get("/api/v1/kpis/cohort-retention/series/", PERIOD).status_code == 404


def test_index_lists_every_kpi_with_its_urls(api):
    rows = api.get("/api/v1/kpis/").json()
    names = {row["name"]: row for row in rows}
    assert {"churn-rate", "nps", "cohort-retention", "csm-workload"} <= set(names)
    assert names["churn-rate"]["series_url"].endswith("/api/v1/kpis/churn-rate/series/")
    assert names["cohort-retention"]["series_url"] is None


def test_anonymous_requests_are_refused(client, db):
    response = client.get("/api/v1/kpis/churn-rate/", PERIOD)
    assert response.status_code in (401, 403)


@pytest.mark.parametrize("role", ["viewer", "csm", "manager", "admin_user"])
def test_every_role_reads_kpis(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/api/v1/kpis/churn-rate/", PERIOD).status_code == 200


def test_an_api_key_with_read_scope_reads_kpis(client, db, book):
    from churnapp.apikeys import api_key_create

    _, secret = api_key_create(name="bi", scopes=["read"], created_by=None)
    response = client.get("/api/v1/kpis/churn-rate/", PERIOD, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    assert response.json()["n_start"] == 6
    me = client.get("/api/v1/kpis/churn-rate/", {**PERIOD, "owner": "me"}, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert me.status_code == 400 and "owner" in me.json()


def test_api_query_count_does_not_grow_with_accounts(api, book, django_assert_max_num_queries):
    AccountFactory.create_batch(20)
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/kpis/churn-rate/series/", {"start": "2023-01-01", "end": "2024-01-01"})
    assert response.status_code == 200


def test_schema_documents_each_kpi_with_its_errors(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/kpis/churn-rate/"]["get"]
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    params = {p["name"] for p in operation["parameters"]}
    assert {"start", "end", "segment", "owner", "plan"} <= params
    series = schema["paths"]["/api/v1/kpis/churn-rate/series/"]["get"]
    assert "interval" in {p["name"] for p in series["parameters"]}
    assert "window" in {p["name"] for p in schema["paths"]["/api/v1/kpis/activity-churn/"]["get"]["parameters"]}
    assert "/api/v1/kpis/{name}/" not in schema["paths"]


@pytest.mark.parametrize("owner", ["¹", "٣", "12a", " "])
def test_odd_owner_values_are_a_400_or_nothing_not_an_error(api, owner):
    response = api.get("/api/v1/kpis/churn-rate/", {**PERIOD, "owner": owner})
    assert response.status_code in (200, 400)


@pytest.mark.parametrize(
    "name",
    ["purchase-clv", "repeat-purchase-rate", "survival", "health-movement", "engagement-frequency",
     "onboarding-funnel", "winback-results"],
)  # fmt: skip
def test_lifecycle_kpis_have_documented_series_with_empty_periods(api, book, name):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {"start", "end", "segment", "owner", "plan"} <= {
        p["name"] for p in schema["paths"][f"/api/v1/kpis/{name}/"]["get"]["parameters"]
    }
    assert "interval" in {p["name"] for p in schema["paths"][f"/api/v1/kpis/{name}/series/"]["get"]["parameters"]}
    rows = api.get(f"/api/v1/kpis/{name}/series/", {"start": "2019-01-01", "end": "2019-04-01"}).json()
    assert [row["start"] for row in rows] == ["2019-01-01", "2019-02-01", "2019-03-01"]
    assert all(row["reasons"] for row in rows)  # nothing to count: nulls with reasons, never an error
