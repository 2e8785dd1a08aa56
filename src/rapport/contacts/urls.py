from django.urls import path

from rapport.contacts import views

urlpatterns = [
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/export.csv", views.contact_export, name="contact_export"),
    path("contacts/bulk/", views.contact_bulk, name="contact_bulk"),
    path("contacts/deleted/", views.contact_deleted, name="contact_deleted"),
    path("contacts/views/", views.saved_view_save, name="saved_view_save"),
    path("contacts/views/<int:view_id>/delete/", views.saved_view_remove, name="saved_view_delete"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:contact_id>/delete/", views.contact_remove, name="contact_delete"),
    path("contacts/<int:contact_id>/restore/", views.contact_restore, name="contact_restore"),
    path("contacts/<int:contact_id>/preferences/", views.preference_add, name="preference_add"),
    path("contacts/<int:contact_id>/notes/", views.note_add, name="note_add"),
    path("contacts/<int:contact_id>/timeline/", views.timeline, name="contact_timeline"),
    path("companies/", views.company_list, name="company_list"),
    path("companies/new/", views.company_create, name="company_create"),
    path("companies/<int:company_id>/", views.company_detail, name="company_detail"),
    path("companies/<int:company_id>/edit/", views.company_edit, name="company_edit"),
    path("companies/<int:company_id>/restore/", views.company_restore, name="company_restore"),
    path("companies/<int:company_id>/delete/", views.company_remove, name="company_delete"),
    path("settings/custom-fields/", views.custom_fields, name="custom_fields"),
    path("settings/custom-fields/<int:definition_id>/edit/", views.custom_field_edit,
         name="custom_field_edit"),
    path("settings/custom-fields/<int:definition_id>/delete/", views.custom_field_remove,
         name="custom_field_delete"),
]
