"""A new app appears everywhere through its own rapport_app.py, touching no other app.

``tests.throwaway_app`` is installed by the test settings only; nothing outside its folder
names it.
"""

import pathlib

import pytest

from rapport.contacts import services
from rapport.core.events import record_events
from tests.throwaway_app import events

pytestmark = pytest.mark.django_db
REPO = pathlib.Path(__file__).resolve().parents[1]


def test_no_app_names_the_throwaway_app():
    mentions = [str(path.relative_to(REPO)) for path in (REPO / "src").rglob("*.py")
                if "throwaway" in path.read_text()]
    assert mentions == ["src/rapport/config/settings/test.py"]


def test_it_shows_in_the_navigation(owner, web_as):
    html = web_as(owner).get("/").content.decode()
    assert '<a href="/throwaway/"' in html and ">Throwaway</a>" in html
    assert web_as(owner).get("/throwaway/").content == b"the throwaway page"


def test_its_results_come_up_in_the_one_search_box(owner, web_as, api_as):
    hits = api_as(owner).get("/search", q="quokkaberry").json()["results"]
    assert [(h["type"], h["title"]) for h in hits] == [("throwaway", "A quokkaberry")]
    page = web_as(owner).get("/search/", {"q": "quokkaberry"}).content.decode()
    assert "A quokkaberry" in page


def test_its_events_show_on_the_timeline_with_its_own_partial(owner, web_as):
    anna = services.contact_create(actor=owner, data={"first_name": "Anna"})
    record_events([events.poked(contact_id=anna.id, actor_id=owner.id, how="gently")])
    html = web_as(owner).get(f"/contacts/{anna.id}/").content.decode()
    assert '<div class="throwaway">Poked gently</div>' in html


def test_its_api_is_served_and_documented(owner, api_as):
    assert api_as(owner).get("/throwaway/ping").json() == {"pong": True}
    schema = api_as(owner).client.get("/api/v1/openapi.json").json()
    assert "/api/v1/throwaway/ping" in schema["paths"]
