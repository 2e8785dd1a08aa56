"""Speed of the chat assistant's answer with 2,000 published articles, through the real endpoint.

Usage:
    python benchmarks/assistant_speed.py --database-url sqlite:////tmp/rapport_bench/assistant.sqlite3
    python benchmarks/assistant_speed.py \\
        --database-url postgres://postgres@127.0.0.1:5432/rapport_bench_assistant

Adds (once) the bakery's 12 articles of the tests and synthetic published articles up to
``--articles`` (a few paragraphs each about a made-up product of its own, from a vocabulary of
products, problems and actions, in categories), trains the intent model, allows the origin
``http://bench.example``, serves it with ``rapport serve`` (gunicorn, as shipped) on
127.0.0.1 and POSTs visitor questions to ``/w/api/message`` one at a time, as the widget does
(text/plain JSON with an Origin header):
questions the articles answer and questions they do not, each a new visitor every 10 messages.
The rate limits are raised for the run (``RAPPORT_ASSISTANT_*_LIMIT``): one address sends all.

Rows: an answer (index warm), "I don't know" (index warm), and the first answer after an
article changed (every worker rebuilds its index and recalibrates once). Prints one table and
the load average: on a shared machine a busy neighbour shows there. Target: p95 ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import pathlib
import random
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from foundation_speed import _percentile, _serve, _setup_django, _stop  # noqa: E402

ORIGIN = "http://bench.example"
TOPICS = ["sourdough", "baguette", "croissant", "brioche", "cheesecake", "macaron", "tart",
          "muffin", "scone", "pretzel", "bagel", "focaccia", "strudel", "eclair", "pavlova",
          "brownie", "cookie", "gingerbread", "panettone", "stollen", "crumpet", "donut",
          "profiterole", "meringue", "shortbread", "biscotti", "cannoli", "baklava", "churro",
          "waffle", "pancake", "flapjack", "madeleine", "financier", "babka", "challah"]
THINGS = ["gift box", "voucher", "subscription", "catering tray", "party platter", "hamper",
          "loyalty card", "franchise", "workshop", "baking class", "oven", "mixer", "apron",
          "recipe book", "lunch menu", "wholesale order", "school order", "office delivery"]
ACTIONS = ["ordering", "storing", "freezing", "reheating", "slicing", "decorating", "gifting",
           "returning", "exchanging", "personalising", "packing", "shipping", "booking"]
WORDS = ("fresh flour butter sugar oven crust crumb glaze icing filling layer weekend morning "
         "price size weight box label counter shelf fridge freezer week day hour minute "
         "customer team shop kitchen recipe ingredient plain organic local seasonal special "
         "discount offer member card email phone website account receipt payment").split()
CATEGORIES = ["Products", "Ordering", "Delivery", "Payments", "Events", "Wholesale",
              "Care and storage", "Gifts"]
SYLLABLES = ["ka", "lo", "mi", "ru", "te", "vo", "zan", "pel", "dor", "fin", "gra", "hul", "bri",
             "sto", "qua", "nex", "wil", "yor", "cet", "jum"]


def product_name(n: int) -> str:
    """A made-up product name of its own for article ``n`` (as a real catalogue has)."""
    parts = []
    for _ in range(3):
        n, r = divmod(n, len(SYLLABLES))
        parts.append(SYLLABLES[r])
    return "".join(parts).capitalize()


KNOWN = ["where is my order", "I want to cancel my order", "do you have vegan cakes",
         "how do I reset my password", "I would like a refund for a broken cake",
         "when do you deliver", "how long does a cake keep", "can I pay by invoice",
         f"freezing the {product_name(17)}", f"how do I store {product_name(1500)}",
         f"{product_name(42)} shipping", f"booking {product_name(999)}"]
UNKNOWN = ["do you repair bicycles", "what is the meaning of life", "hello there",
           "can you fix my car engine", "who won the football match yesterday",
           "is it going to rain tomorrow", "translate this poem into latin",
           "my laptop screen is broken"]


def _article_text(rng: random.Random, topic: str, thing: str, action: str, name: str) -> str:
    def sentence() -> str:
        words = rng.sample(WORDS, 9)
        return (f"{action.capitalize()} the {name} {topic} {thing}: " + " ".join(words) + ".")
    return "\n\n".join(" ".join(sentence() for _ in range(rng.randint(2, 4)))
                       for _ in range(rng.randint(2, 5)))


def ensure_articles(count: int, seed: int) -> int:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from rapport.accounts.services import user_create
    from rapport.support.models import Article, ArticleCategory, DeskSettings
    from rapport.support.services import assistant
    from rapport.support.tests.assistant_kb import build, close_tickets

    owner = get_user_model().objects.filter(role="owner", is_active=True).first()
    if owner is None:
        owner = user_create(email="owner@bench.example", role="owner", team_name=None,
                            password="bench-password-42", first_name="Olivia")
    if not Article.objects.filter(slug="tracking-your-order").exists():
        build(owner)
        close_tickets(owner)
    have = Article.objects.filter(status="published", deleted_at__isnull=True).count()
    if have < count:
        rng = random.Random(seed)
        categories = []
        for n, name in enumerate(CATEGORIES):
            category, _ = ArticleCategory.objects.get_or_create(
                name=name, defaults={"slug": name.lower().replace(" ", "-"), "position": 10 + n})
            categories.append(category)
        now = timezone.now()
        rows = []
        for n in range(have, count):
            topic, thing, action = (rng.choice(TOPICS), rng.choice(THINGS), rng.choice(ACTIONS))
            name = product_name(n)
            title = f"{action.capitalize()} the {name} {topic} {thing}"
            rows.append(Article(title=title, slug=f"bench-{n}", status="published",
                                body=_article_text(rng, topic, thing, action, name),
                                category=categories[n % len(categories)],
                                is_faq=n % 7 == 0, published_at=now, author=owner))
        Article.objects.bulk_create(rows, batch_size=500)
    assistant.intent_train()
    row = assistant.desk_settings()
    row.widget_origins = [ORIGIN]
    row.save(update_fields=["widget_origins"])
    assert DeskSettings.objects.count() >= 1
    return Article.objects.filter(status="published", deleted_at__isnull=True).count()


def _post(connection: http.client.HTTPConnection, path: str, body: dict) -> tuple[int, dict]:
    connection.request("POST", path, json.dumps(body), headers={
        "Origin": ORIGIN, "Content-Type": "text/plain;charset=UTF-8"})
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"{}")


class Visitor:
    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.n = 0
        self.token = ""

    def ask(self, text: str) -> tuple[float, dict]:
        if self.n % 10 == 0:
            status, body = _post(self.connection, "/w/api/start",
                                 {"visitor": f"bench-{time.monotonic_ns()}"})
            assert status == 200, (status, body)
            self.token = body["token"]
        self.n += 1
        started = time.perf_counter()
        status, body = _post(self.connection, "/w/api/message",
                             {"token": self.token, "text": text})
        elapsed = (time.perf_counter() - started) * 1000
        assert status == 200, (status, body)
        return elapsed, body


def _row(what: str, data: str, times: list[float], right: str,
         target: float | None = 150) -> list[str]:
    p50, p95 = _percentile(times, 50), _percentile(times, 95)
    verdict = "-" if target is None else ("ok" if p95 <= target else "SLOW")
    return [what, data, f"{p50:.1f}", f"{p95:.1f}", "-" if target is None else f"{target:g}",
            str(len(times)), right, verdict]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=300, help="timed questions per row")
    parser.add_argument("--changes", type=int, default=8, help="timed rebuilds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()

    home = pathlib.Path(tempfile.gettempdir()) / "rapport_bench_home"
    home.mkdir(exist_ok=True)
    _setup_django(args.database_url, home)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", interactive=False, verbosity=0)
    from rapport.support.models import Article

    articles = ensure_articles(args.articles, args.seed)
    data = f"{articles:,} articles, {connection.vendor}"
    connection.close()
    os.environ["RAPPORT_ASSISTANT_IP_LIMIT"] = "100000000"
    os.environ["RAPPORT_ASSISTANT_VISITOR_LIMIT"] = "100000000"
    log = home / "assistant_speed.log"
    server = _serve(args.port, log)
    loads: list[float] = []
    rows: list[list[str]] = []
    try:
        visitor = Visitor(args.port)
        for text in KNOWN + UNKNOWN:  # warm every worker's index and intent model
            visitor.ask(text)
        for label, questions, want in (("answer (index warm)", KNOWN, True),
                                       ("I don't know (index warm)", UNKNOWN, False)):
            times, right = [], 0
            for n in range(args.requests):
                elapsed, body = visitor.ask(questions[n % len(questions)])
                times.append(elapsed)
                right += body["known"] == want
            rows.append(_row(f"POST /w/api/message: {label}", data, times,
                             f"{right}/{len(times)} {'answered' if want else 'declined'}"))
            loads.append(os.getloadavg()[0])
        times = []
        changed = list(Article.objects.filter(slug__startswith="bench-").order_by("id")
                       .values_list("id", flat=True)[: args.changes])
        for n, article_id in enumerate(changed):
            Article.objects.filter(id=article_id).update(updated_at=timezone.now())
            connection.close()
            elapsed, _ = visitor.ask(KNOWN[n % len(KNOWN)])
            times.append(elapsed)
        rows.append(_row("first answer after an article changed (rebuild + calibrate)", data,
                         times, "-", target=None))
        loads.append(os.getloadavg()[0])
    finally:
        _stop(server)
    header = ["what", "data", "p50 ms", "p95 ms", "target p95", "requests", "right",
              "result"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths], *rows]:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    one, five, fifteen = os.getloadavg()
    print(f"load average (1, 5, 15 min) at the end: {one:.2f} {five:.2f} {fifteen:.2f}; "
          f"1-min load after each row: {', '.join(f'{x:.2f}' for x in loads)}; "
          f"{os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
