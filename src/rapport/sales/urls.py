from django.urls import path

from rapport.sales import views

urlpatterns = [
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/<int:lead_id>/", views.lead_detail, name="lead_detail"),
    path("leads/<int:lead_id>/edit/", views.lead_edit, name="lead_edit"),
    path("leads/<int:lead_id>/convert/", views.lead_convert, name="lead_convert"),
    path("deals/", views.deal_list, name="deal_list"),
    path("deals/<int:deal_id>/", views.deal_detail, name="deal_detail"),
    path("settings/web-forms/", views.web_form_settings, name="web_form_settings"),
    path("settings/web-forms/<int:form_id>/delete/", views.web_form_remove,
         name="web_form_delete"),
    path("settings/lead-scoring/", views.scoring_settings, name="scoring_settings"),
    path("settings/lead-scoring/<int:rule_id>/delete/", views.scoring_rule_remove,
         name="scoring_rule_delete"),
    path("settings/lead-assignment/", views.assignment_settings, name="assignment_settings"),
    path("settings/lead-assignment/<int:rule_id>/delete/", views.assignment_rule_remove,
         name="assignment_rule_delete"),
    path("settings/lead-assignment/<int:rule_id>/move/", views.assignment_rule_move,
         name="assignment_rule_move"),
    path("settings/lead-assignment/away/", views.out_of_office, name="out_of_office"),
    # The public endpoint a business's website posts to (no login, no CSRF token).
    path("f/<str:key>/", views.web_form_public, name="web_form_public"),
    path("f/<str:key>/thanks/", views.web_form_thanks, name="web_form_thanks"),
    # mlscore: train the learned scores now (Settings → Lead scoring)
    path("settings/lead-scoring/train/", views.models_train, name="models_train"),
]
