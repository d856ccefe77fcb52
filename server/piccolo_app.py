"""The one Piccolo app, "tandem": every table, and the top-level migrations folder."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from server.audit.tables import AuditLog
from server.auth.tables import AccountLink, AccountNotice, AppSecret, AuthSession, Device, RateLimit
from server.collect.tables import DataSession, Observation
from server.iep.tables import Accommodation, Goal, Iep, Objective, Service
from server.messages.tables import Message, MessageDraft, MessageRead, MessageThread
from server.notify.tables import Notification, NotificationDelivery, PushSubscription
from server.progress.tables import ProgressNote, ProgressNoteRead
from server.roster.tables import (
    AppUser,
    Assignment,
    CaseloadLink,
    Guardianship,
    Membership,
    School,
    Student,
)
from server.sync.tables import SyncClient, SyncMark, SyncOp

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

TABLES = [
    School,
    AppUser,
    Membership,
    Student,
    CaseloadLink,
    Assignment,
    Guardianship,
    Device,
    AuthSession,
    RateLimit,
    AccountLink,
    AccountNotice,
    AppSecret,
    Iep,
    Goal,
    Objective,
    Accommodation,
    Service,
    SyncClient,
    SyncMark,
    SyncOp,
    DataSession,
    Observation,
    MessageThread,
    Message,
    MessageRead,
    MessageDraft,
    AuditLog,
    Notification,
    NotificationDelivery,
    PushSubscription,
    ProgressNote,
    ProgressNoteRead,
]

APP_CONFIG = AppConfig(
    app_name="tandem",
    migrations_folder_path=str(MIGRATIONS_DIR),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
