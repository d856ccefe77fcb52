"""The demo school: one school with a believable week of special-education work to try.

`seed_demo()` adds it only to a database with no school at all, in one transaction, and
is idempotent: run again, it adds nothing and prints the same logins. Its three students'
IEPs together use every measurement type (trials with prompt levels, frequency, duration,
rating, task analysis). Everyone shares one printed demo password.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from server import db
from server.auth.passwords import hash_password
from server.settings import get_settings

DEMO_SCHOOL = "Maple Grove Elementary"
DEMO_TIMEZONE = "America/Chicago"
DEMO_PASSWORD = "tandem-demo-2026"  # noqa: S105 - printed for everyone: a demo
DEMO_LOCK = 7_406_121  # advisory lock: two demo starts at once seed once


@dataclass(frozen=True)
class DemoUser:
    key: str
    role: str
    name: str
    email: str
    language: str = "en"
    note: str = ""


USERS = (
    DemoUser("admin", "admin", "Priya Nair", "admin@maplegrove.example", note="school admin"),
    DemoUser(
        "teacher",
        "teacher",
        "Elena Rivera",
        "teacher@maplegrove.example",
        note="special-education teacher, case manager of all three students",
    ),
    DemoUser(
        "slp",
        "provider",
        "Marcus Chen",
        "speech@maplegrove.example",
        note="speech-language pathologist (Leo, Mateo)",
    ),
    DemoUser(
        "jamal", "aide", "Jamal Brooks", "aide.jamal@maplegrove.example", note="aide (Leo, Ava)"
    ),
    DemoUser(
        "sofia",
        "aide",
        "Sofia Alvarez",
        "aide.sofia@maplegrove.example",
        note="aide (Mateo, Ava)",
    ),
    DemoUser(
        "dana",
        "parent",
        "Dana Thompson",
        "parent.dana@maplegrove.example",
        note="parent of Leo",
    ),
    DemoUser(
        "lucia",
        "parent",
        "Lucía Moreno",
        "parent.lucia@maplegrove.example",
        language="es",
        note="parent of Mateo (Spanish)",
    ),
)


@dataclass(frozen=True)
class DemoGoal:
    area: str
    description: str
    measurement: str
    baseline: str
    target: str
    mastery: str
    rating_max: int | None = None
    steps: tuple[str, ...] = ()
    home_practice: bool = False
    objectives: tuple[str, ...] = ()
    measure_name: str = ""
    direction: str = "increase"
    continuous: bool = False
    spanish: tuple[str, str] | None = None  # (name, description) for Spanish-reading families


@dataclass(frozen=True)
class DemoStudent:
    key: str
    first: str
    last: str
    grade: str
    born: date
    external_id: str
    goals: tuple[DemoGoal, ...]
    services: tuple[tuple[str, int, str, str], ...]  # type, minutes, period, provider key
    accommodations: tuple[str, ...]
    aides: tuple[str, ...]
    guardians: tuple[tuple[str, str], ...] = field(default=())  # (user key, relationship)


STUDENTS = (
    DemoStudent(
        "leo",
        "Leo",
        "Thompson",
        "2",
        date(2018, 4, 12),
        "MG-1042",
        goals=(
            DemoGoal(
                "Communication",
                "When frustrated or finished, Leo will request a break or help using a "
                "2–3 word phrase or his picture card.",
                "trials",
                "3 of 10 opportunities, mostly with verbal prompts",
                "8 of 10 opportunities independently",
                "80% independent over 3 consecutive sessions",
                home_practice=True,
                objectives=("Uses the picture card with a gestural prompt in 6 of 10.",),
            ),
            DemoGoal(
                "Classroom behavior",
                "During whole-group lessons, Leo will raise his hand and wait to be called on "
                "instead of calling out.",
                "frequency",
                "Calls out about 12 times per 30-minute lesson",
                "3 or fewer call-outs per lesson",
                "3 or fewer per lesson on 4 of 5 days",
                measure_name="call-outs per lesson",
                direction="decrease",
            ),
            DemoGoal(
                "Articulation",
                "Leo will produce /s/ blends at the word level with 80% accuracy.",
                "trials",
                "40% accuracy with a model",
                "80% accuracy independently",
                "80% over 3 consecutive speech sessions",
            ),
        ),
        services=(("Speech-language therapy", 60, "week", "slp"),),
        accommodations=("Visual schedule at his desk", "Movement break every 30 minutes"),
        aides=("jamal",),
        guardians=(("dana", "mother"),),
    ),
    DemoStudent(
        "mateo",
        "Mateo",
        "Moreno",
        "4",
        date(2016, 9, 3),
        "MG-1077",
        goals=(
            DemoGoal(
                "Attention",
                "During independent seatwork, Mateo will stay engaged with the task for a "
                "continuous stretch of time.",
                "duration",
                "About 4 minutes before leaving the task",
                "15 continuous minutes",
                "15 minutes in 4 of 5 sessions",
                home_practice=True,
                measure_name="minutes on task without a break",
                continuous=True,
                spanish=(
                    "Atención",
                    "Durante el trabajo individual, Mateo se mantiene concentrado en la tarea "
                    "un rato seguido, sin pausas.",
                ),
            ),
            DemoGoal(
                "Social skills",
                "In small-group games, Mateo will take turns and share materials with peers.",
                "rating",
                "Rated 1–2 of 4 (needs frequent adult support)",
                "Rated 3 or 4 of 4",
                "3 or higher in 4 consecutive sessions",
                rating_max=4,
                spanish=(
                    "Habilidades sociales",
                    "En juegos de grupo pequeño, Mateo espera su turno y comparte los "
                    "materiales con sus compañeros.",
                ),
            ),
            DemoGoal(
                "Expressive language",
                "Mateo will retell a short story with a beginning, middle and end.",
                "trials",
                "2 of 5 story parts with a model",
                "5 of 5 story parts independently",
                "80% over 3 consecutive sessions",
                spanish=(
                    "Lenguaje expresivo",
                    "Mateo vuelve a contar un cuento corto con su principio, su desarrollo y "
                    "su final.",
                ),
            ),
        ),
        services=(("Speech-language therapy", 90, "week", "slp"),),
        accommodations=("Extended time (1.5x) on classwork", "Seat near the teacher"),
        aides=("sofia",),
        guardians=(("lucia", "mother"),),
    ),
    DemoStudent(
        "ava",
        "Ava",
        "Patel",
        "1",
        date(2019, 1, 27),
        "MG-1103",
        goals=(
            DemoGoal(
                "Daily living",
                "Ava will complete her morning arrival routine.",
                "task_analysis",
                "2 of 6 steps independently",
                "6 of 6 steps independently",
                "All steps independent on 4 of 5 days",
                steps=(
                    "Hang up backpack",
                    "Take out folder",
                    "Put lunch in the bin",
                    "Move name to 'here'",
                    "Wash hands",
                    "Sit on the carpet",
                ),
                home_practice=True,
            ),
            DemoGoal(
                "Social communication",
                "Ava will greet a peer or adult by name without a prompt.",
                "frequency",
                "1 unprompted greeting per morning",
                "5 unprompted greetings per morning",
                "5 or more on 4 of 5 days",
                measure_name="greetings without a prompt",
            ),
        ),
        services=(("Specialized academic instruction", 300, "week", "teacher"),),
        accommodations=("Picture checklist for routines",),
        aides=("jamal", "sofia"),
    ),
)


def logins_text(school_name: str = DEMO_SCHOOL, base: str | None = None) -> str:
    base = base or get_settings().base_url
    width = max(len(u.email) for u in USERS)
    lines = [
        "",
        f"Demo school: {school_name}",
        f"Open {base}/login and sign in as anyone below. Password for all: {DEMO_PASSWORD}",
        "",
    ]
    lines += [f"  {u.role:<9} {u.email:<{width}}  {u.name}: {u.note}" for u in USERS]
    lines.append("")
    return "\n".join(lines)


async def seed_demo(base_url: str | None = None) -> str:
    """Seed the demo school if the database has no school; return what to print (the
    sign-in address on `base_url`, by default the configured one)."""
    hashes = {}
    conn = await asyncpg.connect(db.engine().config["dsn"])
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", DEMO_LOCK)
            schools = await conn.fetch("SELECT id, name FROM school ORDER BY id LIMIT 2")
            if schools:
                demo = await conn.fetchval(
                    "SELECT 1 FROM app_user WHERE lower(email) = $1", USERS[0].email
                )
                if demo:
                    return logins_text(schools[0]["name"], base_url)
                return (
                    "\nThis database already has a school, so the demo school was not added.\n"
                    f"Open {base_url or get_settings().base_url}/login with your own accounts.\n"
                )
            for user in USERS:
                hashes[user.key] = await hash_password(DEMO_PASSWORD)
            await _seed(conn, hashes)
    finally:
        await conn.close()
    return logins_text(base=base_url)


async def _seed(conn: asyncpg.Connection, hashes: dict[str, str]) -> None:
    school_id = await conn.fetchval(
        "INSERT INTO school (name, timezone) VALUES ($1, $2) RETURNING id",
        DEMO_SCHOOL,
        DEMO_TIMEZONE,
    )
    ids: dict[str, int] = {}
    for u in USERS:
        uid = await conn.fetchval(
            """INSERT INTO app_user (email, name, password_hash, language, timezone)
               VALUES ($1, $2, $3, $4, $5) RETURNING id""",
            u.email,
            u.name,
            hashes[u.key],
            u.language,
            DEMO_TIMEZONE,
        )
        await conn.execute(
            "INSERT INTO membership (school_id, user_id, role) VALUES ($1, $2, $3)",
            school_id,
            uid,
            u.role,
        )
        ids[u.key] = int(uid)
    today = date.today()
    # Links began at the start of the school year, so history questions have answers.
    year_start = f"{today.year if today.month >= 8 else today.year - 1}-08-20T08:00:00Z"
    for s in STUDENTS:
        student_id = await conn.fetchval(
            """INSERT INTO student (school_id, first_name, last_name, grade, date_of_birth,
                                    external_id)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
            school_id,
            s.first,
            s.last,
            s.grade,
            s.born,
            s.external_id,
        )
        await _links(conn, school_id, student_id, ids, s, year_start)
        await _iep(conn, school_id, student_id, ids, s, today)
        await _history(conn, school_id, student_id, ids, s, today)


