from __future__ import annotations

import os

import pytest
from hypothesis import settings as hypothesis_settings

from churnapp.celery import app as celery_app
from tests.factories import AccountFactory, UserFactory

# In CI, property-based tests (hypothesis, schemathesis) replay the same examples every run: a red build is
# always reproducible, never bad luck. Locally they keep exploring new examples.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def pytest_collection_modifyitems(items):
    """Transactional tests (browser, real worker) flush the database when they end, which would also wipe
    what data migrations created (default health profile…) for every test after them. Serialized rollback
    puts that data back."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
            name in item.fixturenames for name in ("transactional_db", "live_server")
        )
        if transactional:
            kwargs = dict(marker.kwargs) if marker else {}
            # Prepended: pytest-django reads the closest marker, which would otherwise be the test's own.
            marker = pytest.mark.django_db(**{**kwargs, "transaction": True, "serialized_rollback": True})
            item.add_marker(marker, append=False)


@pytest.fixture(autouse=True)
def _celery_eager(request):
    """Unit tests run tasks in-process; integration tests talk to a real worker instead."""
    if request.node.get_closest_marker("integration"):
        yield
        return
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _fresh_process_state():
    """A test's rolled-back rows may reuse ids a previous test saw: no process-local copy of stored rows survives
    from one test to the next."""
    from health import rescore

    rescore.peers_forget()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """A request leaves its language active in the thread (LocaleMiddleware does not reset it), and so does a
    module fixture that makes requests: each test starts, and ends, in the default language."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True, role="Admin")


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role="Manager")


@pytest.fixture
def csm(db):
    return UserFactory(username="csm", first_name="Casey", last_name="Morgan", role="CSM")


@pytest.fixture
def teammate(db):
    """Another CSM: owns other accounts."""
    return UserFactory(username="teammate", role="CSM")


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer", role="Viewer")


@pytest.fixture
def own_account(csm):
    return AccountFactory(owner=csm, name="Acme Mail")


@pytest.fixture
def other_account(teammate):
    return AccountFactory(owner=teammate, name="Globex Newsletters")


@pytest.fixture
def wsgi_keeps_test_connection():
    """Requests sent straight to the WSGI application (schemathesis) close DB connections at request end
    (close_old_connections), which on PostgreSQL would close the test's connection mid-transaction; Django's
    test client disconnects the same signal handlers."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
