"""How activities plugs in: conversations and tasks on the contact and company pages and the
timeline, My day (the sales and support roles' landing page), the reminder bell, the
calendar feed, the reminder emails' periodic job and the permissions."""

import datetime as dt

from django.conf import settings

from rapport.activities import events, selectors, tasks, urls
from rapport.activities.api import router
from rapport.core.permissions import Resource, grant
from rapport.core.registry import (
    Landing,
    NavEntry,
    Panel,
    PeriodicJob,
    Process,
    RapportApp,
    SettingsEntry,
    Subscriber,
    register,
)


def _contact_panel(user, contact):
    return {"contact": contact, "can_log": selectors.can_log_for(user, contact),
            "open_tasks": selectors.contact_open_tasks(user=user, contact_id=contact.id),
            "outbound": selectors.contact_outbound_emails(user=user, contact_id=contact.id)}


def _company_panel(user, company):
    return {"company": company,
            "interactions": selectors.company_interactions(user=user, company_id=company.id)}


def _home_panel(user, obj=None):
    return {"due": selectors.tasks_due_count(user=user)}


def _bell(user, obj=None):
    return {}  # the count comes by htmx, so no page pays a query for it


APP = register(RapportApp(
    label="activities",
    api_router=router,
    urlpatterns=urls.urlpatterns,
    nav=[NavEntry("My day", "my_day", "my_day", order=5),
         NavEntry("Activity", "interaction_list", "activities", order=25)],
    settings=[SettingsEntry("Calendar feed", "calendar_settings",
                            "your tasks and meetings in Google, Apple or Thunderbird calendars",
                            order=25),
              SettingsEntry("Email in", "mail_settings",
                            "capture customers' email: forwarding address, IMAP mailbox, "
                            "refused messages", order=28),
              SettingsEntry("Email templates", "email_template_list",
                            "saved emails with placeholders, to send from a contact's page",
                            order=26),
              SettingsEntry("Outgoing mail", "outgoing_mail",
                            "the mail server customer emails go through, and a test message",
                            order=27, permission="settings.change")],
    event_kinds=events.KINDS,
    panels=[Panel("contact", "activities/_contact_panel.html", _contact_panel, order=5),
            Panel("company", "activities/_company_panel.html", _company_panel, order=10),
            Panel("home", "activities/_home_tasks.html", _home_panel, order=10),
            Panel("topbar", "activities/_bell_slot.html", _bell, order=10)],
    landings=[Landing("my_day", "my_day.landing", order=10)],
    processes=[Process("the mail listener", ("mail", "listen"),
                       enabled=lambda: bool(settings.RAPPORT_MAIL_LISTEN_PORT))],
    subscribers=[Subscriber((events.EMAIL_QUEUED.name, events.EMAIL_REQUEUED.name),
                            tasks.send_soon),
                 Subscriber((events.CALL_RECORDED.name,), tasks.enqueue_transcriptions)],
    periodic=[PeriodicJob(tasks.send_due_reminders, dt.timedelta(minutes=1)),
              PeriodicJob(tasks.send_pending_emails, dt.timedelta(minutes=1)),
              PeriodicJob(tasks.poll_mailbox, dt.timedelta(minutes=1))],
    resources=[
        Resource("activities", "Activities", {
            "view": grant(owner="all", manager="team", sales="team", support="all",
                          marketing="all"),
            "add": grant(owner="all", manager="team", sales="team", support="all",
                         marketing="all"),
            "change": grant(owner="all", manager="team", sales="own", support="own",
                            marketing="own"),
        }, description="calls, emails, meetings, notes and messages with customers: whoever "
                       "may see the person sees and logs them; change (edit, delete) counts "
                       "from who logged it"),
        Resource("tasks", "Tasks", {
            "view": grant(owner="all", manager="team", sales="team", support="team",
                          marketing="own"),
            "change": grant(owner="all", manager="team", sales="own", support="own",
                            marketing="own"),
            "assign": grant(owner="all", manager="team", sales="team", support="team",
                            marketing="own"),
            "delete": grant(owner="all", manager="team", sales="own", support="own",
                            marketing="own"),
        }, description="to-dos and their reminders, counted from the assignee: assign = give "
                       "a task to that user"),
        Resource("email_templates", "Email templates", {
            "view": grant(owner="all", manager="all", sales="all", support="all",
                          marketing="all"),
            "add": grant(owner="all", manager="all", sales="all", support="all",
                         marketing="all"),
            "change": grant(owner="all", manager="team", sales="own", support="own",
                            marketing="all"),
            "delete": grant(owner="all", manager="team", sales="own", support="own",
                            marketing="all"),
        }, description="saved emails everyone may use; change and delete count from who "
                       "made it (sending one is logging a conversation: activities.add)"),
        Resource("my_day", "My day", {"landing": grant(sales="all", support="all")},
                 owned=False, description="who starts on My day instead of the home page"),
    ],
))
