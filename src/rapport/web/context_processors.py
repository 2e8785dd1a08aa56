"""What every page's frame shows: the navigation and settings entries this user may use."""

from rapport.core import registry
from rapport.core.permissions import can


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_entries": [e for e in registry.nav_entries()
                        if e.permission is None or can(user, e.permission)],
        "settings_entries": [e for e in registry.settings_entries()
                             if e.permission is None or can(user, e.permission)],
        # Rendered only where the page's frame shows them (not for htmx partials).
        "topbar_panels": lambda: registry.render_panels("topbar", request),
    }
