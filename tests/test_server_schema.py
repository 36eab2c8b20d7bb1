"""Property tests of the REST API against its own OpenAPI schema (schemathesis): whatever
the input, with a writer token, a reader token or none, no answer is a server error and
every answer is one the route can give (401/403/404/422 or success)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from server_helpers import make_project

schemathesis = pytest.importorskip("schemathesis")

from labelaudit.server import create_app  # noqa: E402

#: Examples per operation: the whole module stays under ~30 s on the 2-core CI machine.
EXAMPLES = 12


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    setup = make_project(tmp_path_factory.mktemp("schema"))
    return {"app": create_app(Path(setup["hostile"])), "tokens": setup["tokens"]["hostile"]}


def _check(case: Any, tokens: dict[str, str]) -> None:
    from schemathesis.checks import not_a_server_error

    for token in (tokens["writer"], tokens["reader"], None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error], headers=headers)
        allowed = {200, 201, 401, 403, 404, 422}
        assert response.status_code in allowed, (case.path, response.status_code, response.text)
        if token is None and case.path.startswith("/api/"):
            assert response.status_code == 401


def test_no_input_gives_a_server_error(served: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", served["app"])
    operations = [result.ok() for result in schema.get_all_operations()]
    paths = {operation.path for operation in operations}
    assert {"/api/status", "/api/queue", "/api/decisions", "/api/items/{item}"} <= paths
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            _check(case, served["tokens"])

        run()
