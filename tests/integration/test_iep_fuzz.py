"""Generated goals, services and IEP dates against the real API: every answer is 201 or a
4xx, never a 500, and whatever the schemas accept the database stores (its CHECK
constraints are never the ones that refuse)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import msgspec
import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.iep.schemas import GoalIn, IepIn, ServiceIn
from server.validation import raw_input_problem
from tests.support.client import ApiClient
from tests.support.factories import Classroom

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

texts = st.one_of(
    st.text(max_size=5),
    st.text(min_size=70, max_size=130),
    st.sampled_from(["", " ", "Reading", "<script>x</script>", "\x00", "é" * 81]),
)
numbers = st.one_of(st.none(), st.integers(min_value=-5, max_value=12), st.integers())
goal_bodies = st.fixed_dictionaries(
    {
        "area": texts,
        "description": texts,
        "measurement": st.sampled_from(
            ["trials", "frequency", "duration", "rating", "task_analysis", "other"]
        ),
    },
    optional={
        "baseline": texts,
        "mastery_criterion": texts,
        "rating_max": numbers,
        "task_steps": st.lists(texts, max_size=32),
        "home_practice": st.one_of(st.booleans(), st.sampled_from(["true", 1])),
    },
)
service_bodies = st.fixed_dictionaries(
    {
        "service_type": texts,
        "minutes": st.one_of(numbers, st.floats(allow_nan=False, allow_infinity=False)),
        "period": st.sampled_from(["week", "month", "day"]),
    },
    optional={"setting": texts},
)
JSON = {"content-type": "application/json"}
dates = st.dates(min_value=date(1850, 1, 1), max_value=date(2150, 12, 31))


def accepted_locally(kind: type[Any], body: bytes) -> bool:
    if raw_input_problem(body) is not None:
        return False
    try:
        msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError:
        return False
    return True


def post(client: ApiClient, url: str, payload: Any) -> tuple[int, bool, bytes]:
    body = json.dumps(payload).encode()
    r = client.post(url, content=body, headers={"content-type": "application/json"})
    assert r.status_code < 500, (payload, r.text)
    return r.status_code, r.status_code == 201, body


def test_generated_goals_are_stored_exactly_when_the_schema_accepts_them(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    url = f"/api/ieps/{classroom.student.iep_id}/goals"
    count = "SELECT count(*) FROM goal WHERE iep_id = %s"
    before = sql.execute(count, (classroom.student.iep_id,)).fetchone()
    created_ids: list[int] = []

    @SETTINGS
    @given(goal_bodies)
    def run(payload: dict[str, Any]) -> None:
        r = teacher.post(url, content=json.dumps(payload).encode(), headers=JSON)
        assert r.status_code < 500, (payload, r.text)
        body = json.dumps(payload).encode()
        assert (r.status_code == 201) == accepted_locally(GoalIn, body), (payload, r.text)
        if r.status_code == 201:
            created_ids.append(r.json()["id"])
        else:
            assert r.status_code == 400

    run()
    after = sql.execute(count, (classroom.student.iep_id,)).fetchone()
    assert before is not None
    assert after is not None
    assert after[0] == before[0] + len(created_ids)  # each 201 stored once, nothing else


def test_generated_services_and_iep_dates_never_reach_a_database_refusal(
    client_for: Any, classroom: Classroom
) -> None:
    teacher = client_for(classroom.teacher)
    services_url = f"/api/ieps/{classroom.student.iep_id}/services"
    ieps_url = f"/api/students/{classroom.student.id}/ieps"

    @SETTINGS
    @given(service_bodies)
    def services(payload: dict[str, Any]) -> None:
        status, created, body = post(teacher, services_url, payload)
        assert created == accepted_locally(ServiceIn, body), (payload, status)

    @SETTINGS
    @given(dates, dates)
    def ieps(start: date, end: date) -> None:
        payload = {"start_date": start.isoformat(), "end_date": end.isoformat()}
        status, created, body = post(teacher, ieps_url, payload)
        assert created == accepted_locally(IepIn, body), (payload, status)

    services()
    ieps()