async def _links(
    conn: asyncpg.Connection,
    school_id: int,
    student_id: int,
    ids: dict[str, int],
    s: DemoStudent,
    starts: str,
) -> None:
    await conn.execute(
        """INSERT INTO caseload_link (school_id, teacher_id, student_id, starts_at)
           VALUES ($1, $2, $3, $4::text::timestamptz)""",
        school_id,
        ids["teacher"],
        student_id,
        starts,
    )
    for aide in s.aides:
        await conn.execute(
            """INSERT INTO assignment (school_id, aide_id, student_id, starts_at)
               VALUES ($1, $2, $3, $4::text::timestamptz)""",
            school_id,
            ids[aide],
            student_id,
            starts,
        )
    for parent, relationship in s.guardians:
        await conn.execute(
            """INSERT INTO guardianship (school_id, parent_id, student_id, relationship,
                                         starts_at)
               VALUES ($1, $2, $3, $4, $5::text::timestamptz)""",
            school_id,
            ids[parent],
            student_id,
            relationship,
            starts,
        )


async def _iep(
    conn: asyncpg.Connection,
    school_id: int,
    student_id: int,
    ids: dict[str, int],
    s: DemoStudent,
    today: date,
) -> None:
    iep_id = await conn.fetchval(
        """INSERT INTO iep (school_id, student_id, start_date, end_date, status, created_by)
           VALUES ($1, $2, $3, $4, 'active', $5) RETURNING id""",
        school_id,
        student_id,
        today - timedelta(days=75),
        today + timedelta(days=290),
        ids["teacher"],
    )
    for position, g in enumerate(s.goals):
        goal_id = await conn.fetchval(
            """INSERT INTO goal (school_id, iep_id, student_id, area, description, measurement,
                                baseline, target, mastery_criterion, rating_max, task_steps,
                                home_practice, position, measure_name, direction, continuous,
                                parent_texts)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14, $15,
                       $16, $17::jsonb)
               RETURNING id""",
            school_id,
            iep_id,
            student_id,
            g.area,
            g.description,
            g.measurement,
            g.baseline,
            g.target,
            g.mastery,
            g.rating_max,
            json.dumps(list(g.steps)),
            g.home_practice,
            position,
            g.measure_name,
            g.direction,
            g.continuous,
            json.dumps(
                {"es": {"name": g.spanish[0], "description": g.spanish[1]}} if g.spanish else {}
            ),
        )
        for n, text in enumerate(g.objectives):
            await conn.execute(
                """INSERT INTO objective (school_id, goal_id, description, position)
                   VALUES ($1, $2, $3, $4)""",
                school_id,
                goal_id,
                text,
                n,
            )
    for service_type, minutes, period, provider in s.services:
        await conn.execute(
            """INSERT INTO service (school_id, iep_id, student_id, service_type, minutes,
                                    period, provider_id, setting)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            school_id,
            iep_id,
            student_id,
            service_type,
            minutes,
            period,
            ids[provider],
            "Resource room" if provider == "teacher" else "Speech room",
        )
    for text in s.accommodations:
        await conn.execute(
            "INSERT INTO accommodation (school_id, iep_id, description) VALUES ($1, $2, $3)",
            school_id,
            iep_id,
            text,
        )


# Three weeks of an aide's sessions per student, so a first look at the demo shows real
# data: five approved sessions (the family sees them, the teacher can write a note) and
# one waiting for review, each with every goal's events. Deterministic, and improving
# over time (or, for a goal to decrease, going down), as a teacher would hope to see.
HISTORY_DAYS = (19, 16, 12, 9, 5)  # approved, days ago
PENDING_DAYS = 1


async def _history(
    conn: asyncpg.Connection,
    school_id: int,
    student_id: int,
    ids: dict[str, int],
    s: DemoStudent,
    today: date,
) -> None:
    rng = random.Random(student_id * 7919 + today.toordinal())
    aide = ids[s.aides[0]]
    goals = await conn.fetch(
        """SELECT id, measurement, rating_max, direction,
                  jsonb_array_length(task_steps) AS steps
             FROM goal WHERE student_id = $1 ORDER BY position, id""",
        student_id,
    )
    days = [(d, "approved") for d in HISTORY_DAYS] + [(PENDING_DAYS, "pending")]
    for n, (ago, status) in enumerate(days):
        progress = n / (len(days) - 1)  # 0 … 1 over the three weeks
        opened = datetime.combine(today - timedelta(days=ago), time(15, 0), tzinfo=UTC)
        session_id = uuid.uuid4()
        await conn.execute(
            """INSERT INTO data_session (id, school_id, student_id, staff_id, opened_at,
                                         closed_at, first_synced_at, review_status,
                                         reviewed_by, reviewed_at)
               VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9)""",
            session_id,
            school_id,
            student_id,
            aide,
            opened,
            opened + timedelta(minutes=25),
            status,
            ids["teacher"] if status == "approved" else None,
            opened + timedelta(hours=3) if status == "approved" else None,
        )
        events: list[dict[str, object]] = []
        for g in goals:
            events += _goal_events(g, progress, rng)
        for i, e in enumerate(events):
            at = opened + timedelta(seconds=20 * (i + 1)) + timedelta(**e.pop("offset", {}))  # type: ignore[arg-type]
            await conn.execute(
                """INSERT INTO observation (op_id, school_id, student_id, session_id, goal_id,
                                            user_id, kind, outcome, prompt, delta, timer_id,
                                            value, step_index, device_time, recorded_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)""",
                uuid.uuid4(),
                school_id,
                student_id,
                session_id,
                e["goal_id"],
                aide,
                e["kind"],
                e.get("outcome"),
                e.get("prompt"),
                e.get("delta"),
                e.get("timer_id"),
                e.get("value"),
                e.get("step_index"),
                at,
            )


def _goal_events(g: asyncpg.Record, progress: float, rng: random.Random) -> list[dict[str, object]]:
    goal_id, measurement = g["id"], g["measurement"]
    out: list[dict[str, object]] = []
    if measurement == "trials":
        for _ in range(10):
            correct = rng.random() < 0.35 + 0.5 * progress
            alone = rng.random() < 0.2 + 0.6 * progress
            out.append(
                {
                    "goal_id": goal_id,
                    "kind": "trial",
                    "outcome": "correct" if correct else "incorrect",
                    "prompt": "independent" if alone else rng.choice(("verbal", "model")),
                }
            )
    elif measurement == "frequency":
        down = g["direction"] == "decrease"
        count = round((12 - 8 * progress) if down else (1 + 4 * progress)) + rng.randint(0, 1)
        out += [{"goal_id": goal_id, "kind": "tally", "delta": 1} for _ in range(count)]
    elif measurement == "duration":
        timer = uuid.uuid4()
        minutes = 4 + 9 * progress + rng.random()
        out.append({"goal_id": goal_id, "kind": "timer_start", "timer_id": timer})
        out.append(
            {
                "goal_id": goal_id,
                "kind": "timer_stop",
                "timer_id": timer,
                "offset": {"minutes": minutes},
            }
        )
    elif measurement == "rating":
        top = int(g["rating_max"] or 4)
        for _ in range(2):
            value = min(top, max(0, round(1 + (top - 1) * progress + rng.choice((-1, 0, 0)))))
            out.append({"goal_id": goal_id, "kind": "rating", "value": value})
    elif measurement == "task_analysis":
        for step in range(int(g["steps"] or 0)):
            done = rng.random() < 0.4 + 0.5 * progress
            out.append(
                {
                    "goal_id": goal_id,
                    "kind": "step",
                    "step_index": step,
                    "outcome": "correct" if done else "incorrect",
                    "prompt": "independent" if rng.random() < progress else "verbal",
                }
            )
    return out
