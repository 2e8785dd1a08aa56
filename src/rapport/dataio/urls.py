from django.urls import path

from rapport.dataio import views

urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/<int:job_id>/", views.import_detail, name="import_detail"),
    path("imports/<int:job_id>/progress/", views.import_progress, name="import_progress"),
    path("imports/<int:job_id>/run/", views.import_run, name="import_run"),
    path("imports/<int:job_id>/cancel/", views.import_cancel, name="import_cancel"),
    path("imports/<int:job_id>/resume/", views.import_resume, name="import_resume"),
    path("imports/<int:job_id>/problems.csv", views.import_errors_csv, name="import_errors_csv"),
    # One upload page per import type (e.g. /orders/import/, where the orders import has
    # always been).
    path("<slug:type>/import/", views.import_start, name="import_start"),
]
