"""Leaner indexes for the people lists (the speed issue).

The stage index tempted SQLite into sorting a third of a million rows; one-column indexes
repeated the lead column of the list indexes; the deleted-at indexes held every live row's
NULL. Indexes are dropped as they are, without rebuilding the tables (see the helper).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from rapport.core.migration_ops import drop_single_column_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0008_owner_list_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='contact',
            name='contact_stage_idx',
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.AlterField(
                model_name='company',
                name='created_at',
                field=models.DateTimeField(auto_now_add=True),
            ),
            migrations.AlterField(
                model_name='company',
                name='deleted_at',
                field=models.DateTimeField(blank=True, null=True),
            ),
            migrations.AlterField(
                model_name='company',
                name='owner',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AlterField(
                model_name='contact',
                name='company',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='contacts', to='contacts.company'),
            ),
            migrations.AlterField(
                model_name='contact',
                name='created_at',
                field=models.DateTimeField(auto_now_add=True),
            ),
            migrations.AlterField(
                model_name='contact',
                name='deleted_at',
                field=models.DateTimeField(blank=True, null=True),
            ),
            migrations.AlterField(
                model_name='contact',
                name='owner',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            ],
            database_operations=[
                drop_single_column_indexes("contacts_company", ["created_at", "deleted_at", "owner_id"]),
                drop_single_column_indexes("contacts_contact", ["created_at", "deleted_at", "owner_id", "company_id"]),
            ],
        ),
        migrations.AddIndex(
            model_name='company',
            index=models.Index(condition=models.Q(('deleted_at__isnull', False)), fields=['deleted_at'], name='company_deleted_idx'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(condition=models.Q(('deleted_at__isnull', False)), fields=['deleted_at'], name='contact_deleted_idx'),
        ),
    ]
