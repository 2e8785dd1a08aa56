from django.urls import path

from rapport.activities import views

urlpatterns = [
    path("my-day/", views.my_day, name="my_day"),
    path("interactions/", views.interaction_list, name="interaction_list"),
    path("interactions/follow-up/", views.follow_up_hint, name="follow_up_hint"),
    path("interactions/<int:interaction_id>/", views.interaction_detail,
         name="interaction_detail"),
    path("interactions/<int:interaction_id>/edit/", views.interaction_edit,
         name="interaction_edit"),
    path("interactions/<int:interaction_id>/delete/", views.interaction_remove,
         name="interaction_delete"),
    path("interactions/<int:interaction_id>/meeting.ics", views.meeting_ics, name="meeting_ics"),
    path("contacts/<int:contact_id>/log/", views.interaction_quick_log,
         name="interaction_quick_log"),
    path("contacts/<int:contact_id>/interactions/new/", views.interaction_create,
         name="interaction_create"),
    path("contacts/<int:contact_id>/calls/upload/", views.call_upload, name="call_upload"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/new/", views.task_create, name="task_create"),
    path("tasks/<int:task_id>/edit/", views.task_edit, name="task_edit"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
    path("tasks/<int:task_id>/reopen/", views.task_undo, name="task_reopen"),
    path("tasks/<int:task_id>/delete/", views.task_remove, name="task_delete"),
    path("reminders/", views.reminders, name="reminders"),
    path("reminders/bell/", views.bell, name="reminder_bell"),
    path("settings/calendar/", views.calendar_settings, name="calendar_settings"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
