"""The deleted-at index holds deleted products only; no index on created_at (nothing reads it)."""

from django.db import migrations, models

from rapport.core.migration_ops import drop_single_column_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0002_list_indexes_sku_ci'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='product',
                    name='created_at',
                    field=models.DateTimeField(auto_now_add=True),
                ),
                migrations.AlterField(
                    model_name='product',
                    name='deleted_at',
                    field=models.DateTimeField(blank=True, null=True),
                ),
            ],
            database_operations=[
                drop_single_column_indexes("orders_product", ["created_at", "deleted_at"]),
            ],
        ),
        migrations.AddIndex(
            model_name='product',
            index=models.Index(condition=models.Q(('deleted_at__isnull', False)), fields=['deleted_at'], name='product_deleted_idx'),
        ),
    ]
