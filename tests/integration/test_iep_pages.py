"""The teacher's pages: caseload, the IEP page, and the IEP/goal forms, as a browser uses
them (form posts with the CSRF token, redirects, server-rendered HTML)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import psycopg

from tests.support.client import ApiClient
from tests.support.factories import Classroom, Factory

HTML = {"accept": "text/html"}
START = date.today().isoformat()
END = (date.today() + timedelta(days=364)).isoformat()


class PageAudit(HTMLParser):
    """Collects what the accessibility and CSP checks need from one page."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: set[str] = set()
        self.controls: list[tuple[str, str | None]] = []  # (tag, id)
        self.inline_scripts = 0
        self.style_attrs = 0
        self.style_tags = 0
        self.external: list[str] = []
        self.headings: list[str] = []
        self.forms_without_token = 0
        self._form_has_token: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "style" in a:
            self.style_attrs += 1
        if any(name.startswith("on") for name in a):
            self.inline_scripts += 1
        if tag == "script" and not a.get("src"):
            self.inline_scripts += 1
        if tag == "style":
            self.style_tags += 1
        for attr in ("src", "href", "action"):
            value = a.get(attr) or ""
            if re.match(r"^(https?:)?//", value):
                self.external.append(value)
        if tag == "label" and a.get("for"):
            self.labels.add(str(a["for"]))
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append((tag, a.get("id")))
        if tag in ("h1", "h2", "h3"):
            self.headings.append(tag)
        if tag == "form":
            self._form_has_token.append(False)
        if tag == "input" and a.get("name") == "_csrf_token" and self._form_has_token:
            self._form_has_token[-1] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form_has_token and not self._form_has_token.pop():
            self.forms_without_token += 1


def check_page(response: httpx.Response) -> PageAudit:
    """Every control labelled, one h1, no inline script or style, nothing third-party,
    every form carries the CSRF token."""
    assert response.headers["content-type"].startswith("text/html"), response.headers
    audit = PageAudit()
    audit.feed(response.text)
    unlabelled = [c for c in audit.controls if c[1] is None or c[1] not in audit.labels]
    assert not unlabelled, f"controls without a <label for>: {unlabelled}"
    assert audit.headings.count("h1") == 1
    assert audit.inline_scripts == 0
    assert audit.style_attrs == 0
    assert audit.style_tags == 0
    assert audit.external == []
    assert audit.forms_without_token == 0
    return audit


def form(c: ApiClient, url: str, data: dict[str, str]) -> httpx.Response:
    return c.post(url, data=data, headers=HTML)


def test_teacher_home_lists_the_caseload_with_iep_links_and_the_review_queue(
    client_for: Any, classroom: Classroom, factory: Factory
) -> None:
    no_iep = factory.student("Omar", with_iep=False)
    factory.caseload(classroom.teacher, no_iep)
    teacher = client_for(classroom.teacher)
    r = teacher.get("/teacher", headers=HTML)
    assert r.status_code == 200
    check_page(r)
    assert f'href="/teacher/students/{classroom.student.id}"' in r.text
    assert f'href="/teacher/students/{no_iep.id}"' in r.text
    assert "No IEP yet" in r.text
    assert classroom.student.last_name in r.text
    assert classroom.other.last_name not in r.text
    assert f"/teacher/students/{classroom.other.id}" not in r.text
    assert re.search(r'<a [^>]*href="/teacher/review"[^>]*>Review queue</a>', r.text)
    admin = client_for(classroom.admin).get("/teacher", headers=HTML)
    assert classroom.other.last_name in admin.text  # the admin's scope is the school
    assert client_for(classroom.parent).get("/teacher", headers=HTML).status_code == 403
    with ApiClient(teacher.base_url) as anonymous:
        r = anonymous.get("/teacher", headers=HTML)
        assert r.status_code in (302, 303)
        assert r.headers["location"].startswith("/login")


