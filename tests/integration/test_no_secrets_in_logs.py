"""No secret in any log: requests through gunicorn (the repository's gunicorn.conf.py, as production runs it) with
write keys as Segment sends them, valid and invalid, leave no trace of the key in the access or error log."""

from __future__ import annotations

import base64

import orjson
import pytest
import requests

from churnapp.apikeys import api_key_create
from tests.factories import AccountFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_write_keys_never_reach_the_gunicorn_logs(gunicorn_server):
    AccountFactory(external_id="acc-log")
    _, key = api_key_create(name="Segment", scopes=["ingest"])
    wrong = key[:-4] + "zzzz"
    body = orjson.dumps({"batch": [{"type": "track", "userId": "u", "event": "Login",
                                    "context": {"groupId": "acc-log"}}], "writeKey": key})  # fmt: skip
    for secret in (key, wrong):
        basic = "Basic " + base64.b64encode(f"{secret}:".encode()).decode()
        for headers in ({"Authorization": basic}, {"Authorization": f"Bearer {secret}"}, {"X-Api-Key": secret}):
            response = requests.post(f"{gunicorn_server.url}/v1/batch", data=body, timeout=30,
                                     headers={**headers, "Content-Type": "application/json"})  # fmt: skip
            assert response.status_code == (200 if secret == key else 401), response.text
        requests.post(f"{gunicorn_server.url}/v1/batch", data=b"{oops", timeout=30,
                      headers={"Authorization": basic, "Content-Type": "application/json"})  # fmt: skip
    gunicorn_server.process.terminate()
    gunicorn_server.process.wait(timeout=30)
    log = gunicorn_server.log.read_text()
    assert '"POST /v1/batch HTTP/1.1" 200' in log  # the access log is on
    for secret in (key, wrong):
        # The whole key, its secret part ("ck_<prefix>_<secret>": the secret may itself hold "_"), and its Basic form.
        for fragment in (secret, secret.split("_", 2)[2], base64.b64encode(f"{secret}:".encode()).decode()):
            assert fragment not in log
