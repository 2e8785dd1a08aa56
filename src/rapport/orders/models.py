"""Products and orders: each customer's purchase history."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from rapport.core.models import EditableModel, deleted_index
from rapport.core.permissions import OwnedBy, RestrictedQuerySet


class Channel(models.TextChoices):
    IN_STORE = "in_store", "in store"
    ONLINE = "online", "online"
    PHONE = "phone", "phone"
    WHOLESALE = "wholesale", "wholesale"
    MARKET = "market", "market"
    OTHER = "other", "other"


CHANNELS = tuple(Channel.values)


class Product(EditableModel):
    name = models.CharField(max_length=200)
    sku = models.CharField(max_length=64, unique=True)
    category = models.CharField(max_length=100, blank=True, default="")
    price = models.DecimalField(max_digits=12, decimal_places=2)

    policy = OwnedBy("products", owner=None)  # the catalogue is shared
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["name", "id"], name="product_name_idx"),
                   deleted_index("product_deleted_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_nonneg"),
            # "RYE-800" and "rye-800" are one product to a person typing or importing a SKU.
            models.UniqueConstraint(Lower("sku"), name="product_sku_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class Order(models.Model):
    contact = models.ForeignKey("contacts.Contact", on_delete=models.PROTECT,
                                related_name="orders")
    ordered_at = models.DateTimeField()
    channel = models.CharField(max_length=16, default=Channel.IN_STORE, choices=Channel.choices)
    # An order's reference in the system it came from; makes a re-run import skip it.
    external_ref = models.CharField(max_length=64, null=True, blank=True, unique=True)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    # Whoever may see the customer sees their orders.
    policy = OwnedBy("orders", owner="contact__owner")
    objects = RestrictedQuerySet.as_manager()
    # Not a column: a list page's lines of the order, loaded for the page at once.
    line_list: list[OrderLine]

    class Meta:
        indexes = [
            models.Index(fields=["contact", "-ordered_at"], name="order_contact_idx"),
            models.Index(fields=["-ordered_at", "-id"], name="order_recent_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(channel__in=CHANNELS),
                                   name="order_channel_valid"),
        ]


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.IntegerField()  # negative for a return
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(quantity=0), name="orderline_qty_nonzero"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0),
                                   name="orderline_price_nonneg"),
        ]

    @property
    def line_total(self):
        return self.quantity * self.unit_price
