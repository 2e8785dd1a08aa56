from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from rapport.orders.models import Product


@login_required
def product_list(request):
    products = Product.objects.filter(deleted_at__isnull=True).order_by("name")[:200]
    return render(request, "orders/product_list.html", {"products": products,
                                                        "section": "orders"})
