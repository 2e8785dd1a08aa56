"""The shell around every app: the home page, the search box and the settings index."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from rapport.core import registry
from rapport.core.errors import ValidationFailed
from rapport.core.search import search_everything


@login_required
def home(request):
    """The home page, or the page an app declares as this user's start (``Landing``)."""
    landing = registry.landing_for(request.user)
    if landing is not None:
        return redirect(landing)
    return render(request, "web/home.html", {"panels": registry.render_panels("home", request)})


@login_required
def search(request):
    q = request.GET.get("q", "")
    try:
        hits = search_everything(user=request.user, q=q)
        error = ""
    except ValidationFailed as failure:
        hits, error = [], "; ".join(m for msgs in failure.errors.values() for m in msgs)
    template = "web/_search_results.html" if request.htmx else "web/search.html"
    return render(request, template, {"hits": hits, "q": q, "error": error})


@login_required
def settings_index(request):
    return render(request, "web/settings.html", {"section": "settings"})
