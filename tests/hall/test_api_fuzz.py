"""Schemathesis over the hall's own OpenAPI spec, against the real hall process (issue 9).

Every operation gets generated requests (valid and invalid bodies, odd query strings and
path segments). Requests to signed endpoints are signed with a real enrolled device's key,
so the bodies get past the signature and into validation. Goals: no 5xx, and every answer
(success or ``{"error", "detail"}``) matches the spec. A bounded number of examples per
operation keeps it under a minute on this 2-core machine.
"""

from __future__ import annotations

import itertools
import time
from urllib.parse import parse_qsl, urlsplit

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from offline_queue.signing import sign_headers

EXAMPLES_PER_OPERATION = 20
# Half as many on PostgreSQL (derandomized, from the same seed as SQLite's): the generators' breadth
# is the SQLite run's; the PostgreSQL run checks that database's own answers to the same kinds.
EXAMPLES_ON_POSTGRES = 10
CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance,
               response_schema_conformance]
UNSIGNED = ("/api/v1/health", "/api/v1/enrolment")
# An upload chunk (PATCH /api/v1/uploads/{id}) is raw bytes, like application/octet-stream.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


def send(case, hall, kiosk) -> requests.Response:
    """Send the generated request as a kiosk would: signed, unless the endpoint is unsigned."""
    transport = case.as_transport_kwargs(base_url=hall.url)
    request = requests.Request(
        method=transport["method"], url=transport["url"], headers=transport.get("headers"),
        params=transport.get("params"), json=transport.get("json"), data=transport.get("data"),
        cookies=transport.get("cookies"),
    )
    prepared = kiosk.session.prepare_request(request)
    body = prepared.body or b""
    body = body.encode("utf-8") if isinstance(body, str) else body
    if not case.path.startswith(UNSIGNED):
        url = urlsplit(prepared.url)
        pairs = parse_qsl(url.query, keep_blank_values=True)
        prepared.headers.update(sign_headers(kiosk.private_key, kiosk.device_id, prepared.method,
                                             url.path, pairs, body, time.time()))
    return kiosk.session.send(prepared, timeout=15)


def fuzz(operation, mode, checks, hall, kiosk, sent: list[int], examples: int = EXAMPLES_PER_OPERATION):
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def answers_conform(case) -> None:
        response = send(case, hall, kiosk)
        sent.append(response.status_code)
        case.validate_response(response, checks=checks)

    return answers_conform


def test_answers_match_the_spec_and_never_5xx(hall, kiosk):
    # Hypothesis drives each operation's strategy directly: schemathesis' pytest plugin does
    # not run under this project's pytest (9.x).
    api = schemathesis.openapi.from_url(hall.url + "/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/enrolment", "/api/v1/applications",
                                              "/api/v1/status-changes", "/api/v1/health",
                                              "/api/v1/uploads", "/api/v1/uploads/{upload_id}"}
    examples = EXAMPLES_ON_POSTGRES if str(hall.db_url).startswith("postgresql") else EXAMPLES_PER_OPERATION
    sent: list[int] = []
    for operation, mode in itertools.product(operations, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)):
        try:
            fuzz(operation, mode, CONFORMANCE, hall, kiosk, sent, examples)()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE  # nothing can be wrong with e.g. GET /health
    assert len(sent) > 8 * examples  # the generators really ran
