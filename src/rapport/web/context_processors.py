"""What every page's frame shows: the navigation and settings entries this user may use."""

from dataclasses import dataclass, field

from rapport.core import registry
from rapport.core.permissions import can


@dataclass
class NavGroup:
    """Entries that share one menu in the top bar ("Sales": leads, deals, forecast…)."""

    label: str
    entries: list[registry.NavEntry] = field(default_factory=list)

    @property
    def sections(self) -> set[str]:
        return {entry.section for entry in self.entries}


def nav_items(entries: list[registry.NavEntry]) -> list[registry.NavEntry | NavGroup]:
    """Single entries as they are, grouped ones gathered at their group's first place."""
    items: list[registry.NavEntry | NavGroup] = []
    groups: dict[str, NavGroup] = {}
    for entry in entries:
        if not entry.group:
            items.append(entry)
        elif entry.group in groups:
            groups[entry.group].entries.append(entry)
        else:
            groups[entry.group] = NavGroup(entry.group, [entry])
            items.append(groups[entry.group])
    return items


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_items": nav_items([e for e in registry.nav_entries()
                                if e.permission is None or can(user, e.permission)]),
        "settings_entries": [e for e in registry.settings_entries()
                             if e.permission is None or can(user, e.permission)],
        # Rendered only where the page's frame shows them (not for htmx partials).
        "topbar_panels": lambda: registry.render_panels("topbar", request),
    }