def test_the_iep_page_shows_the_current_iep_in_full(
    client_for: Any, classroom: Classroom, factory: Factory
) -> None:
    factory.one(
        "INSERT INTO accommodation (school_id, iep_id, description) VALUES (%s, %s, %s) RETURNING id",
        classroom.student.school_id,
        classroom.student.iep_id,
        "Preferential seating",
    )
    factory.one(
        "INSERT INTO objective (school_id, goal_id, description) VALUES (%s, %s, %s) RETURNING id",
        classroom.student.school_id,
        classroom.student.goals["trials"],
        "With a visual cue in 4 of 5 trials",
    )
    r = client_for(classroom.teacher).get(f"/teacher/students/{classroom.student.id}", headers=HTML)
    assert r.status_code == 200
    check_page(r)
    for text in (
        "Requests a break using a picture card",
        "Trials (correct / incorrect / no response, with prompt level)",
        "Frequency (tally)",
        "Duration (timer)",
        "Rating / rubric score, 0 to 5",
        "Task analysis (steps)",
        "Scrub 20 s",
        "80% over 3 sessions",
        "With a visual cue in 4 of 5 trials",
        "Preferential seating",
        "Speech-language therapy",
        "120 per week",
        classroom.provider.name,
        "Active",
    ):
        assert text in r.text, text
    assert f'href="/teacher/ieps/{classroom.student.iep_id}/edit"' in r.text
    assert f'href="/teacher/goals/{classroom.student.goals["rating"]}/edit"' in r.text


