"""The OpenAPI document as a contract: each /api operation documents every status the
access matrix says it answers, and the schema pages load nothing from another origin.
(The fuzzer in test_openapi_fuzz.py checks the same contract against live responses.)"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.access.spec import ALL_ROLES
from tests.integration.test_access_matrix import declared_entries
from tests.support.client import ApiClient

UNSAFE = {"post", "put", "patch", "delete"}

# What Litestar's bundled UIs were served at; each must be gone or JSON now.
SCHEMA_PAGES = [
    "/schema",
    "/schema/",
    "/schema/openapi.json",
    "/schema/openapi.yaml",
    "/schema/openapi.yml",
    "/schema/swagger",
    "/schema/redoc",
    "/schema/elements",
    "/schema/rapidoc",
    "/schema/scalar",
    "/schema/stoplight",
    "/schema/oauth2-redirect.html",
]


@pytest.fixture(scope="module")
def openapi(base_url: str) -> dict[str, Any]:
    with ApiClient(base_url) as c:
        r = c.get("/schema/openapi.json")
        assert r.status_code == 200, r.text
        schema: dict[str, Any] = r.json()
        return schema


def _schema_path(matrix_path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", matrix_path)


def _statuses(value: int | tuple[int, ...]) -> set[int]:
    return set(value) if isinstance(value, tuple) else {value}


def test_every_api_operation_documents_the_statuses_it_can_return(
    openapi: dict[str, Any],
) -> None:
    entries = {
        (_schema_path(path), method.lower()): entry
        for (method, path), entry in declared_entries().items()
        if path.startswith("/api/")
    }
    operations = {
        (path, method): op
        for path, ops in openapi["paths"].items()
        for method, op in ops.items()
        if path.startswith("/api/")
    }
    assert set(entries) == set(operations), "the schema and the access matrix disagree"
    missing, shapeless = [], []
    for key, op in sorted(operations.items()):
        entry = entries[key]
        expected = {400} | _statuses(entry.anonymous) | _statuses(entry.ok)
        if set(entry.roles) != set(ALL_ROLES):
            expected |= _statuses(entry.forbidden)
        if entry.scoped:
            expected |= _statuses(entry.out_of_scope)
        for value in entry.overrides.values():
            expected |= _statuses(value)
        if key[1] in UNSAFE:
            expected |= {403, 413}  # CSRF, body size limit
        documented = {int(code) for code in op["responses"]}
        if expected - documented:
            missing.append(f"{key[1].upper()} {key[0]}: {sorted(expected - documented)}")
        for code, response in op["responses"].items():
            if int(code) >= 400:
                body = response.get("content", {}).get("application/json", {}).get("schema")
                if body != {"$ref": "#/components/schemas/ErrorOut"}:
                    shapeless.append(f"{key[1].upper()} {key[0]} {code}")
    assert not missing, "undocumented statuses:\n" + "\n".join(missing)
    assert not shapeless, f"errors not documented as ErrorOut: {shapeless}"
    error = openapi["components"]["schemas"]["ErrorOut"]
    assert set(error["required"]) == {"status_code", "detail"}


IEP_WRITES = [
    ("/api/students/{student_id}/ieps", "post"),
    ("/api/ieps/{iep_id}", "patch"),
    ("/api/ieps/{iep_id}/goals", "post"),
    ("/api/goals/{goal_id}", "patch"),
    ("/api/goals/{goal_id}/objectives", "post"),
    ("/api/ieps/{iep_id}/accommodations", "post"),
    ("/api/ieps/{iep_id}/services", "post"),
]


def test_an_edit_of_a_closed_iep_answers_a_documented_409(
    openapi: dict[str, Any],
    client_for: Any,
    classroom: Any,
    sql: Any,
) -> None:
    # Found by Schemathesis: the 409s of the IEP service were not in the document.
    iep_id = classroom.student.iep_id
    sql.execute("UPDATE iep SET status = 'closed' WHERE id = %s", (iep_id,))
    teacher = client_for(classroom.teacher)
    r = teacher.post(f"/api/ieps/{iep_id}/accommodations", json={"description": "Extra time"})
    assert r.status_code == 409, r.text
    undocumented = [w for w in IEP_WRITES if "409" not in openapi["paths"][w[0]][w[1]]["responses"]]
    assert not undocumented


def test_the_login_api_documents_the_status_it_answers(
    openapi: dict[str, Any], client: ApiClient, classroom: Any
) -> None:
    r = client.login(classroom.aide.email)
    documented = openapi["paths"]["/api/auth/login"]["post"]["responses"]
    assert str(r.status_code) in documented
    assert "429" in documented


def test_the_schema_pages_load_nothing_from_another_origin(client: ApiClient) -> None:
    served = []
    for path in SCHEMA_PAGES:
        r = client.get(path, headers={"accept": "text/html"})
        assert r.status_code in (200, 404), (path, r.status_code)
        if r.status_code == 404:
            continue
        served.append(path)
        # Only the JSON document: no page whose scripts or styles could come from elsewhere.
        assert "json" in r.headers["content-type"], (path, r.headers["content-type"])
        assert "<script" not in r.text.lower(), path
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", r.text), path
    assert "/schema/openapi.json" in served
