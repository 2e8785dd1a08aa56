from django.urls import path

from rapport.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("settings/", views.settings_index, name="settings"),
]