def test_teacher_creates_and_edits_an_iep_through_the_forms(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    student = factory.student("Ines", with_iep=False)
    factory.caseload(classroom.teacher, student)
    r = teacher.get(f"/teacher/students/{student.id}/iep/new", headers=HTML)
    assert r.status_code == 200
    check_page(r)
    r = form(
        teacher,
        f"/teacher/students/{student.id}/iep",
        {"start_date": START, "end_date": END, "status": "draft"},
    )
    assert r.status_code in (302, 303), r.text
    iep_id = sql.execute("SELECT id FROM iep WHERE student_id = %s", (student.id,)).fetchone()[0]  # type: ignore[index]
    assert r.headers["location"] == f"/teacher/students/{student.id}?iep={iep_id}"

    check_page(teacher.get(f"/teacher/ieps/{iep_id}/edit", headers=HTML))
    r = form(
        teacher,
        f"/teacher/ieps/{iep_id}",
        {"start_date": START, "end_date": END, "status": "active"},
    )
    assert r.status_code in (302, 303)
    assert sql.execute("SELECT status FROM iep WHERE id = %s", (iep_id,)).fetchone() == ("active",)

    check_page(teacher.get(f"/teacher/ieps/{iep_id}/goals/new", headers=HTML))
    r = form(
        teacher,
        f"/teacher/ieps/{iep_id}/goals",
        {
            "area": "Daily living",
            "description": "Makes a sandwich",
            "measurement": "task_analysis",
            "rating_max": "",
            "task_steps": "Get bread\r\n\r\n  Spread butter  \r\nClose sandwich",
            "baseline": "1 step",
            "target": "3 steps",
            "mastery_criterion": "All steps, 3 sessions",
            "home_practice": "true",
        },
    )
    assert r.status_code in (302, 303), r.text
    goal_id, steps, home = sql.execute(
        "SELECT id, task_steps, home_practice FROM goal WHERE iep_id = %s", (iep_id,)
    ).fetchone()  # type: ignore[misc]
    assert steps == ["Get bread", "Spread butter", "Close sandwich"]
    assert home is True

    page = teacher.get(f"/teacher/goals/{goal_id}/edit", headers=HTML)
    check_page(page)
    assert "Spread butter" in page.text
    r = form(
        teacher,
        f"/teacher/goals/{goal_id}",
        {
            "area": "Daily living",
            "description": "Makes lunch",
            "measurement": "rating",
            "rating_max": "4",
            # One anchor per score, 0 to 4; a blank line names nothing.
            "rating_anchors": "not yet\r\n\r\nwith a checklist\r\n\r\n on their own \r\n",
        },
    )
    assert r.status_code in (302, 303), r.text
    row = sql.execute(
        "SELECT description, measurement, rating_max, task_steps, home_practice, rating_anchors"
        " FROM goal WHERE id = %s",
        (goal_id,),
    ).fetchone()
    anchors = ["not yet", "", "with a checklist", "", "on their own"]
    assert row == ("Makes lunch", "rating", 4, [], False, anchors)
    page = teacher.get(f"/teacher/goals/{goal_id}/edit", headers=HTML)
    assert "not yet\n\nwith a checklist\n\non their own" in page.text

    r = form(teacher, f"/teacher/goals/{goal_id}/objectives", {"description": "With a checklist"})
    assert r.status_code in (302, 303)
    r = form(teacher, f"/teacher/goals/{goal_id}/active", {"active": "false"})
    assert r.status_code in (302, 303)
    assert sql.execute("SELECT active FROM goal WHERE id = %s", (goal_id,)).fetchone() == (False,)
    r = form(
        teacher,
        f"/teacher/ieps/{iep_id}/accommodations",
        {"description": "Breaks every 20 minutes", "setting": "Classroom"},
    )
    assert r.status_code in (302, 303)
    r = form(
        teacher,
        f"/teacher/ieps/{iep_id}/services",
        {
            "service_type": "Occupational therapy",
            "minutes": "45",
            "period": "week",
            "provider_id": str(classroom.provider.id),
            "setting": "Therapy room",
        },
    )
    assert r.status_code in (302, 303)
    page = teacher.get(f"/teacher/students/{student.id}", headers=HTML)
    check_page(page)
    for text in (
        "Makes lunch",
        "Inactive",
        "With a checklist",
        "Breaks every 20 minutes",
        "Occupational therapy",
        "45 per week",
        classroom.provider.name,
    ):
        assert text in page.text, text


def test_form_errors_show_the_form_again_with_a_message_and_write_nothing(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    iep_id = classroom.student.iep_id
    goal_id = classroom.student.goals["trials"]

    def rows() -> tuple[Any, ...]:
        return sql.execute(
            """SELECT (SELECT count(*) FROM iep WHERE school_id = %(s)s),
                      (SELECT count(*) FROM goal WHERE school_id = %(s)s),
                      (SELECT count(*) FROM objective WHERE school_id = %(s)s),
                      (SELECT count(*) FROM accommodation WHERE school_id = %(s)s),
                      (SELECT count(*) FROM service WHERE school_id = %(s)s),
                      (SELECT string_agg(status || start_date || end_date, ',') FROM iep
                        WHERE school_id = %(s)s)""",
            {"s": classroom.student.school_id},
        ).fetchone()  # type: ignore[return-value]

    before = rows()
    cases = [
        (
            f"/teacher/students/{classroom.student.id}/iep",
            {"start_date": END, "end_date": START, "status": "draft"},
            "The end date must be on or after the start date.",
        ),
        (
            f"/teacher/students/{classroom.student.id}/iep",
            {"start_date": "1900-01-01", "end_date": END, "status": "draft"},
            "The start date must be on or after 1990-01-01",
        ),
        (
            f"/teacher/students/{classroom.student.id}/iep",
            {"start_date": "yesterday", "end_date": END, "status": "draft"},
            "Start date must be a date (YYYY-MM-DD).",
        ),
        (
            f"/teacher/ieps/{iep_id}",
            {"start_date": START, "end_date": "2100-01-01", "status": "active"},
            "before 2100-01-01",
        ),
        (
            f"/teacher/ieps/{iep_id}/goals",
            {"area": "Social", "description": "Greets peers", "measurement": "rating"},
            "A rating goal needs a top score between 2 and 10.",
        ),
        (
            f"/teacher/ieps/{iep_id}/goals",
            {
                "area": "Social",
                "description": "Greets",
                "measurement": "rating",
                "rating_max": "12",
            },
            "Top score must be at most 10.",
        ),
        (
            f"/teacher/ieps/{iep_id}/goals",
            {
                "area": "Motor",
                "description": "Ties shoes",
                "measurement": "task_analysis",
                "task_steps": "\n".join(f"step {i}" for i in range(31)),
            },
            "Task-analysis steps may have at most 30 entries.",
        ),
        (
            f"/teacher/goals/{goal_id}",
            {"area": "", "description": "Requests a break", "measurement": "trials"},
            "Area is required.",
        ),
        (
            f"/teacher/goals/{goal_id}/objectives",
            {"description": "o" * 1001},
            "Description may be at most 1000 characters.",
        ),
        (
            f"/teacher/ieps/{iep_id}/accommodations",
            {"description": "   "},
            "The description may not be blank.",
        ),
        (
            f"/teacher/ieps/{iep_id}/services",
            {"service_type": "OT", "minutes": "lots", "period": "week"},
            "Minutes must be a whole number.",
        ),
        (
            f"/teacher/ieps/{iep_id}/services",
            {
                "service_type": "OT",
                "minutes": "30",
                "period": "week",
                "provider_id": str(classroom.aide.id),
            },
            "Choose a provider or teacher from your school.",
        ),
        (
            f"/teacher/ieps/{iep_id}/goals",
            {
                "area": "A",
                "description": "B",
                "measurement": "trials",
                "student_id": str(classroom.other.id),
            },
            "Unknown field “student_id”",
        ),
    ]
    for url, data, message in cases:
        r = form(teacher, url, data)
        assert r.status_code == 400, (url, data, r.status_code)
        assert message in r.text, (url, message, r.text[:2000])
        check_page(r)
    # What the teacher typed is still in the form.
    r = form(
        teacher,
        f"/teacher/ieps/{iep_id}/goals",
        {"area": "Kept area", "description": "Kept text", "measurement": "rating"},
    )
    assert 'value="Kept area"' in r.text
    assert ">Kept text</textarea>" in r.text
    assert rows() == before


def test_providers_and_aides_see_a_read_only_iep_page(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    iep_id = classroom.student.iep_id
    for role in ("provider", "aide"):
        c = client_for(classroom.by_role(role))
        r = c.get(f"/teacher/students/{classroom.student.id}", headers=HTML)
        assert r.status_code == 200
        check_page(r)
        assert "Requests a break using a picture card" in r.text
        assert "/edit" not in r.text
        assert '<form method="post" action="/teacher' not in r.text
        assert c.get(f"/teacher/ieps/{iep_id}/edit", headers=HTML).status_code == 403
        r = form(c, f"/teacher/ieps/{iep_id}", {"status": "closed"})
        assert r.status_code == 403
    assert sql.execute("SELECT status FROM iep WHERE id = %s", (iep_id,)).fetchone() == ("active",)


def test_a_teacher_taken_off_the_caseload_loses_the_pages_on_the_next_request(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    url = f"/teacher/students/{classroom.student.id}"
    assert teacher.get(url, headers=HTML).status_code == 200
    sql.execute(
        "UPDATE caseload_link SET ends_at = now() WHERE teacher_id = %s", (classroom.teacher.id,)
    )
    r = teacher.get(url, headers=HTML)
    assert r.status_code == 404
    assert "No such student" in r.text
    r = form(
        teacher, f"/teacher/goals/{classroom.student.goals['trials']}/active", {"active": "false"}
    )
    assert r.status_code == 404
    assert classroom.student.last_name not in teacher.get("/teacher", headers=HTML).text


def test_service_providers_offered_are_the_schools_providers_and_teachers(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    Factory(sql).user("provider", name="Elsewhere Provider")
    r = client_for(classroom.teacher).get(f"/teacher/students/{classroom.student.id}", headers=HTML)
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', r.text)
    assert options == [
        (str(classroom.provider.id), classroom.provider.name),
        (str(classroom.teacher.id), f"{classroom.teacher.name} (teacher)"),
    ]
