import pandas as pd
import pytest

from rapport.insights.ml.errors import InsufficientDataError
from rapport.insights.ml.persistence import load_model, save_model
from rapport.insights.ml.recommender import ItemRecommender
from rapport.insights.ml.tests.orders_data import BUNDLES, shop_orders


@pytest.fixture(scope="module")
def fitted():
    orders = shop_orders(200)
    segments = pd.Series(
        {
            c: ("tea lovers" if int(c[1:]) % 3 == 2 else "others")
            for c in orders["customer_id"].unique()
        }
    )
    return ItemRecommender(recent_days=30).fit(orders, segments), orders


def test_also_bought_stays_in_the_bundle(fitted):
    model, _ = fitted
    related = model.also_bought("bread", k=2)
    assert {r["product_id"] for r in related} == {"butter", "jam"}
    assert related[0]["reason"].startswith("bought with bread by ")
    assert model.also_bought("unknown product") == []


def test_next_product_excludes_recent_purchases(fitted):
    model, orders = fitted
    customer = "C0000"  # bundle 0: bread, butter, jam
    mine = orders[orders["customer_id"] == customer]
    recent = set(mine[mine["date"] > mine["date"].max() - pd.Timedelta(days=30)]["product_id"])
    picks = model.next_product(customer, k=3)
    assert len(picks) == 3
    assert not recent & {p["product_id"] for p in picks}
    similar = [p for p in picks if p["reason"].startswith("often bought with")]
    assert {p["product_id"] for p in similar} <= set(BUNDLES[0])


def test_cold_start_uses_segment_popularity(fitted):
    model, _ = fitted
    picks = model.next_product("newcomer", k=2, segment="tea lovers")
    assert {p["product_id"] for p in picks} == {"tea", "cake"}
    assert picks[0]["reason"].startswith("popular in segment tea lovers")
    overall = model.next_product("newcomer", k=1)
    assert overall[0]["reason"].startswith("popular overall")


def test_refuses_single_product_and_saves(tmp_path, fitted):
    orders = shop_orders(20)
    with pytest.raises(InsufficientDataError, match="at least 2 customers and 2 products"):
        ItemRecommender().fit(orders.assign(product_id="bread"))
    model, _ = fitted
    loaded = load_model(save_model(model, tmp_path / "rec.joblib"))
    assert loaded.also_bought("tea") == model.also_bought("tea")
