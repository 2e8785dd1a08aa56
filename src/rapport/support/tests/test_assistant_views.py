"""The widget's endpoints over HTTP: allowed origins only (403 with a clear message
otherwise), CORS, 429 on a flood, 422 naming the field; the script itself; the settings page."""

import json

import pytest
from django.core.cache import cache
from django.test import Client

from rapport.support.models import ChatConversation, ChatMessage, DeskSettings, Ticket
from rapport.support.services import assistant
from rapport.support.tests.assistant_kb import build

pytestmark = pytest.mark.django_db
SHOP = "https://shop.example"


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def desk(owner):
    build(owner)
    DeskSettings.objects.create(widget_origins=[SHOP], widget_greeting="Hi from the bakery!")
    return owner


def _post(client, endpoint, body, origin=SHOP, **extra):
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    headers = {"Origin": origin} if origin else {}
    return client.post(f"/w/api/{endpoint}", raw, content_type="text/plain;charset=UTF-8",
                       headers=headers, **extra)


def _start(client, origin=SHOP):
    return _post(client, "start", {"visitor": "v-12345678", "page_url": f"{SHOP}/cakes"},
                 origin=origin)


def test_a_visitor_on_an_allowed_site_gets_answers(desk):
    client = Client()
    started = _start(client)
    assert started.status_code == 200
    assert started["Access-Control-Allow-Origin"] == SHOP and started["Vary"] == "Origin"
    assert started.json()["greeting"] == "Hi from the bakery!"
    token = started.json()["token"]
    answered = _post(client, "message", {"token": token, "text": "where is my order?"}).json()
    assert answered["known"] and answered["article"]["title"] == "Tracking your order"
    assert answered["article"]["url"].endswith("/help/tracking-your-order/")
    unknown = _post(client, "message", {"token": token, "text": "do you fix bicycles"}).json()
    assert not unknown["known"] and unknown["article"] is None
    assert unknown["text"].startswith("I don't know") and unknown["offer_handover"]
    rated = _post(client, "feedback", {"token": token, "message_id": answered["message_id"],
                                       "value": 1})
    assert rated.json() == {"message_id": answered["message_id"], "feedback": 1}
    handed = _post(client, "handover", {"token": token, "name": "Nina",
                                        "email": "nina@example.org"})
    assert handed.status_code == 200
    ticket = Ticket.objects.get(channel="chat")
    assert handed.json()["reference"] == ticket.reference
    assert "where is my order?" in ticket.description
    assert ChatConversation.objects.get().origin == SHOP


def test_other_sites_are_refused_with_a_clear_message(desk):
    client = Client()
    refused = _start(client, origin="https://evil.example")
    assert refused.status_code == 403
    assert "This site (https://evil.example) is not allowed" in refused.json()["detail"]
    assert "Settings → Chat assistant" in refused.json()["detail"]
    no_origin = _start(client, origin="")
    assert no_origin.status_code == 403 and "Origin" in no_origin.json()["detail"]
    preflight = client.options("/w/api/message", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403 and "Access-Control-Allow-Origin" not in preflight
    allowed = client.options("/w/api/message", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST"})
    assert allowed.status_code == 204 and allowed["Access-Control-Allow-Origin"] == SHOP
    assert not ChatConversation.objects.exists()


def test_bad_input_is_422_naming_the_field(desk):
    client = Client()
    token = _start(client).json()["token"]
    for body, field in [({"token": token, "text": ""}, "text"),
                        ({"token": token, "text": "<script>alert(1)</script>"}, "text"),
                        ({"token": token, "text": "x" * 5000}, "text"),
                        ({"token": token, "text": "hi", "extra": 1}, "extra"),
                        ("not json", "body")]:
        response = _post(client, "message", body)
        assert response.status_code == 422, body
        assert field in response.json()["errors"], response.json()
        assert response["Access-Control-Allow-Origin"] == SHOP
    bad_start = _post(client, "start", {"visitor": "<b>"})
    assert bad_start.status_code == 422 and "visitor" in bad_start.json()["errors"]
    gone = _post(client, "message", {"token": "no-such-token", "text": "hi"})
    assert gone.status_code == 404
    assert not ChatMessage.objects.exists()
    # HTML is read as text: the tags go, the words stay.
    cleaned = _post(client, "message", {"token": token, "text": "<b>where</b> is my order"})
    assert cleaned.status_code == 200
    assert ChatMessage.objects.filter(sender="visitor").get().text == "where is my order"


def test_a_flood_gets_429_with_a_clear_message(desk, settings):
    settings.RAPPORT_ASSISTANT_VISITOR_LIMIT = 4
    client = Client()
    token = _start(client).json()["token"]
    codes = [_post(client, "message", {"token": token, "text": "hi"}).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = _post(client, "message", {"token": token, "text": "hi"})
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    assert limited.json()["detail"].startswith("Too many messages from this visitor")
    # Per address too: another visitor from the same IP runs into the IP's limit.
    settings.RAPPORT_ASSISTANT_VISITOR_LIMIT = 100
    settings.RAPPORT_ASSISTANT_IP_LIMIT = 6  # 6 counted so far
    other = _post(client, "start", {"visitor": "v-other-visitor"})
    assert other.status_code == 429 and "your address" in other.json()["detail"]


def test_the_widget_script_is_served_by_rapport(db):
    script = Client().get("/w/widget.js")
    assert script.status_code == 200 and script["Content-Type"].startswith("text/javascript")
    body = script.content.decode()
    assert "/w/api/" in body and "http://" not in body and "https://" not in body.split(
        "\n", 3)[3]
    assert Client().get("/w/widget.css")["Content-Type"].startswith("text/css")
    assert Client().get("/w/other.js").status_code == 404


def test_settings_page_saves_origins_and_shows_the_snippet(owner, sales_b):
    client = Client()
    client.force_login(owner)
    page = client.get("/settings/assistant/")
    assert page.status_code == 200
    assert b'&lt;script src=&quot;http://testserver/w/widget.js&quot; defer&gt;' in page.content
    bad = client.post("/settings/assistant/", {"widget_origins": "shop.example/path",
                                               "widget_greeting": "Hi"})
    assert bad.status_code == 422 and b"is not an origin" in bad.content
    assert assistant.allowed_origins() == []
    saved = client.post("/settings/assistant/", {
        "widget_origins": "https://Shop.example\nhttp://localhost:8001/\nhttps://shop.example",
        "widget_greeting": "<b>Hello</b>"})
    assert saved.status_code == 302
    assert assistant.allowed_origins() == ["https://shop.example", "http://localhost:8001"]
    assert assistant.greeting() == "Hello"
    other = Client()
    other.force_login(sales_b)
    assert other.get("/settings/assistant/").status_code == 403
