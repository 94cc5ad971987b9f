"""Key the audit log: every event is re-hashed with HMAC-SHA256 under AUDIT_KEY (after its
plain SHA-256 chain is verified: a broken chain stops the migration), and records which key
hashed it. PostgreSQL also refuses TRUNCATE of the log with a statement-level trigger, as it
already refuses UPDATE and DELETE row by row. Reversible: the reverse re-hashes with plain
SHA-256."""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations, models

GENESIS_HASH = "0" * 64
TRIGGER = "audit_event_append_only"
CREATE = """
CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
"""
DROP = "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;"


def _content(event, prev_hash):
    # A frozen copy of AuditEvent.canonical_content as it stands in this migration.
    return json.dumps(
        {
            "seq": event.seq,
            "created_at": event.created_at.isoformat(),
            "actor_id": event.actor_id,
            "actor": event.actor_repr,
            "action": event.action,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "target": event.target_repr,
            "payload": event.payload,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def _key_id(key):
    return hashlib.sha256(f"levelset-audit-key:{key}".encode()).hexdigest()[:12]


def _plain(content):
    return hashlib.sha256(content).hexdigest()


def _rehash(apps, schema_editor, *, old, new, key_id):
    event_model = apps.get_model("audit", "AuditEvent")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(f"ALTER TABLE audit_auditevent DISABLE TRIGGER {TRIGGER}")
    old_prev, new_prev = GENESIS_HASH, GENESIS_HASH
    for event in event_model.objects.order_by("seq").iterator(chunk_size=2000):
        if event.prev_hash != old_prev or old(_content(event, event.prev_hash)) != event.hash:
            raise RuntimeError(
                f"The audit chain is broken at event #{event.seq}: investigate before keying."
            )
        new_hash = new(_content(event, new_prev))
        event_model.objects.filter(pk=event.pk).update(
            prev_hash=new_prev, hash=new_hash, key_id=key_id
        )
        old_prev, new_prev = event.hash, new_hash
    # The kept checks point at the old hashes: the next check verifies the whole chain anew.
    apps.get_model("audit", "ChainCheck").objects.all().delete()
    if postgres:
        schema_editor.execute(f"ALTER TABLE audit_auditevent ENABLE TRIGGER {TRIGGER}")


def key_the_log(apps, schema_editor):
    key = settings.AUDIT_KEY.encode()
    _rehash(
        apps,
        schema_editor,
        old=_plain,
        new=lambda content: hmac.new(key, content, hashlib.sha256).hexdigest(),
        key_id=_key_id(settings.AUDIT_KEY),
    )
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def unkey_the_log(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)
    key = settings.AUDIT_KEY.encode()
    _rehash(
        apps,
        schema_editor,
        old=lambda content: hmac.new(key, content, hashlib.sha256).hexdigest(),
        new=_plain,
        key_id="",
    )


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_chain_checks"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, editable=False, max_length=12),
        ),
        migrations.RunPython(key_the_log, unkey_the_log),
    ]
