"""The notification outbox, its deliveries, and push subscriptions."""

from piccolo.columns import UUID, BigInt, BigSerial, Boolean, Integer, Text, Timestamptz
from piccolo.table import Table


class Notification(Table, tablename="notification"):
    id = UUID(primary_key=True)
    school_id = BigInt()
    user_id = BigInt()
    student_id = BigInt(null=True, default=None)
    kind = Text()
    ref_id = Text()
    created_at = Timestamptz()
    status = Text(default="queued")
    not_before = Timestamptz()
    scheduled = Boolean(default=False)
    digest = Boolean(default=False)
    attempts = Integer(default=0)
    lease_until = Timestamptz(null=True, default=None)
    leased_by = Text(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    digest_id = UUID(null=True, default=None)
    last_error = Text(null=True, default=None)


class NotificationDelivery(Table, tablename="notification_delivery"):
    # The database key is (notification_id, subscription_endpoint).
    notification_id = UUID(primary_key=True)
    subscription_endpoint = Text()
    delivered_at = Timestamptz()


class PushSubscription(Table, tablename="push_subscription"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    user_id = BigInt()
    device_id = BigInt(null=True, default=None)
    endpoint = Text()
    p256dh = Text()
    auth = Text()
    user_agent = Text(default="")
    created_at = Timestamptz()
    last_success_at = Timestamptz(null=True, default=None)
