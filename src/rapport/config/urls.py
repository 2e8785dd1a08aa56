from django.urls import include, path

from rapport.config.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("rapport.accounts.urls")),
    path("", include("rapport.web.urls")),
    path("", include("rapport.contacts.urls")),
    path("", include("rapport.orders.urls")),
]
