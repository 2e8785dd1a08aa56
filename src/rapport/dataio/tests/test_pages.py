"""The list and the 360° page cost the same number of queries however many rows they show."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.accounts.models import User
from rapport.contacts.models import Contact, ContactTag
from rapport.core.events import NewEvent, record_events
from rapport.dataio.seed import seed_run

AS_OF = dt.date(2026, 1, 31)


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(captured.captured_queries)


def _add_events(contact_id: int, count: int, actor_id: int) -> None:
    record_events(NewEvent(kind="note.added", entity_type="contact", entity_id=contact_id,
                           contact_id=contact_id, actor_id=actor_id,
                           after={"text": f"note {i}"}) for i in range(count))


def test_contact_list_queries_do_not_grow_with_rows(web_as, django_assert_max_num_queries):
    seed_run(contacts=12, companies=3, events_per_contact=2, seed=1, as_of=AS_OF)
    # Each filter matches at least one row already, so every per-page query runs.
    tagged = ContactTag.objects.select_related("tag", "contact").order_by("id").first()
    urls = ("/contacts/?stage=customer", f"/contacts/?tag={tagged.tag.name}&sort=-updated",
            f"/contacts/?owner={tagged.contact.owner_id}&sort=-created")
    owner = User.objects.get(role="owner")
    manager = User.objects.get(email="manager.north@seed.example.com")
    owner_client, team_client = web_as(owner), web_as(manager)
    few = {url: _queries(owner_client, url) for url in urls}
    team_few = _queries(team_client, urls[0])
    seed_run(contacts=300, companies=20, events_per_contact=2, seed=2, as_of=AS_OF)
    assert Contact.objects.filter(lifecycle_stage="customer").count() > 50
    for url in urls:
        with django_assert_max_num_queries(few[url]):
            response = owner_client.get(url)
        assert response.status_code == 200
    assert response.content.count(b'href="/contacts/') >= 1
    with django_assert_max_num_queries(few[urls[0]]):
        response = owner_client.get(urls[0])
    assert response.content.count(b'href="/contacts/') >= 50
    with django_assert_max_num_queries(team_few):
        team_client.get(urls[0])


def test_contact_page_queries_do_not_grow_with_timeline(web_as, django_assert_max_num_queries):
    seed_run(contacts=20, companies=3, events_per_contact=2, seed=3, as_of=AS_OF)
    owner = User.objects.get(role="owner")
    client = web_as(owner)
    small, big = Contact.objects.order_by("id")[:2]
    few = _queries(client, f"/contacts/{small.id}/")
    actors = list(User.objects.values_list("id", flat=True))
    for i, actor in enumerate(actors):  # many actors: each must not cost a query
        _add_events(big.id, 10 + i, actor)
    with django_assert_max_num_queries(few):
        response = client.get(f"/contacts/{big.id}/")
    assert response.content.count(b"note ") >= 50
