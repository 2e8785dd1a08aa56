from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from rapport.accounts import selectors, services
from rapport.core.errors import NotFound


class RapportLoginView(LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


@login_required
def tokens(request):
    issued = None
    if request.method == "POST":
        issued = services.token_create(user=request.user, name=request.POST.get("name", ""))
    return render(request, "accounts/tokens.html",
                  {"tokens": selectors.token_list(user=request.user), "issued": issued})


@login_required
@require_POST
def token_revoke(request, token_id: int):
    try:
        services.token_revoke(user=request.user, token_id=token_id)
    except NotFound:
        pass
    return redirect("tokens")
