"""The fact generator's own numbers: what the demo's customers do on the map in `northwind.yaml`.

The map says what exists (stages, steps, channels, touchpoints, personas); these settings say how often
and how well: which event each step fires and how many customers take it, how many go on to the next
stage and when, which channels they use, and how they feel. Every table is laid out along the axes
below, which must name the same stages, channels and personas as the map (the generator checks).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import numpy as np

CURRENT_SLUG = "northwind-current"  # the journey the facts belong to
FUTURE_SLUG = "northwind-future"  # its target state: a map, no facts

# The year of data ends on a fixed date, never today, so a seed always gives the same rows.
DATA_END = dt.datetime(2026, 10, 31, 23, 59, 59)
DATA_DAYS = 365
DATA_START = DATA_END - dt.timedelta(days=DATA_DAYS) + dt.timedelta(seconds=1)

# --- axes of the tables below --------------------------------------------------------------------

STAGES = ("awareness", "consideration", "purchase", "onboarding", "usage", "support", "retention", "advocacy")
CHANNELS = ("web", "mobile-app", "email", "social", "chat", "call-centre", "store")
PERSONAS = ("budget-family", "remote-worker", "small-business", "digital-native")


class StepEvents(NamedTuple):
    event_type: str
    # share of the stage's customers who take this step (in-stage drop-off comes on top); for the steps
    # of an alternative group (see the map), the share of those reaching the group who take this one
    visit_share: float


# every step of the current journey, by stage and step slug
STEP_EVENTS: dict[str, dict[str, StepEvents]] = {
    "awareness": {
        "notice-ad": StepEvents("view", 1.0),
        "check-coverage": StepEvents("check", 0.8),
        "hear-from-others": StepEvents("view", 0.45),
    },
    "consideration": {
        "compare-plans": StepEvents("compare", 1.0),
        "ask-questions": StepEvents("chat", 0.4),
        "visit-store": StepEvents("visit", 0.3),
        "call-sales": StepEvents("call", 0.3),
    },
    "purchase": {
        "choose-bundle": StepEvents("click", 1.0),
        "credit-check": StepEvents("credit_check", 0.9),
        "place-order": StepEvents("order", 0.85),
        "confirmation": StepEvents("email_open", 0.8),
    },
    "onboarding": {
        "book-installation": StepEvents("booking", 1.0),
        "chase-installation": StepEvents("call", 0.55),
        # alternatives: each customer who gets this far takes exactly one; their shares add up to 1
        "installation-visit": StepEvents("install", 0.88),
        "visit-rescheduled": StepEvents("install", 0.12),
        "activate-app": StepEvents("activation", 0.8),
        "first-week": StepEvents("usage", 0.7),
    },
    "usage": {
        "everyday-use": StepEvents("usage", 1.0),
        "first-bill": StepEvents("bill", 0.85),
        "check-usage": StepEvents("view", 0.7),
        "manage-account": StepEvents("click", 0.35),
    },
    "support": {
        "notice-problem": StepEvents("view", 1.0),
        "search-help": StepEvents("search", 0.6),
        "chat-for-help": StepEvents("chat", 0.45),
        "call-support": StepEvents("call", 0.5),
        "resolution": StepEvents("ticket", 0.85),
    },
    "retention": {
        "renewal-notice": StepEvents("email_open", 1.0),
        "compare-market": StepEvents("compare", 0.6),
        "call-to-leave": StepEvents("call", 0.4),
        "renew": StepEvents("renewal", 0.75),
    },
    "advocacy": {
        "rate-app": StepEvents("rating", 1.0),
        "refer-friend": StepEvents("referral", 0.35),
        "post-review": StepEvents("review", 0.3),
    },
}
# some channels only ever record one kind of event, whatever the step
CHANNEL_EVENT_TYPES = {"call-centre": "call", "store": "visit", "chat": "chat"}
PRICED_EVENT_TYPES = ("order", "renewal")  # events that carry the monthly price as their value

# --- customers ------------------------------------------------------------------------------------

PERSONA_MIX = np.array([0.38, 0.27, 0.12, 0.23])  # share of customers per persona
# P(reaching the next stage | reached this one), per persona (rows) and transition (columns)
CONTINUE = np.array(
    [
        [0.72, 0.24, 0.95, 0.90, 0.55, 0.70, 0.30],  # budget-family
        [0.78, 0.36, 0.96, 0.88, 0.60, 0.72, 0.40],  # remote-worker
        [0.70, 0.30, 0.93, 0.85, 0.70, 0.75, 0.30],  # small-business
        [0.75, 0.28, 0.97, 0.94, 0.45, 0.65, 0.45],  # digital-native
    ]
)
# median days from entering a stage to entering the next (the last one: time spent in advocacy)
GAP_MEDIAN_DAYS = np.array([2.0, 6.0, 4.0, 9.0, 25.0, 14.0, 10.0, 5.0])
GAP_SIGMA = 0.8
# extra events per visited step (Poisson mean): repeat visits, repeat contacts in support
REPEAT_RATE = np.array([0.9, 1.1, 0.4, 0.9, 1.8, 1.4, 0.6, 0.2])
# share of each stage's events per channel (web, app, email, social, chat, call centre, store)
CHANNEL_MIX = np.array(
    [
        [0.45, 0.00, 0.00, 0.40, 0.00, 0.00, 0.15],  # awareness
        [0.50, 0.00, 0.00, 0.00, 0.15, 0.15, 0.20],  # consideration
        [0.55, 0.00, 0.10, 0.00, 0.00, 0.15, 0.20],  # purchase
        [0.00, 0.25, 0.25, 0.00, 0.00, 0.25, 0.25],  # onboarding
        [0.25, 0.45, 0.20, 0.10, 0.00, 0.00, 0.00],  # usage
        [0.30, 0.15, 0.00, 0.00, 0.25, 0.30, 0.00],  # support
        [0.00, 0.30, 0.45, 0.00, 0.00, 0.25, 0.00],  # retention
        [0.00, 0.50, 0.25, 0.25, 0.00, 0.00, 0.00],  # advocacy
    ]
)
CHANNEL_AFFINITY = np.array(
    [
        [1.0, 0.8, 1.0, 0.8, 0.8, 1.3, 1.3],  # budget-family
        [1.2, 1.1, 1.0, 0.8, 1.2, 0.9, 0.6],  # remote-worker
        [0.9, 0.7, 1.0, 0.5, 0.6, 1.8, 1.5],  # small-business
        [0.9, 1.8, 0.7, 1.6, 1.4, 0.4, 0.6],  # digital-native
    ]
)
STEP_CHANNEL_SHARE = 0.6  # share of a step's events through the channel of the step's own touchpoint
# monthly bundle price by persona (£), for order and renewal values
MONTHLY_PRICE = np.array([42.0, 55.0, 79.0, 33.0])
HOUR_OF_DAY = np.array(
    [0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.6, 2.0, 2.2, 2.3,
     2.6, 2.5, 2.2, 2.1, 2.2, 2.4, 2.8, 3.1, 3.0, 2.4, 1.5, 0.7]
)  # fmt: skip
DAY_OF_WEEK = np.array([1.0, 0.95, 0.95, 1.0, 1.1, 1.3, 0.85])  # Monday .. Sunday

# --- feedback -------------------------------------------------------------------------------------

# relative chance that an event is followed by an answer, and the measure mix per stage
FEEDBACK_PER_EVENT = 1 / 8
FEEDBACK_WEIGHT = np.array([0.3, 0.5, 1.2, 2.0, 1.2, 2.0, 3.5, 3.0])
MEASURE_MIX = np.array(
    [  # nps, csat, ces, sentiment
        [0.00, 0.30, 0.00, 0.70],  # awareness
        [0.00, 0.55, 0.00, 0.45],  # consideration
        [0.00, 0.70, 0.30, 0.00],  # purchase
        [0.00, 0.45, 0.55, 0.00],  # onboarding
        [0.55, 0.30, 0.00, 0.15],  # usage
        [0.00, 0.50, 0.50, 0.00],  # support
        [0.50, 0.50, 0.00, 0.00],  # retention
        [0.80, 0.00, 0.00, 0.20],  # advocacy
    ]
)
# how a customer feels, on a latent standard-normal scale: the deliberate problem spots live here
STAGE_EFFECT = np.array([0.1, 0.1, 0.3, -1.2, 0.1, -0.2, -0.1, 0.5])
CHANNEL_EFFECT = np.array([0.1, 0.25, 0.0, 0.0, 0.05, -0.9, 0.2])
PERSONA_EFFECT = np.array([-0.1, -0.05, -0.2, 0.15])
TREND_OVER_YEAR = 0.35  # things slowly get better over the year
COMMENT_SHARE = 0.3  # share of answers that come with a comment from comments.yaml
CALL_CENTRE_COMMENT_SHARE = 0.6  # of good and bad call-centre answers, the share that speak of the call
