from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from rapport.accounts import selectors, services
from rapport.core.errors import NotFound, PermissionDenied
from rapport.core.pages import act, done, submit
from rapport.core.permissions import ROLES, can


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


@login_required
def users(request):
    if not can(request.user, "users.manage"):
        raise PermissionDenied("only an owner-role user may manage users")
    outcome, values = submit(lambda: None), {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in request.POST}
        outcome = submit(lambda: services.user_invite(
            actor=request.user, email=values.get("email", ""), role=values.get("role", ""),
            first_name=values.get("first_name", ""), last_name=values.get("last_name", ""),
            team_name=values.get("team", ""), request=request))
        if outcome.ok:
            return done(request, f"Invited {outcome.result.email}: they will get an email to "
                                 "choose a password.", "users")
    return render(request, "accounts/users.html", {
        "users": selectors.all_users(), "roles": ROLES, "teams": selectors.team_list(),
        "errors": outcome.errors, "values": values, "section": "settings",
    }, status=outcome.status)


@login_required
@require_POST
def user_edit(request, user_id: int):
    return act(request, lambda: services.user_update(
        actor=request.user, user_id=user_id, role=request.POST.get("role", ""),
        team_name=request.POST.get("team", ""),
        is_active=request.POST.get("is_active") == "on"), success="Saved.", to="users")
