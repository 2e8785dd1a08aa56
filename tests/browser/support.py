"""Helpers the browser tests share: the Chromium to launch, users, logging in, screenshots."""

from __future__ import annotations

import pathlib
import re

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PASSWORD = "rye-sourdough-42"
REPO = pathlib.Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def make_user(email: str, role: str, team: str | None = None, **names):
    from rapport.accounts import services

    return services.user_create(email=email, role=role, team_name=team, password=PASSWORD,
                                **names)


def login(page, server: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the real form, as a person would."""
    page.goto(f"{server}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"^(?!.*/login/).*$"))


def shot(page, name: str, *, full_page: bool = True) -> pathlib.Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def open_nav(page, label: str, *, group: str | None = None) -> None:
    """Follow a link of the top bar, opening its menu first when it sits in one ("Sales")."""
    nav = page.get_by_role("navigation", name="Main")
    if group:
        nav.locator("summary", has_text=group).click()
    nav.get_by_role("link", name=label, exact=True).click()
