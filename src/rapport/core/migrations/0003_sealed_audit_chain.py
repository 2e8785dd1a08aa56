"""The audit chain moves to sealed, erasable form (docs/audit.md).

Every existing event gets a salt and a commitment to its values, and the whole chain is sealed
again in id order in the new format. The old chain is checked on the way (in the old format);
the outcome, with the old head hash, is recorded in an ``audit.resealed`` event at the end of the
new chain, so converting never launders earlier tampering. The digests are spelled out here
rather than imported, so this migration keeps meaning what it did when later code changes.
"""

import datetime as dt
import hashlib
import json
import secrets

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

GENESIS = "0" * 64
BATCH = 5000


def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def _iso(moment):
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _old_digest(prev, occurred_at, actor_id, kind, entity_type, entity_id, contact_id, before,
                after):
    return _sha(_canonical([prev, _iso(occurred_at), actor_id, kind, entity_type, entity_id,
                            contact_id, before, after]))


def _new_digest(prev, seq, occurred_at, actor_id, kind, entity_type, entity_id, contact_id,
                payload_hash):
    return _sha(_canonical([prev, seq, _iso(occurred_at), actor_id, kind, entity_type,
                            entity_id, contact_id, payload_hash]))


def reseal(apps, schema_editor):
    Event = apps.get_model("core", "Event")
    AuditHead = apps.get_model("core", "AuditHead")
    db = schema_editor.connection.alias
    connection = schema_editor.connection
    table = connection.ops.quote_name(Event._meta.db_table)
    events = Event.objects.using(db)
    if not events.exists():
        return
    old_head = AuditHead.objects.using(db).filter(id=1).first()
    fields = ("id", "occurred_at", "actor_id", "kind", "entity_type", "entity_id", "contact_id",
              "before", "after", "prev_hash", "hash")
    old_prev, broken_at = GENESIS, None
    prev, seq, last_id = GENESIS, 0, 0
    while True:
        rows = list(events.filter(id__gt=last_id).order_by("id").values_list(*fields)[:BATCH])
        if not rows:
            break
        updates = []
        for (event_id, occurred_at, actor_id, kind, entity_type, entity_id, contact_id, before,
             after, old_prev_hash, old_hash) in rows:
            if broken_at is None and (
                    old_prev_hash != old_prev or old_hash != _old_digest(
                        old_prev, occurred_at, actor_id, kind, entity_type, entity_id,
                        contact_id, before, after)):
                broken_at = event_id
            old_prev = old_hash
            salt = secrets.token_hex(16)
            payload_hash = _sha(_canonical([salt, before, after]))
            seq += 1
            digest = _new_digest(prev, seq, occurred_at, actor_id, kind, entity_type, entity_id,
                                 contact_id, payload_hash)
            updates.append((salt, payload_hash, seq, prev, digest, event_id))
            prev = digest
            last_id = event_id
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET salt = %s, payload_hash = %s, "  # noqa: S608
                               "seq = %s, prev_hash = %s, hash = %s WHERE id = %s", updates)
    if broken_at is None and (old_head is None or old_head.last_hash != old_prev):
        broken_at = "head"
    outcome = ("intact" if broken_at is None else
               "the newest entries were missing (head mismatch)" if broken_at == "head" else
               f"broken at event {broken_at}")
    after = {"events": seq, "previous_chain": outcome,
             "previous_head": old_head.last_hash if old_head else None}
    salt = secrets.token_hex(16)
    payload_hash = _sha(_canonical([salt, None, after]))
    now = timezone.now()
    seq += 1
    digest = _new_digest(prev, seq, now, None, "audit.resealed", "system", 0, None, payload_hash)
    events.create(occurred_at=now, kind="audit.resealed", entity_type="system", entity_id=0,
                  after=after, salt=salt, payload_hash=payload_hash, seq=seq, prev_hash=prev,
                  hash=digest)
    AuditHead.objects.using(db).update_or_create(id=1, defaults={"last_hash": digest,
                                                                 "count": seq})


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_drop_occurred_at_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='event',
            name='payload_hash',
            field=models.CharField(default='', max_length=64),
        ),
        migrations.AddField(
            model_name='event',
            name='salt',
            field=models.CharField(blank=True, max_length=32, null=True),
        ),
        migrations.AddField(
            model_name='event',
            name='seq',
            field=models.BigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name='event',
            name='hash',
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name='event',
            name='prev_hash',
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(condition=models.Q(('seq__isnull', True)), fields=['id'], name='event_unsealed_idx'),
        ),
        migrations.RunPython(reseal, migrations.RunPython.noop, elidable=False),
    ]
