from django.urls import path

from rapport.orders import views

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
]
