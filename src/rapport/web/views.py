from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from rapport.contacts import selectors as contact_selectors
from rapport.core.errors import ValidationFailed


@login_required
def home(request):
    page = contact_selectors.contact_list(user=request.user,
                                          params={"sort": "-updated", "limit": 10})
    return render(request, "web/home.html", {"recent": page.items})


@login_required
def search(request):
    q = request.GET.get("q", "")
    try:
        hits = contact_selectors.search(user=request.user, q=q)
        error = ""
    except ValidationFailed as failure:
        hits, error = [], "; ".join(m for msgs in failure.errors.values() for m in msgs)
    template = "web/_search_results.html" if request.htmx else "web/search.html"
    return render(request, template, {"hits": hits, "q": q, "error": error})
