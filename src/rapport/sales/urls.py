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
    # sequences (nurturing)
    path("sequences/", views.sequence_list, name="sequence_list"),
    path("sequences/new/", views.sequence_edit, name="sequence_new"),
    path("sequences/<int:sequence_id>/", views.sequence_edit, name="sequence_edit"),
    path("sequences/<int:sequence_id>/delete/", views.sequence_remove, name="sequence_delete"),
    path("leads/<int:lead_id>/enrol/", views.lead_enrol, name="lead_enrol"),
    path("leads/<int:lead_id>/unenrol/", views.lead_unenrol, name="lead_unenrol"),


    # The link a double opt-in form mails (public, no login).
    path("f/confirm/<str:token>/", views.lead_opt_in_confirm, name="lead_opt_in_confirm"),


    # territory branch
    path("settings/territories/", views.territory_settings, name="territory_settings"),
    path("settings/territories/<int:territory_id>/", views.territory_edit,
         name="territory_edit"),
    path("settings/territories/<int:territory_id>/move/", views.territory_move,
         name="territory_move"),
    path("settings/territories/<int:territory_id>/delete/", views.territory_remove,
         name="territory_delete"),
    path("leads/<int:lead_id>/contact/", views.lead_contact, name="lead_contact"),
    # --- forecast and goals (issue 10: forecast)
    path("deals/forecast/", views.forecast_page, name="forecast"),
    path("deals/forecast/revenue/", views.forecast_revenue, name="forecast_revenue"),
    path("deals/goals/", views.goal_list, name="goal_list"),
    path("deals/goals/<int:goal_id>/edit/", views.goal_edit, name="goal_edit"),
    path("deals/goals/<int:goal_id>/delete/", views.goal_remove, name="goal_delete"),
    # The public endpoint a business's website posts to (no login, no CSRF token).
    path("f/<str:key>/", views.web_form_public, name="web_form_public"),
    path("f/<str:key>/thanks/", views.web_form_thanks, name="web_form_thanks"),
    # pipeline: the kanban board, moves and the deal page's forms (issue 10, pipeline)
    path("deals/board/", views.deal_board, name="deal_board"),
    path("deals/board/column/<int:stage_id>/", views.deal_board_column,
         name="deal_board_column"),
    path("deals/<int:deal_id>/move/", views.deal_move, name="deal_move"),
    path("deals/<int:deal_id>/close/", views.deal_close, name="deal_close"),
    path("deals/<int:deal_id>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:deal_id>/lines/", views.deal_lines_edit, name="deal_lines_edit"),
    path("deals/<int:deal_id>/delete/", views.deal_remove, name="deal_delete"),
    path("settings/pipelines/", views.pipeline_settings, name="pipeline_settings"),
    path("settings/pipelines/<int:pipeline_id>/", views.pipeline_edit, name="pipeline_edit"),
    path("settings/pipelines/stages/<int:stage_id>/", views.stage_edit, name="stage_edit"),
    # mlscore: train the learned scores now (Settings → Lead scoring)
    path("settings/lead-scoring/train/", views.models_train, name="models_train"),
]
