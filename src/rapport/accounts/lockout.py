"""How django-axes names the account a failed login was for (case-insensitive, as logins are)."""

from rapport.accounts.models import login_name


def username_of(request, credentials) -> str:
    return login_name((credentials or {}).get("username") or request.POST.get("username"))
