"""Pure parts of the sync engine: the opaque cursor, the op body hash, op schemas."""

from __future__ import annotations

import hashlib
import uuid

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.sync import cursor as cursors
from server.sync.schemas import OP_DATA, OpIn, RatingRecord, TallyAdd
from server.sync.service import body_hash, parse_time


def test_cursor_round_trips() -> None:
    c = cursors.Cursor(since=123456789, scope=[3, 5, 8], next_since=123456800, page=(2, 99, "x"))
    assert cursors.decode(cursors.encode(c)) == c


@pytest.mark.parametrize(
    "text", [None, "", "!!!", "e30", cursors.encode(cursors.Cursor(v=2, since=5))]
)
def test_unreadable_or_foreign_cursor_is_a_full_pull(text: str | None) -> None:
    assert cursors.decode(text) == cursors.START


def _op(data: dict[str, object], at: str = "2026-11-28T14:02:58.104Z") -> OpIn:
    return OpIn(seq=1, op_id=uuid.uuid4(), type="tally.add", at=at, data=data)


def test_body_hash_ignores_key_order_but_not_values() -> None:
    a = _op({"session_id": "s", "goal_id": 1, "delta": 1})
    b = _op({"delta": 1, "goal_id": 1, "session_id": "s"})
    c = _op({"session_id": "s", "goal_id": 1, "delta": -1})
    assert body_hash(a) == body_hash(b)
    assert body_hash(a) != body_hash(c)
    assert body_hash(a) != body_hash(_op(a.data or {}, at="2026-11-28T14:02:59Z"))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    data=st.none() | st.dictionaries(st.text(max_size=10), JSON, max_size=6),
    at=st.text(max_size=40),
    oversize=st.none() | st.integers(0, 2**40),
)
def test_body_hash_is_the_hash_of_the_whole_op_array(
    data: dict[str, object] | None, at: str, oversize: int | None
) -> None:
    # The ledger stores these hashes and compares a retried op against them: the bytes
    # hashed must stay exactly those of encoding [type, at, data, oversize] with sorted
    # keys, however the server builds them.
    op = OpIn(seq=1, op_id=uuid.uuid4(), type="note.add", at=at, data=data, oversize=oversize)
    whole = msgspec.json.encode([op.type, op.at, op.data, op.oversize], order="sorted")
    assert body_hash(op) == hashlib.sha256(whole).digest()


def test_parse_time_needs_an_offset() -> None:
    assert parse_time("2026-11-28T14:02:58Z") is not None
    assert parse_time("2026-11-28T09:02:58-05:00") == parse_time("2026-11-28T14:02:58Z")
    assert parse_time("2026-11-28T14:02:58") is None
    assert parse_time("yesterday") is None


def test_op_data_refuses_unknown_fields_and_bad_values() -> None:
    sid = str(uuid.uuid4())
    with pytest.raises(msgspec.ValidationError, match="approved"):
        msgspec.convert({"session_id": sid, "goal_id": 1, "delta": 1, "approved": True}, TallyAdd)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"session_id": sid, "goal_id": 1, "delta": 2}, TallyAdd)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"session_id": sid, "goal_id": 1, "value": float("nan")}, RatingRecord)
    assert set(OP_DATA) == {
        "session.open",
        "session.close",
        "session.reopen",
        "trial.record",
        "tally.add",
        "timer.start",
        "timer.stop",
        "rating.record",
        "step.record",
        "note.add",
        "undo",
        "draft.save",
        "message.send",
    }


def test_sync_endpoints_are_in_the_openapi_schema() -> None:
    from server.app import create_app

    schema = create_app(secret="openapi").openapi_schema.to_schema()
    assert {"/api/sync", "/api/sync/clients"} <= set(schema["paths"])
    body = schema["paths"]["/api/sync"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/SyncIn"}
    assert "SyncOut" in schema["components"]["schemas"]


def test_batch_columns_send_a_repeated_value_once_and_an_all_null_column_as_nothing() -> None:
    from server.sync import statements
    from server.sync.service import _columns

    session = uuid.uuid4()
    rows = [(uuid.uuid4(), 7, session, None, "tally", 1) for _ in range(3)]
    rows.append((uuid.uuid4(), 7, session, None, "tally", -1))
    names = ("o_op_id", "o_student", "o_session", "o_goal", "o_kind", "o_delta")
    cols = _columns(names, rows)
    assert len(cols["o_op_id"]) == 4  # the first column keeps the row count
    assert cols["o_student"] == (7,)
    assert cols["o_session"] == (session,)
    assert cols["o_goal"] == ()
    assert cols["o_kind"] == ("tally",)
    assert cols["o_delta"] == (1, 1, 1, -1)  # not all the same: every row
    # A column that is not REPEATING is sent whole even when its values agree.
    assert "l_seq" not in statements.REPEATING
    assert _columns(("l_seq", "l_op_id"), [(1, "a"), (1, "b")])["l_seq"] == (1, 1)
    # One row: nothing to compress.
    assert _columns(names, rows[:1])["o_student"] == (7,)
