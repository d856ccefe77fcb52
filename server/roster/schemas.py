"""The admin's roster at the boundary: what the API accepts and returns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from server.validation import Email, Id, OptionalShortText, PersonName, Role

Grade = Annotated[str, Meta(max_length=20)]
ExternalId = Annotated[str, Meta(max_length=64, pattern=r"^[A-Za-z0-9._\-]*$")]
LinkKind = Annotated[str, Meta(pattern=r"^(caseload|assignment|guardianship)$")]
Relationship = Annotated[str, Meta(min_length=1, max_length=40)]
RevokeReason = Annotated[str, Meta(min_length=1, max_length=500)]
CsrfField = Annotated[str, Meta(max_length=200)]
# Form fields arrive as text; an empty optional field is "".
OptionalId = Annotated[str, Meta(max_length=18, pattern=r"^[0-9]*$")]
OptionalDate = Annotated[str, Meta(max_length=10, pattern=r"^(\d{4}-\d{2}-\d{2})?$")]


class UserRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    email: str
    role: str
    is_active: bool
    has_password: bool


class StudentRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    first_name: str
    last_name: str
    grade: str
    date_of_birth: date | None = None
    external_id: str | None = None
    archived: bool = False


class LinkRow(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    id: int
    user_id: int
    user_name: str
    user_email: str
    starts_at: datetime
    ends_at: datetime | None
    current: bool
    relationship: str | None = None
    revoked: bool = False
    revoked_at: datetime | None = None
    revoked_reason: str | None = None


class ServiceAccessRow(msgspec.Struct, frozen=True, kw_only=True):
    """A provider named on a service of the student's IEP, which gives them access to
    the student while the IEP is active, until an admin ends it."""

    service_id: int
    service_type: str
    iep_status: str
    provider_id: int
    provider_name: str
    provider_email: str
    provider_role: str | None
    since: datetime | None
    ended_at: datetime | None
    current: bool


class StudentLinks(msgspec.Struct, frozen=True, kw_only=True):
    student: StudentRow
    links: list[LinkRow]
    services: list[ServiceAccessRow] = []


class InvitationRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    kind: str
    email: str
    role: str
    student_id: int | None
    student_name: str | None
    created_by_name: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    status: str


class DeviceRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    user_id: int
    user_name: str
    label: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None


class StudentIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    first_name: PersonName
    last_name: PersonName
    grade: Grade = ""
    date_of_birth: date | None = None  # bounds checked by the service (MIN_DATE..MAX_DATE)
    external_id: ExternalId | None = None


class LinkIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    kind: LinkKind
    user_id: Id
    student_id: Id
    relationship: Relationship = "guardian"


class RoleIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    role: Role


class RevokeIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    reason: RevokeReason


# Forms posted by the admin's pages (application/x-www-form-urlencoded).


class CsrfOnlyForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    csrf_token: CsrfField = msgspec.field(default="", name="_csrf_token")


class InviteForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    email: Email
    role: Role
    name: OptionalShortText = ""
    student_id: OptionalId = ""
    csrf_token: CsrfField = msgspec.field(default="", name="_csrf_token")


class StudentForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    first_name: PersonName
    last_name: PersonName
    grade: Grade = ""
    date_of_birth: OptionalDate = ""
    external_id: ExternalId = ""
    csrf_token: CsrfField = msgspec.field(default="", name="_csrf_token")


class LinkForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    kind: LinkKind
    user_id: Id
    relationship: Relationship = "guardian"
    csrf_token: CsrfField = msgspec.field(default="", name="_csrf_token")


class RoleForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    role: Role
    csrf_token: CsrfField = msgspec.field(default="", name="_csrf_token")


class RevokeForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    reason: RevokeReason
    csrf_token: CsrfField = msgspec.field(default="", name="_csrf_token")
