"""The API documentation needs a session or an API key; a Viewer changes nothing, saved views included."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import SavedView
from tests.factories import SavedViewFactory
from tests.schemathesis_support import api_key_headers

pytestmark = pytest.mark.django_db

DOC_PAGES = ["/api/docs/", "/api/redoc/"]


def test_schema_refuses_anonymous_requests(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert "paths" not in response.content.decode()


@pytest.mark.parametrize("path", DOC_PAGES)
def test_doc_pages_send_anonymous_visitors_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={path}"


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_schema_and_docs_answer_a_signed_in_user(client, viewer, path):
    client.force_login(viewer)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_schema_and_docs_answer_a_read_api_key(client, path):
    assert client.get(path, headers=api_key_headers("read")).status_code == 200


def test_redoc_sends_a_signed_in_user_to_the_swagger_docs(client, viewer):
    client.force_login(viewer)
    response = client.get("/api/redoc/")
    assert response.status_code == 302 and response["Location"] == "/api/docs/"


def test_schema_refuses_an_invalid_api_key(client):
    response = client.get("/api/schema/", headers={"Authorization": "Bearer ck_nope_nope"})
    assert response.status_code == 401


class TestViewerSavedViews:
    def test_viewer_cannot_create_a_saved_view(self, client, viewer):
        client.force_login(viewer)
        for shared in ({}, {"shared": "on"}):
            response = client.post(reverse("saved-view-create"), {"name": "Mine", "query": "status=at_risk", **shared})
            assert response.status_code == 403
        assert not SavedView.objects.exists()

    def test_viewer_cannot_overwrite_or_delete_a_view_they_own(self, client, viewer):
        # e.g. saved while they were a CSM, before their role changed
        view = SavedViewFactory(owner=viewer, name="Mine", query="status=active", shared=True)
        client.force_login(viewer)
        response = client.post(reverse("saved-view-create"), {"name": "Mine", "query": "status=churned"})
        assert response.status_code == 403
        assert client.post(reverse("saved-view-delete", args=[view.pk])).status_code == 403
        view.refresh_from_db()
        assert view.query == "status=active"

    def test_viewer_sees_no_save_form_nor_delete_button(self, client, viewer):
        SavedViewFactory(owner=viewer, name="Mine", query="status=active")
        client.force_login(viewer)
        body = client.get(reverse("account-list")).content.decode()
        assert "Mine" in body
        assert reverse("saved-view-create") not in body
        assert "Delete view" not in body

    def test_csm_still_saves_and_deletes_their_views(self, client, csm):
        client.force_login(csm)
        client.post(reverse("saved-view-create"), {"name": "Mine", "query": "status=at_risk"})
        view = SavedView.objects.get(owner=csm)
        assert reverse("saved-view-create") in client.get(reverse("account-list")).content.decode()
        assert client.post(reverse("saved-view-delete", args=[view.pk])).status_code == 302
        assert not SavedView.objects.exists()

    def test_manager_deletes_anyones_view(self, client, manager, csm):
        view = SavedViewFactory(owner=csm, name="Team", shared=True)
        client.force_login(manager)
        assert client.post(reverse("saved-view-delete", args=[view.pk])).status_code == 302
        assert not SavedView.objects.exists()
