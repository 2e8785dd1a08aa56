"""The registry through which every app plugs itself into Rapport.

Each domain app has a ``rapport_app.py`` that declares one :class:`RapportApp`: its API router
and URLs, its navigation and settings entries, its search providers, the timeline partials of
its event kinds, the panels it adds to other apps' pages, its import adapters, the periodic
jobs it needs, the permission resources it owns and the event subscribers it runs. Core
collects them when Django starts (:meth:`CoreConfig.ready`), so adding an app is its folder and
one line in ``rapport.config.domains.RAPPORT_APPS``; no other app is edited.

Core reads the declarations but never imports an app by name: the other apps depend on core,
not the reverse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.template.loader import render_to_string
from django.utils.module_loading import autodiscover_modules
from django.utils.safestring import SafeString

from rapport.core import events, permissions
from rapport.core.events import EventKind
from rapport.core.permissions import Resource


@dataclass(frozen=True)
class NavEntry:
    """A link in the main navigation; shown to users who hold ``permission``. Entries with the
    same ``group`` share one menu in the top bar (placed at its first entry's ``order``)."""

    label: str
    url_name: str
    section: str
    order: int = 100
    permission: str | None = None
    group: str = ""


@dataclass(frozen=True)
class SettingsEntry:
    """A page listed under Settings; shown to users who hold ``permission``."""

    label: str
    url_name: str
    description: str = ""
    order: int = 100
    permission: str | None = None


@dataclass(frozen=True)
class SearchHit:
    """One result in the global search box, whatever app it comes from."""

    type: str
    id: int
    title: str
    subtitle: str
    url: str
    score: float


class SearchProvider(Protocol):
    def __call__(self, *, user: Any, q: str, limit: int) -> list[SearchHit]: ...


@dataclass(frozen=True)
class Panel:
    """A block an app adds to a page that another app owns.

    ``slot`` names the place: "home", "contact" and "company" (their pages, with the record),
    and "topbar" (every page's top bar, beside the user's name: keep it free of queries, and
    load what it shows with htmx). ``context`` builds the partial's context from the viewing
    user and the page's record (None on pages without one).
    """

    slot: str
    template: str
    context: Callable[..., Mapping[str, Any]]
    order: int = 100


@dataclass(frozen=True)
class Landing:
    """A page that is the home of the users holding ``permission`` (e.g. My day for sales
    and support): the home page sends them there. The first by ``order`` wins."""

    url_name: str
    permission: str
    order: int = 100


@dataclass(frozen=True)
class PeriodicJob:
    """A task the scheduler enqueues every ``every``."""

    task: Any
    every: dt.timedelta


@dataclass(frozen=True)
class Process:
    """A long-running process ``rapport serve`` starts beside the web server and the workers
    (e.g. a mail listener), when ``enabled()`` says the business has set it up."""

    name: str
    argv: tuple[str, ...]  # a ``rapport`` command and its arguments
    enabled: Callable[[], bool]


@dataclass(frozen=True)
class Subscriber:
    """Runs after the transaction that recorded events of these kinds commits (None = all)."""

    kinds: tuple[str, ...] | None
    handler: Callable[[Sequence[Any]], None]


@dataclass(frozen=True)
class RapportApp:
    label: str
    api_router: Any = None
    urlpatterns: Sequence[Any] = ()
    nav: Sequence[NavEntry] = ()
    settings: Sequence[SettingsEntry] = ()
    search: Sequence[SearchProvider] = ()
    event_kinds: Sequence[EventKind] = ()
    panels: Sequence[Panel] = ()
    import_adapters: Sequence[Any] = ()
    periodic: Sequence[PeriodicJob] = ()
    resources: Sequence[Resource] = ()
    subscribers: Sequence[Subscriber] = ()
    landings: Sequence[Landing] = ()
    processes: Sequence[Process] = ()


@dataclass
class _Registry:
    apps: dict[str, RapportApp] = field(default_factory=dict)
    loaded: bool = False

    def register(self, app: RapportApp) -> RapportApp:
        if app.label in self.apps:
            if self.apps[app.label] is app:
                return app
            raise ValueError(f"an app labelled {app.label!r} is already registered")
        self.apps[app.label] = app
        # The policy and the event fan-out keep their own tables; the app's declarations go
        # straight to them.
        for resource in app.resources:
            permissions.register_resource(resource)
        for subscriber in app.subscribers:
            events.subscribe(subscriber.kinds, subscriber.handler)
        return app


_registry = _Registry()


def register(app: RapportApp) -> RapportApp:
    """Called at the bottom of each ``rapport_app.py``."""
    return _registry.register(app)


def discover() -> None:
    """Import every installed app's ``rapport_app`` module (once, when Django is ready)."""
    if not _registry.loaded:
        autodiscover_modules("rapport_app")
        _registry.loaded = True


def installed() -> list[RapportApp]:
    discover()
    return list(_registry.apps.values())


def _collect(attribute: str) -> Iterable[Any]:
    for app in installed():
        yield from getattr(app, attribute)


def nav_entries() -> list[NavEntry]:
    return sorted(_collect("nav"), key=lambda e: (e.order, e.label))


def settings_entries() -> list[SettingsEntry]:
    return sorted(_collect("settings"), key=lambda e: (e.order, e.label))


def search_providers() -> list[SearchProvider]:
    return list(_collect("search"))


def panels(slot: str) -> list[Panel]:
    return sorted((p for p in _collect("panels") if p.slot == slot), key=lambda p: p.order)


def render_panels(slot: str, request: Any, obj: Any = None) -> list[SafeString]:
    """Every app's panels for ``slot``, rendered for this request (and the page's record)."""
    return [SafeString(render_to_string(panel.template, {**panel.context(request.user, obj),
                                                         "object": obj}, request=request))
            for panel in panels(slot)]


def landing_for(user: Any) -> str | None:
    """The url name of the page this user starts on instead of the home page, if any."""
    for landing in sorted(_collect("landings"), key=lambda entry: entry.order):
        if permissions.scope_for(user, landing.permission) is not None:
            return landing.url_name
    return None


def event_kinds() -> dict[str, EventKind]:
    return {kind.name: kind for kind in _collect("event_kinds")}


def import_adapters() -> list[Any]:
    return list(_collect("import_adapters"))


def periodic_jobs() -> list[PeriodicJob]:
    return list(_collect("periodic"))


def processes() -> list[Process]:
    """The processes ``rapport serve`` should start now (those whose app has them enabled)."""
    return [process for process in _collect("processes") if process.enabled()]

