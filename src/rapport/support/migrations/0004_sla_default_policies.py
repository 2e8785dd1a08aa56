"""The default SLA policies (see ``services.sla.DEFAULT_POLICIES`` and docs/sla.md): made once,
when the help desk is installed; a business changes or removes them in Settings → SLA
policies."""

from django.db import migrations

# Frozen here so later changes of the defaults never rewrite history:
# (priority, tier, first response, resolution) in business minutes (a business day is 8 h).
DEFAULTS = (
    ("urgent", "standard", 60, 480), ("high", "standard", 240, 960),
    ("normal", "standard", 480, 2400), ("low", "standard", 960, 4800),
    ("urgent", "premium", 30, 240), ("high", "premium", 120, 480),
    ("normal", "premium", 240, 1440), ("low", "premium", 480, 2400),
)


def seed(apps, schema_editor):
    policy = apps.get_model("support", "SlaPolicy")
    if policy.objects.exists():
        return
    policy.objects.bulk_create(
        policy(name=f"{priority.title()} ({tier})", priority=priority, tier=tier,
               first_response_minutes=first, resolution_minutes=resolution)
        for priority, tier, first, resolution in DEFAULTS)


class Migration(migrations.Migration):
    dependencies = [("support", "0003_desk_ticket_assignee_recent_idx")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
