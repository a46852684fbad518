"""Write the example exports in examples/data/marketplace/ and examples/data/social/ (same seed, same files).

Both are small samples the project makes up, shaped like real exports, each with a known truth that the
dashboard should show once imported through its mapping alone:

- **marketplace**: an order export in three tables (orders with purchase, approval, hand-over to the
  carrier, delivery and promised-delivery times; reviews 1–5 with comments; payments with their type).
  About 7 % of delivered orders arrive after the promised date, and those are rated about 2 stars
  against about 4.3 for orders on time. A few orders get two distinct reviews on one day.
- **social**: posts about the brand with a sentiment label, a reason on negative posts only, the text
  and a time. Customer service is the most common complaint. The export repeats some posts.

    python examples/data/generate_exports.py
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).parent
START = dt.datetime(2023, 1, 2, 8, 0)
DAYS = 730
SEED = 14

ORDERS = 2_400
LATE_SHARE = 0.07
# (score, weight): on time averages about 4.3 stars, late about 2.1
ON_TIME_SCORES = ((5, 0.62), (4, 0.21), (3, 0.08), (2, 0.03), (1, 0.06))
LATE_SCORES = ((5, 0.10), (4, 0.08), (3, 0.12), (2, 0.20), (1, 0.50))
COMMENTS = {
    5: ["Arrived early, perfect", "Great product, well packed", "", ""],
    4: ["Good, as described", "Fine", ""],
    3: ["OK but the box was damaged", "Average", ""],
    2: ["Took far too long to arrive", "Not as described", ""],
    1: ["Never arrived on the promised date", "Still waiting, nobody answers", "Arrived late and broken"],
}
PAYMENT_TYPES = (("credit_card", 0.74), ("boleto", 0.19), ("debit_card", 0.02), ("voucher", 0.05))

POSTS = 3_000
REPEATED_POSTS = 96
SENTIMENTS = (("positive", 0.34), ("neutral", 0.28), ("negative", 0.38))
REASONS = (
    ("customer service", 0.36),
    ("delivery", 0.24),
    ("price", 0.16),
    ("product quality", 0.14),
    ("app", 0.10),
)
TEXTS = {
    "positive": ["Love my new order!", "Fast shipping, thanks", "Great prices this week", "Best shop around"],
    "neutral": ["Anyone tried the new range?", "Ordered today", "Is the sale still on?", "Following"],
    "customer service": ["Support never answers my emails", "On hold for an hour again", "Chat bot is useless"],
    "delivery": ["Parcel is a week late", "Courier left it in the rain", "Tracking says delivered, it is not"],
    "price": ["Prices went up again", "Shipping costs more than the item", "Sale price was fake"],
    "product quality": ["Broke after two days", "Not what the photo shows", "Cheap material"],
    "app": ["App crashes at checkout", "Cannot log in to the app", "App logged me out again"],
}


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...] | tuple[tuple[int, float], ...]) -> object:
    values = [value for value, _ in weighted]
    weights = [weight for _, weight in weighted]
    return rng.choices(values, weights=weights)[0]


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def write_marketplace(folder: Path, rng: random.Random) -> None:
    orders: list[dict[str, object]] = []
    reviews: list[dict[str, object]] = []
    payments: list[tuple[object, ...]] = []
    customers = [f"c{number:05d}" for number in range(1, 1_900)]
    for number in range(1, ORDERS + 1):
        order_id = f"o{number:05d}"
        purchased = START + dt.timedelta(minutes=rng.randrange(DAYS * 24 * 60))
        approved = purchased + dt.timedelta(minutes=rng.randrange(2, 600))
        handed_over = approved + dt.timedelta(hours=rng.randrange(12, 96))
        promised = (purchased + dt.timedelta(days=rng.randrange(10, 25))).replace(hour=0, minute=0, second=0)
        status = "delivered"
        delivered: dt.datetime | None
        late = rng.random() < LATE_SHARE
        if late:
            delivered = promised + dt.timedelta(days=rng.randrange(1, 15), hours=rng.randrange(8, 20))
        else:
            delivered = handed_over + dt.timedelta(hours=rng.randrange(24, 150))
            if delivered >= promised:
                delivered = promised - dt.timedelta(hours=rng.randrange(2, 20))
        cancelled = rng.random() < 0.02
        if cancelled:
            status, handed_over_text, delivered = "canceled", "", None
        else:
            handed_over_text = _stamp(handed_over)
        total = round(rng.lognormvariate(4.2, 0.7), 2)
        orders.append(
            {
                "order_id": order_id,
                "customer_id": rng.choice(customers),
                "order_status": status,
                "purchased_at": _stamp(purchased),
                "approved_at": _stamp(approved),
                "handed_to_carrier_at": handed_over_text,
                "delivered_at": _stamp(delivered) if delivered else "",
                "promised_delivery_at": _stamp(promised),
                "order_total": f"{total:.2f}",
            }
        )
        payment_type = str(_pick(rng, PAYMENT_TYPES))
        if payment_type == "voucher" and total > 30:
            # a voucher covers part of the order; a card pays the rest
            voucher = round(rng.uniform(5, 25), 2)
            payments.append((order_id, 1, "voucher", 1, voucher))
            payments.append((order_id, 2, "credit_card", rng.randrange(1, 6), round(total - voucher, 2)))
        else:
            payments.append((order_id, 1, payment_type, rng.randrange(1, 9) if payment_type == "credit_card" else 1,
                             total))  # fmt: skip
        if delivered is None or rng.random() < 0.06:
            continue  # not every customer reviews
        reviewed_on = (delivered + dt.timedelta(days=rng.randrange(0, 4))).replace(hour=0, minute=0, second=0)
        # two distinct reviews of one order on one day: the export's review id tells them apart
        for _ in range(2 if rng.random() < 0.01 else 1):
            score = int(str(_pick(rng, LATE_SCORES if late else ON_TIME_SCORES)))
            reviews.append(
                {
                    "review_id": f"r{len(reviews) + 1:05d}",
                    "order_id": order_id,
                    "review_score": score,
                    "review_comment": rng.choice(COMMENTS[score]),
                    "review_created_at": _stamp(reviewed_on),
                }
            )
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "orders.csv", list(orders[0]), [list(order.values()) for order in orders])
    _write(folder / "reviews.csv", list(reviews[0]), [list(review.values()) for review in reviews])
    columns = ["order_id", "payment_sequential", "payment_type", "payment_installments", "payment_value"]
    _write(folder / "payments.csv", columns, [list(payment) for payment in payments])


def write_social(folder: Path, rng: random.Random) -> None:
    posts = []
    handles = [f"@user{number:04d}" for number in range(1, 2_200)]
    for number in range(1, POSTS + 1):
        sentiment = str(_pick(rng, SENTIMENTS))
        reason = str(_pick(rng, REASONS)) if sentiment == "negative" else ""
        posted = START + dt.timedelta(seconds=rng.randrange(DAYS * 86_400))
        posts.append(
            [
                f"p{number:06d}",
                posted.strftime("%Y-%m-%dT%H:%M:%SZ"),
                rng.choice(handles),
                sentiment,
                reason,
                rng.choice(TEXTS[reason or sentiment]),
            ]
        )
    # the export tool pages through the feed and repeats posts on page boundaries
    repeated = [posts[index] for index in sorted(rng.sample(range(POSTS), REPEATED_POSTS))]
    rows = sorted(posts + repeated, key=lambda post: post[1])
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "posts.csv", ["post_id", "posted_at", "author", "sentiment", "reason", "text"], rows)


def _write(path: Path, header: list[str], rows: Sequence[Sequence[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as sink:
        writer = csv.writer(sink, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    write_marketplace(HERE / "marketplace", random.Random(SEED))
    write_social(HERE / "social", random.Random(SEED + 1))


if __name__ == "__main__":
    main()
