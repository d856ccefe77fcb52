"""How a route declares who may call it, for the generated access matrix.

The matrix test (tests/integration/test_access_matrix.py) reads the application's own
route table; every (method, path) there must have exactly one Entry in some module of
tests/access/, or the test fails. For each Entry it calls the route as every role and
anonymously, for a student in the caller's scope and one out of it, and checks the
status:

- anonymous: `anonymous` (401 for the API, 302/303 to the login page for pages);
- a role not in `roles`: `forbidden` (403 by default);
- a role in `roles`, student out of its scope: `out_of_scope` (404);
- a role in `roles`, student in scope: `ok`.

Routes about no particular student set `scoped=False` (then only "none" is run).
`overrides` pins any (role, scope) cell to another status where the rule differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg

from tests.support.factories import Classroom, Factory, Student, User

ALL_ROLES = ("admin", "teacher", "provider", "aide", "parent")
Scope = Literal["in", "out", "none"]


@dataclass
class Ctx:
    """What a request builder may use: the classroom, a factory for fresh records, SQL,
    and the role the request is made as (None = anonymous)."""

    classroom: Classroom
    factory: Factory
    sql: psycopg.Connection[Any]
    role: str | None

    def student(self, scope: Scope) -> Student:
        # "out": a student of the same school that only the admin may see (for the
        # admin, whose scope is the whole school, a student of another school).
        if scope == "out":
            if self.role == "admin":
                return Factory(self.sql).student("Zed")
            return self.classroom.other
        return self.classroom.student

    def user(self) -> User | None:
        return None if self.role is None else self.classroom.by_role(self.role)


@dataclass
class Req:
    url: str
    json: Any = None
    data: dict[str, str] | None = None


@dataclass
class Entry:
    method: str
    path: str
    build: Callable[[Ctx, Scope], Req]
    roles: tuple[str, ...] = ALL_ROLES
    ok: int | tuple[int, ...] = 200
    scoped: bool = True
    anonymous: int | tuple[int, ...] = 401
    forbidden: int | tuple[int, ...] = 403
    out_of_scope: int | tuple[int, ...] = 404
    overrides: dict[tuple[str | None, Scope], int | tuple[int, ...]] = field(default_factory=dict)
    html: bool = False  # send Accept: text/html like a browser page

    def expected(self, role: str | None, scope: Scope) -> tuple[int, ...]:
        if (role, scope) in self.overrides:
            value = self.overrides[(role, scope)]
        elif role is None:
            value = self.anonymous
        elif role not in self.roles:
            value = self.forbidden
        elif scope == "out":
            value = self.out_of_scope
        else:
            value = self.ok
        return value if isinstance(value, tuple) else (value,)


PAGE_REDIRECT = (302, 303)
