"""The demo company: Northwind Telecom's experience map, journey maps and a year of generated facts.

`load_demo` replaces everything in the database with a broadband and mobile provider as its CX team
would map it — a current-state journey with its facts, a future-state journey that improves it —
and `ensure_demo` does so only for an empty database (the first run of the dashboard).

The facts are generated from a seed with numpy, fully vectorised and in chunks of customers, so the
same seed and size always give the same rows and 10k or 10M events take bounded memory. The data has
deliberate problem spots for the views to find: onboarding (installation no-shows, slow activation)
and the call centre (hold times) score clearly worse than everything else.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sqlalchemy import Connection, Engine, delete, func, select, text
from sqlalchemy.orm import Session

from data_access.bulk import append_rows, bulk_load
from data_access.metrics import SCALES, Formula
from data_access.models import (
    Base,
    Channel,
    ChannelKind,
    Direction,
    Event,
    Journey,
    JourneyKind,
    Lane,
    LaneItem,
    Measure,
    MetricDefinition,
    Persona,
    Stage,
    Step,
    Touchpoint,
)
from data_access.rollups import refresh_rollups

CURRENT_SLUG = "northwind-current"
FUTURE_SLUG = "northwind-future"

# The year of data ends on a fixed date, never today, so a seed always gives the same rows.
DATA_END = dt.datetime(2026, 10, 31, 23, 59, 59)
DATA_DAYS = 365
DATA_START = DATA_END - dt.timedelta(days=DATA_DAYS) + dt.timedelta(seconds=1)

# --- map content ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageSpec:
    slug: str
    name: str
    description: str


STAGES: tuple[StageSpec, ...] = (
    StageSpec(
        "awareness",
        "Awareness",
        "People notice Northwind: a social ad, a shop window on the high street, a friend's recommendation, "
        "and the first question — can I even get full fibre at my address?",
    ),
    StageSpec(
        "consideration",
        "Consideration",
        "Comparing plans, speeds and contract terms against the competition, online, on the sales line or "
        "with an advisor in store.",
    ),
    StageSpec(
        "purchase",
        "Purchase",
        "Choosing a bundle, passing the credit check and placing the order, online, by phone or in store.",
    ),
    StageSpec(
        "onboarding",
        "Onboarding",
        "From order to working service: booking the installation, the engineer visit, setting up the router "
        "and activating the app and SIMs.",
    ),
    StageSpec(
        "usage",
        "Usage",
        "Everyday life on the network: streaming, working from home, the first bill and managing the account "
        "in the app.",
    ),
    StageSpec(
        "support",
        "Support",
        "Something breaks or a bill looks wrong: searching help, chatting, calling, and getting it fixed.",
    ),
    StageSpec(
        "retention",
        "Retention",
        "The contract nears its end: the renewal offer, comparing the market, and the call to negotiate or leave.",
    ),
    StageSpec(
        "advocacy",
        "Advocacy",
        "Happy customers rate us, review us and refer friends; unhappy ones post about us too.",
    ),
)


@dataclass(frozen=True)
class ChannelSpec:
    slug: str
    name: str
    kind: ChannelKind


CHANNELS: tuple[ChannelSpec, ...] = (
    ChannelSpec("web", "Website", ChannelKind.DIGITAL),
    ChannelSpec("mobile-app", "Mobile app", ChannelKind.DIGITAL),
    ChannelSpec("email", "Email", ChannelKind.DIGITAL),
    ChannelSpec("social", "Social media", ChannelKind.DIGITAL),
    ChannelSpec("chat", "Live chat", ChannelKind.DIGITAL),
    ChannelSpec("call-centre", "Call centre", ChannelKind.HUMAN),
    ChannelSpec("store", "Stores and field engineers", ChannelKind.PHYSICAL),
)


@dataclass(frozen=True)
class TouchpointSpec:
    stage: str
    channel: str
    slug: str
    name: str
    description: str
    owner: str
    moment_of_truth: bool = False


TOUCHPOINTS: tuple[TouchpointSpec, ...] = (
    # awareness
    TouchpointSpec("awareness", "social", "social-ads", "Social media ads",
                   "Paid campaigns on Instagram, TikTok and Facebook promoting full-fibre bundles.", "Brand marketing"),
    TouchpointSpec("awareness", "web", "coverage-checker", "Coverage checker",
                   "Postcode and address lookup for fibre speeds and 5G coverage.", "Digital sales"),
    TouchpointSpec("awareness", "store", "shop-window", "High-street shop window",
                   "Window displays and in-store promotions in 140 Northwind shops.", "Retail"),
    # consideration
    TouchpointSpec("consideration", "web", "plan-comparison", "Plan comparison page",
                   "Side-by-side broadband, mobile and bundle plans with speeds and prices.", "Digital sales"),
    TouchpointSpec("consideration", "chat", "pre-sales-chat", "Pre-sales chat",
                   "Chat with the online sales team from the plan pages.", "Digital sales"),
    TouchpointSpec("consideration", "call-centre", "sales-line", "Sales line",
                   "Inbound sales calls, including customers negotiating a better deal.", "Telesales"),
    TouchpointSpec("consideration", "store", "in-store-advisor", "In-store sales advisor",
                   "Advisors who demo phones and routers and explain plans face to face.", "Retail"),
    # purchase
    TouchpointSpec("purchase", "web", "online-checkout", "Online checkout",
                   "Basket, credit check and payment details for new customers.", "Digital sales"),
    TouchpointSpec("purchase", "call-centre", "phone-order", "Phone order",
                   "Orders placed with a telesales agent.", "Telesales"),
    TouchpointSpec("purchase", "store", "in-store-signup", "In-store sign-up",
                   "Contract signed in store, with the phone handed over on the spot.", "Retail"),
    TouchpointSpec("purchase", "email", "order-confirmation", "Order confirmation email",
                   "Order summary, contract documents and what happens next.", "CRM"),
    # onboarding
    TouchpointSpec("onboarding", "email", "installation-booking", "Installation booking email",
                   "Invitation to choose an engineer slot, with reminders.", "Field operations"),
    TouchpointSpec("onboarding", "call-centre", "installation-helpline", "Installation helpline",
                   "Where customers call to move or chase an installation appointment.", "Customer operations"),
    TouchpointSpec("onboarding", "store", "engineer-visit", "Engineer installation visit",
                   "A field engineer connects the line and sets up the router at home.", "Field operations",
                   moment_of_truth=True),
    TouchpointSpec("onboarding", "mobile-app", "app-activation", "App activation and Wi-Fi setup",
                   "First login, SIM activation and guided router setup in the Northwind app.", "Digital product"),
    # usage
    TouchpointSpec("usage", "email", "first-bill", "First bill",
                   "The first full bill, including pro-rata charges and add-ons.", "Billing",
                   moment_of_truth=True),
    TouchpointSpec("usage", "mobile-app", "billing-app", "Billing app",
                   "Bills, payments, data usage and plan changes in the app.", "Digital product"),
    TouchpointSpec("usage", "web", "my-account", "My Northwind account",
                   "The web account portal for bills, plans and extra lines.", "Digital product"),
    TouchpointSpec("usage", "social", "community-forum", "Community forum",
                   "Customers helping customers, moderated by Northwind staff.", "Customer operations"),
    # support
    TouchpointSpec("support", "web", "help-centre", "Help centre articles",
                   "Searchable guides for faults, billing and devices.", "Digital product"),
    TouchpointSpec("support", "chat", "help-centre-chat", "Help centre chat",
                   "Bot first, then a human agent, for faults and billing questions.", "Customer operations"),
    TouchpointSpec("support", "call-centre", "support-line", "Customer support line",
                   "Technical and billing support by phone; the first call sets the tone.", "Customer operations",
                   moment_of_truth=True),
    TouchpointSpec("support", "mobile-app", "fault-tracker", "Fault tracker",
                   "Live status of a reported fault and of engineer visits in the app.", "Digital product"),
    # retention
    TouchpointSpec("retention", "email", "renewal-offer", "Renewal offer email",
                   "The end-of-contract notice with the personalised renewal price.", "CRM",
                   moment_of_truth=True),
    TouchpointSpec("retention", "call-centre", "retentions-team", "Retentions team",
                   "The team customers reach when they call to leave.", "Customer operations"),
    TouchpointSpec("retention", "mobile-app", "in-app-upgrade", "In-app upgrade offer",
                   "Upgrade and re-contract offers in the app.", "Digital product"),
    # advocacy
    TouchpointSpec("advocacy", "mobile-app", "in-app-rating", "In-app rating prompt",
                   "Asks happy customers to rate the app and recommend Northwind.", "Digital product"),
    TouchpointSpec("advocacy", "email", "refer-a-friend", "Refer-a-friend email",
                   "£50 credit for each friend who joins.", "CRM"),
    TouchpointSpec("advocacy", "social", "public-reviews", "Public reviews and social posts",
                   "Trustpilot reviews and social mentions, answered by the social care team.", "Brand marketing"),
)  # fmt: skip


@dataclass(frozen=True)
class PersonaSpec:
    slug: str
    name: str
    description: str
    goals: str
    frustrations: str
    thinks: str
    feels: str
    says: str
    does: str


PERSONAS: tuple[PersonaSpec, ...] = (
    PersonaSpec(
        "budget-family",
        "Budget-conscious family",
        "Sam and Priya, two kids, one income and a half; broadband, three SIMs and a TV add-on on one bill.",
        "A reliable connection for homework and streaming; one predictable monthly price; no surprises.",
        "Price rises mid-contract, hidden charges on the first bill, waiting in for an engineer who never comes.",
        "Are we paying more than we need to? Will the price jump after the first year?",
        "Stretched; wary of being upsold; relieved when things just work.",
        '"Just tell me what it will cost every month, all in."',
        "Compares prices on comparison sites, calls to haggle at renewal, pays by direct debit.",
    ),
    PersonaSpec(
        "remote-worker",
        "Remote worker",
        "Alex, a software consultant working from home four days a week; video calls all day.",
        "Fast, stable upload speeds; quick fixes when the line drops; a backup on mobile data.",
        "Outages during client calls, scripted first-line support, slow engineer appointments.",
        "If the line goes down I lose a day's work.",
        "Anxious about reliability; impatient with scripts.",
        '"I don\'t need you to ask me to restart the router, I did that an hour ago."',
        "Runs speed tests, reads forums, reports faults in the app, escalates on social media.",
    ),
    PersonaSpec(
        "small-business",
        "Small business owner",
        "Maria runs a café with six staff; card machines, guest Wi-Fi and two business mobiles.",
        "No downtime during opening hours; one contact who knows her account; clear VAT invoices.",
        "Being treated like a consumer, long hold times, installation windows during opening hours.",
        "Every hour offline costs me sales.",
        "Time-poor; frustrated when she has to repeat herself.",
        '"Can someone just call me back when it\'s sorted?"',
        "Calls rather than chats, visits the store next door, keeps a spare 4G router.",
    ),
    PersonaSpec(
        "digital-native",
        "Digital native",
        "Jordan, 23, first flat share; mobile-first, never phones anyone.",
        "Everything in the app, instantly; a good phone deal; fair data allowances.",
        "Having to call to do anything, paper letters, slow chat bots.",
        "Why can't I just do this in the app?",
        "Confident online; annoyed by friction; loyal when things are slick.",
        '"If I have to call, I\'m switching."',
        "Signs up on the app, uses chat and social for support, shares referral codes with friends.",
    ),
)
PERSONA_MIX = np.array([0.38, 0.27, 0.12, 0.23])  # share of customers per persona, in PERSONAS order


@dataclass(frozen=True)
class LaneSpec:
    lane: Lane
    text: str
    persona: str | None = None
    emotion: float | None = None
    severity: int | None = None
    evidence: str | None = None
    owner: str | None = None
    status: str | None = None
    impact: int | None = None
    effort: int | None = None


def action(text: str, persona: str | None = None) -> LaneSpec:
    return LaneSpec(Lane.ACTION, text, persona)


def thought(text: str, persona: str | None = None) -> LaneSpec:
    return LaneSpec(Lane.THOUGHT, text, persona)


def emotion(value: float, text: str, persona: str | None = None) -> LaneSpec:
    return LaneSpec(Lane.EMOTION, text, persona, emotion=value)


def pain(text: str, severity: int, evidence: str, persona: str | None = None) -> LaneSpec:
    return LaneSpec(Lane.PAIN_POINT, text, persona, severity=severity, evidence=evidence)


def opportunity(text: str, owner: str, status: str, impact: int, effort: int, persona: str | None = None) -> LaneSpec:
    return LaneSpec(Lane.OPPORTUNITY, text, persona, owner=owner, status=status, impact=impact, effort=effort)


def backstage(text: str) -> LaneSpec:
    return LaneSpec(Lane.BACKSTAGE, text)


@dataclass(frozen=True)
class StepSpec:
    slug: str
    name: str
    description: str
    touchpoint: str | None
    event_type: str
    visit_share: float  # share of the stage's customers who take this step (in-stage drop-off comes on top)
    lanes: tuple[LaneSpec, ...] = field(default_factory=tuple)


CURRENT_STEPS: dict[str, tuple[StepSpec, ...]] = {
    "awareness": (
        StepSpec("notice-ad", "Notices Northwind", "Sees an ad, a shop window or a friend's post.", "social-ads",
                 "view", 1.0, (
                     action("Scrolls past a full-fibre ad; taps through to the offer"),
                     thought("\"900 Mb for £35? What's the catch?\""),
                     emotion(0.5, "Curious"),
                     backstage("Paid social campaigns bought weekly by brand marketing"),
                 )),
        StepSpec("check-coverage", "Checks coverage at home", "Enters a postcode in the coverage checker.",
                 "coverage-checker", "check", 0.8, (
                     action("Enters postcode and picks the address"),
                     thought("\"Please let full fibre be available on our street.\""),
                     emotion(0.0, "Hopeful, slightly anxious"),
                     pain("Checker says 'fibre coming soon' with no date", 3,
                          "12% of coverage checks end on 'coming soon'; 430 chat questions a month ask when"),
                     opportunity("Show expected build dates and let people register interest", "Network planning",
                                 "in progress", 3, 3),
                     backstage("Address database synced nightly from the network build plan"),
                 )),
        StepSpec("hear-from-others", "Hears from friends and family", "Asks around; reads reviews.", None,
                 "view", 0.45, (
                     action("Asks the family group chat who they're with"),
                     thought("\"My sister says Northwind's fine once it's set up.\"", "budget-family"),
                     emotion(0.5, "Reassured by people they trust"),
                 )),
    ),
    "consideration": (
        StepSpec("compare-plans", "Compares plans", "Plan comparison page, comparison sites, competitors.",
                 "plan-comparison", "compare", 1.0, (
                     action("Filters plans by speed and price; opens three tabs of competitors"),
                     thought("\"Which of these is 'up to' and which is guaranteed?\""),
                     emotion(0.0, "Weighing it up"),
                     pain("Bundle prices after month 12 are in the small print", 4,
                          "Top theme in consideration exit survey (31% of comments)", "budget-family"),
                     opportunity("Show the 24-month total cost on every plan card", "Digital sales", "done", 4, 2),
                 )),
        StepSpec("ask-questions", "Asks about speeds and terms", "Pre-sales chat from the plan pages.",
                 "pre-sales-chat", "chat", 0.4, (
                     action("Asks chat about upload speeds and the contract length"),
                     thought("\"I need at least 50 up for video calls.\"", "remote-worker"),
                     emotion(0.5, "Quick answers feel good"),
                     backstage("Sales chat staffed 8am–10pm; bot hands over after two questions"),
                 )),
        StepSpec("visit-store", "Visits a store", "Tries phones and talks to an advisor.", "in-store-advisor",
                 "visit", 0.3, (
                     action("Tries the new phones and asks about family SIM discounts"),
                     thought("\"The advisor actually explained the bundle properly.\""),
                     emotion(1.0, "Looked after"),
                     emotion(0.5, "Has to fit a store visit into opening hours", "small-business"),
                 )),
        StepSpec("call-sales", "Calls the sales line", "Negotiates a deal by phone.", "sales-line", "call",
                 0.3, (
                     action("Calls to ask for the online price plus a free upgrade"),
                     thought("\"Twenty minutes on hold just to buy something.\""),
                     emotion(-1.0, "Impatient"),
                     pain("Sales line waits of 15+ minutes at evening peaks", 3,
                          "Telephony reports: median wait 11 min, 18% abandon"),
                     opportunity("Offer a call-back slot instead of the queue", "Telesales", "open", 3, 2),
                 )),
    ),
    "purchase": (
        StepSpec("choose-bundle", "Chooses a bundle", "Picks speed, SIMs and add-ons.", "online-checkout",
                 "click", 1.0, (
                     action("Adds broadband, two SIMs and the TV add-on to the basket"),
                     thought("\"OK, this is the one.\""),
                     emotion(1.0, "Decided"),
                 )),
        StepSpec("credit-check", "Passes the credit check", "Soft, then hard credit check.", None,
                 "credit_check", 0.9, (
                     action("Enters address history and bank details"),
                     thought("\"Why do you need three years of addresses?\"", "digital-native"),
                     emotion(-0.5, "Exposed"),
                     pain("Credit check fails for people who recently moved", 3,
                          "7% of checkouts fail the check; half are under 25", "digital-native"),
                     backstage("Credit bureau API; manual review queue for refers"),
                 )),
        StepSpec("place-order", "Places the order", "Online, on the phone or in store.", "in-store-signup",
                 "order", 0.85, (
                     action("Confirms the order and the installation date"),
                     thought("\"Done — fingers crossed for the installation.\""),
                     emotion(1.0, "Relieved"),
                     opportunity("Let customers pick the engineer slot at checkout", "Field operations",
                                 "in progress", 5, 4),
                 )),
        StepSpec("confirmation", "Gets the confirmation", "Order confirmation email and contract documents.",
                 "order-confirmation", "email_open", 0.8, (
                     action("Reads the order confirmation and saves the contract PDF"),
                     thought("\"Why is the monthly price different from the website?\"", "budget-family"),
                     emotion(0.5, "Mostly reassured"),
                     backstage("Order created in the BSS; confirmation sent by the CRM within 5 minutes"),
                 )),
    ),
    "onboarding": (
        StepSpec("book-installation", "Books the installation", "Chooses an engineer slot from the email.",
                 "installation-booking", "booking", 1.0, (
                     action("Picks the first available slot — eleven days away"),
                     thought("\"Eleven days? And it's an all-day window?\""),
                     emotion(-1.0, "Deflated"),
                     emotion(-2.0, "An all-day slot means closing the café", "small-business"),
                     pain("Only all-day (8am–6pm) installation windows", 4,
                          "CES 3.9 on booking; 'all day' in 22% of onboarding comments"),
                     opportunity("Offer AM/PM slots and Saturday installs", "Field operations", "open", 5, 4),
                     backstage("Slots come from the field-force scheduler, released 14 days ahead"),
                 )),
        StepSpec("chase-installation", "Chases the appointment", "Calls the installation helpline.",
                 "installation-helpline", "call", 0.55, (
                     action("Calls to check the engineer is still coming"),
                     thought("\"No text, no email — is anyone actually coming?\""),
                     emotion(-1.5, "Anxious"),
                     pain("No proactive updates before the visit", 4,
                          "38% of onboarding calls are 'where is my engineer'"),
                     opportunity("Send engineer-on-the-way texts with live tracking", "Digital product",
                                 "in progress", 5, 3),
                 )),
        StepSpec("installation-visit", "Installation visit", "The engineer connects the line and the router.",
                 "engineer-visit", "install", 0.9, (
                     action("Waits in all day; engineer arrives or the visit is rescheduled"),
                     thought("\"I took a day off for this and nobody turned up.\""),
                     emotion(-1.0, "Frustrated when it slips, delighted when it works first time"),
                     emotion(-2.0, "A missed visit means a lost working day", "remote-worker"),
                     pain("Engineer no-shows and missed appointments", 5,
                          "9% of visits missed or rescheduled on the day; CSAT 41% on those orders"),
                     opportunity("Automatic £30 credit and priority rebooking for missed visits", "Customer operations",
                                 "open", 4, 2),
                     backstage("Subcontracted field force; jobs allocated the evening before"),
                 )),
        StepSpec("activate-app", "Activates the app and Wi-Fi", "Logs in, activates SIMs, sets up Wi-Fi.",
                 "app-activation", "activation", 0.8, (
                     action("Scans the router QR code and activates the SIMs in the app"),
                     thought("\"That was actually easy.\"", "digital-native"),
                     emotion(0.5, "Finally connected"),
                     pain("SIM activation can take up to 24 hours", 3, "Activation logs: p90 19 hours"),
                 )),
        StepSpec("first-week", "First week online", "Speeds settle; the first problems show up.", None, "usage",
                 0.7, (
                     action("Runs speed tests; moves the router around the house"),
                     thought("\"Upload is half of what they promised.\"", "remote-worker"),
                     emotion(0.0, "Cautiously OK"),
                     backstage("Line stabilisation period; DLM adjusts the profile over 10 days"),
                 )),
    ),
    "usage": (
        StepSpec("everyday-use", "Everyday use", "Streaming, working, gaming.", None, "usage", 1.0, (
            action("Streams, works from home and games without thinking about the network"),
            thought("\"It just works — which is all I want.\""),
            emotion(1.0, "Content"),
        )),
        StepSpec("first-bill", "Receives the first bill", "The first full bill arrives by email.", "first-bill",
                 "bill", 0.85, (
                     action("Opens the first bill and compares it with the order"),
                     thought("\"Why is it £61 when I signed up for £35?\""),
                     emotion(-1.0, "Surprised, not in a good way"),
                     pain("Pro-rata charges make the first bill look wrong", 4,
                          "First-bill calls are 27% of all billing calls"),
                     opportunity("Explain pro-rata lines on the first bill in plain words", "Billing", "done", 4, 1),
                     backstage("Bill run on the 3rd; pro-rata from activation date"),
                 )),
        StepSpec("check-usage", "Checks usage and bills in the app", "Data usage, payments, bill history.",
                 "billing-app", "view", 0.7, (
                     action("Checks data left on each SIM in the billing app"),
                     thought("\"Handy — I can see the kids' data too.\"", "budget-family"),
                     emotion(1.0, "In control"),
                 )),
        StepSpec("manage-account", "Manages the account", "Adds a line, changes plan, updates payment.",
                 "my-account", "click", 0.35, (
                     action("Adds a SIM for a new employee", "small-business"),
                     thought("\"Why can't I download a VAT invoice?\"", "small-business"),
                     emotion(-0.5, "Mildly annoyed"),
                     pain("No VAT invoices in the consumer portal", 3, "Business-tagged chats: 14% ask for invoices",
                          "small-business"),
                     opportunity("Add VAT invoices to My Northwind", "Billing", "open", 3, 2, "small-business"),
                 )),
    ),
    "support": (
        StepSpec("notice-problem", "Notices a problem", "A fault, a slow line or a wrong bill.", None, "view", 1.0,
                 (
                     action("Restarts the router; checks the status page"),
                     thought("\"Is it me or is it Northwind?\""),
                     emotion(-1.0, "Worried"),
                 )),
        StepSpec("search-help", "Searches the help centre", "Reads help articles.", "help-centre", "search", 0.6, (
            action("Searches 'internet keeps dropping'"),
            thought("\"These articles all say restart the router.\""),
            emotion(-0.5, "Unconvinced"),
            opportunity("Show live line status and known outages on help articles", "Digital product", "open", 3, 3),
        )),
        StepSpec("chat-for-help", "Chats with support", "Bot, then an agent.", "help-centre-chat", "chat", 0.45, (
            action("Starts a chat; the bot hands over to an agent after three questions"),
            thought("\"Quick and sorted, without phoning.\"", "digital-native"),
            emotion(0.5, "Relieved when it works"),
            backstage("Chat agents can run line tests but not book engineers"),
            opportunity("Let chat agents book engineer visits", "Customer operations", "in progress", 4, 3),
        )),
        StepSpec("call-support", "Calls the support line", "The first support call.", "support-line", "call", 0.5, (
            action("Calls support; goes through the IVR; waits on hold"),
            thought("\"Forty minutes on hold and then I got cut off.\""),
            emotion(-2.0, "Exasperated"),
            emotion(-2.0, "Losing sales while on hold", "small-business"),
            pain("Long hold times and transfers between teams", 5,
                 "Median hold 23 min at peak; 2.4 transfers per fault call; CSAT 52%"),
            pain("Scripted troubleshooting repeats what the customer already did", 4,
                 "Verbatims: 'restart the router' in 17% of call-centre comments", "remote-worker"),
            opportunity("Call-back instead of hold, with the line test already run", "Customer operations",
                        "in progress", 5, 3),
            opportunity("Business priority queue", "Customer operations", "open", 3, 2, "small-business"),
            backstage("Outsourced tier 1; fault tickets routed to network operations"),
        )),
        StepSpec("resolution", "Gets it fixed", "Fault fixed or credit applied.", "fault-tracker", "ticket", 0.85,
                 (
                     action("Follows the fault in the app until it is closed"),
                     thought("\"Fixed, finally. Will I get anything back for the downtime?\""),
                     emotion(0.0, "Relieved but tired"),
                     pain("Compensation has to be claimed by phone", 3, "Automatic compensation not live for fibre"),
                     backstage("Ofcom automatic compensation rules; credits applied by billing"),
                 )),
    ),
    "retention": (
        StepSpec("renewal-notice", "Gets the renewal offer", "End-of-contract notice with the new price.",
                 "renewal-offer", "email_open", 1.0, (
                     action("Reads the end-of-contract email"),
                     thought("\"My price is going up by £12 for staying loyal?\""),
                     emotion(-1.0, "Taken for granted"),
                     pain("Out-of-contract price higher than new-customer offers", 4,
                          "Retention calls quoting competitor offers: 58%", "budget-family"),
                     opportunity("Offer loyal customers the new-customer price up front", "CRM", "open", 5, 3),
                     backstage("Renewal offers priced by the pricing team 90 days before contract end"),
                 )),
        StepSpec("compare-market", "Compares the market", "Comparison sites and competitor offers.", None,
                 "compare", 0.6, (
                     action("Checks comparison sites for the same speed"),
                     thought("\"Everyone else is cheaper for new customers.\""),
                     emotion(-0.5, "Tempted to switch"),
                 )),
        StepSpec("call-to-leave", "Calls to negotiate or leave", "The retentions team.", "retentions-team", "call",
                 0.4, (
                     action("Calls and says they're leaving unless the price drops"),
                     thought("\"Why do I have to threaten to leave to get a fair price?\""),
                     emotion(-1.0, "Combative"),
                     pain("Best offers only available by calling retentions", 4,
                          "Retentions team saves 62% of callers, with a median 19% discount"),
                     backstage("Retention offers matrix refreshed monthly"),
                 )),
        StepSpec("renew", "Renews or upgrades", "Re-contracts in the app or on the phone.", "in-app-upgrade",
                 "renewal", 0.75, (
                     action("Accepts the upgrade offer in the app"),
                     thought("\"Faster and not more expensive — fine, I'll stay.\""),
                     emotion(1.0, "Satisfied"),
                     opportunity("Personalised upgrade offers in the app 60 days before contract end",
                                 "Digital product", "done", 4, 2),
                 )),
    ),
    "advocacy": (
        StepSpec("rate-app", "Rates Northwind", "The in-app rating and NPS prompt.", "in-app-rating", "rating", 1.0,
                 (
                     action("Gives 9/10 in the in-app survey"),
                     thought("\"Honestly, since the installation it's been great.\""),
                     emotion(1.5, "Positive"),
                     backstage("Relationship NPS sent quarterly; prompt suppressed after a fault"),
                 )),
        StepSpec("refer-friend", "Refers a friend", "Shares a referral code.", "refer-a-friend", "referral", 0.35, (
            action("Shares a referral code with a flatmate"),
            thought("\"£50 each? Easy.\"", "digital-native"),
            emotion(1.5, "Generous"),
            opportunity("Make the referral code shareable from the app home screen", "CRM", "done", 3, 1),
        )),
        StepSpec("post-review", "Posts a public review", "Trustpilot, X, TikTok.", "public-reviews", "review", 0.3, (
            action("Posts a review — glowing or scathing"),
            thought("\"People should know about the installation fiasco.\"", "remote-worker"),
            emotion(0.5, "Wants to be heard"),
            pain("Negative reviews cite onboarding long after it is fixed", 3,
                 "41% of 1–2 star reviews mention installation"),
            opportunity("Reply to every review within 24 hours", "Brand marketing", "in progress", 2, 2),
        )),
    ),
}  # fmt: skip


FUTURE_STEPS: dict[str, tuple[StepSpec, ...]] = {
    "awareness": (
        StepSpec("discover", "Discovers Northwind", "Through a friend's referral or a targeted ad.", "social-ads",
                 "view", 1.0, (
                     action("Follows a friend's referral link"),
                     emotion(1.0, "Trusts the recommendation"),
                 )),
        StepSpec("check-coverage", "Checks coverage with a build date", "Sees today's speed or the date fibre arrives.",
                 "coverage-checker", "check", 1.0, (
                     action("Sees 'full fibre from March' and registers interest"),
                     emotion(1.0, "Knows where they stand"),
                     opportunity("Build dates in the coverage checker", "Network planning", "in progress", 3, 3),
                     backstage("Network build plan published to the checker weekly"),
                 )),
    ),
    "consideration": (
        StepSpec("compare-plans", "Compares total cost", "Every plan shows its 24-month cost.", "plan-comparison",
                 "compare", 1.0, (
                     action("Compares 24-month totals across three plans"),
                     emotion(1.0, "Confident there is no catch"),
                 )),
        StepSpec("get-advice", "Gets advice without waiting", "Chat or a call-back at a chosen time.",
                 "pre-sales-chat", "chat", 1.0, (
                     action("Books a call-back for 7pm instead of holding"),
                     emotion(1.0, "Respected"),
                     opportunity("Call-back slots on the sales line", "Telesales", "open", 3, 2),
                 )),
        StepSpec("visit-store", "Visits a store", "An advisor with the same offers as online.",
                 "in-store-advisor", "visit", 1.0, (
                     action("Gets the online price in store"),
                     emotion(1.5, "Looked after"),
                 )),
    ),
    "purchase": (
        StepSpec("order", "Orders and books the engineer at once", "Checkout includes the installation slot.",
                 "online-checkout", "order", 1.0, (
                     action("Chooses a Saturday morning slot during checkout"),
                     emotion(1.5, "Everything sorted in one go"),
                     opportunity("Engineer slot picker at checkout", "Field operations", "in progress", 5, 4),
                     backstage("Checkout calls the field-force scheduler live"),
                 )),
        StepSpec("confirmation", "Gets a clear confirmation", "All-in monthly price and what happens next.",
                 "order-confirmation", "email_open", 1.0, (
                     action("Reads a one-page summary with the all-in price"),
                     emotion(1.0, "Reassured"),
                 )),
    ),
    "onboarding": (
        StepSpec("track-engineer", "Tracks the engineer", "Texts the day before and live tracking on the day.",
                 "engineer-visit", "install", 1.0, (
                     action("Follows the engineer on a map; gets a 30-minute heads-up"),
                     emotion(1.0, "In control of the day"),
                     opportunity("Engineer-on-the-way texts with live tracking", "Digital product", "in progress", 5,
                                 3),
                     backstage("Field-force app shares location with the customer app"),
                 )),
        StepSpec("installation-visit", "Installation in a two-hour slot", "Connected first time.", "engineer-visit",
                 "install", 1.0, (
                     action("Engineer installs and tests Wi-Fi in every room"),
                     emotion(1.5, "Delighted"),
                     opportunity("Automatic credit and priority rebooking for a missed visit", "Customer operations",
                                 "open", 4, 2),
                 )),
        StepSpec("activate-app", "Activates everything in the app", "SIMs live in minutes.", "app-activation",
                 "activation", 1.0, (
                     action("Activates SIMs and Wi-Fi in five minutes"),
                     emotion(1.5, "Effortless"),
                     opportunity("Instant eSIM activation", "Digital product", "open", 3, 3),
                 )),
    ),
    "usage": (
        StepSpec("first-bill", "A first bill that makes sense", "Pro-rata explained in plain words.", "first-bill",
                 "bill", 1.0, (
                     action("Reads a first bill that explains the pro-rata charge"),
                     emotion(1.0, "No surprises"),
                     opportunity("Plain-words first bill", "Billing", "done", 4, 1),
                 )),
        StepSpec("manage-in-app", "Manages everything in the app", "Including VAT invoices for businesses.",
                 "billing-app", "view", 1.0, (
                     action("Downloads a VAT invoice from the app", "small-business"),
                     emotion(1.0, "Self-sufficient"),
                     opportunity("VAT invoices in the app", "Billing", "open", 3, 2, "small-business"),
                 )),
    ),
    "support": (
        StepSpec("proactive-alert", "Gets told about a fault first", "Outage alerts before the customer notices.",
                 "fault-tracker", "view", 1.0, (
                     action("Gets a push notification about a local outage with a fix time"),
                     emotion(0.5, "Informed"),
                     opportunity("Proactive outage notifications", "Network operations", "open", 4, 4),
                     backstage("Network monitoring triggers customer notifications by postcode"),
                 )),
        StepSpec("call-back", "Gets a call-back, not a queue", "The line test is already done.", "support-line",
                 "call", 1.0, (
                     action("Requests a call-back; the agent already knows the line test result"),
                     emotion(1.0, "Taken seriously"),
                     opportunity("Call-back with the line test already run", "Customer operations", "in progress", 5,
                                 3),
                 )),
        StepSpec("auto-compensation", "Compensated automatically", "Credit applied without asking.",
                 "fault-tracker", "ticket", 1.0, (
                     action("Sees the compensation credit on the next bill"),
                     emotion(1.0, "Fairly treated"),
                 )),
    ),
    "retention": (
        StepSpec("fair-renewal", "Gets a fair renewal price", "The best price offered up front.", "renewal-offer",
                 "email_open", 1.0, (
                     action("Accepts the loyalty price from the email"),
                     emotion(1.0, "Valued"),
                     opportunity("New-customer price for loyal customers", "CRM", "open", 5, 3),
                 )),
        StepSpec("upgrade-in-app", "Upgrades in the app", "One tap, no call.", "in-app-upgrade", "renewal", 1.0, (
            action("Upgrades speed in the app"),
            emotion(1.5, "Pleased"),
        )),
    ),
    "advocacy": (
        StepSpec("recommend", "Recommends Northwind", "Refers friends and rates us.", "refer-a-friend", "referral",
                 1.0, (
                     action("Shares a referral code from the app home screen"),
                     emotion(1.5, "Proud of the choice"),
                 )),
        StepSpec("review", "Leaves a positive review", "Reviews answered within 24 hours.", "public-reviews",
                 "review", 1.0, (
                     action("Posts a 5-star review about the installation"),
                     emotion(1.5, "Enthusiastic"),
                     opportunity("Reply to every review within a day", "Brand marketing", "in progress", 2, 2),
                 )),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class MetricSpec:
    key: str
    label: str
    formula: Formula
    target: float
    warning: float
    direction: Direction = Direction.HIGHER
    unit: str = ""
    stage: str | None = None
    touchpoint: str | None = None  # "stage/touchpoint-slug"


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("nps", "Net Promoter Score", Formula.NPS, 30, 10, unit="points"),
    MetricSpec("csat", "Customer satisfaction", Formula.CSAT, 80, 5, unit="%"),
    MetricSpec("ces", "Customer effort (7 = very easy)", Formula.CES, 5.0, 0.5, unit="1–7"),
    MetricSpec("sentiment", "Comment sentiment", Formula.SENTIMENT, 20, 10, unit="points"),
    MetricSpec("conversion_consideration", "Aware → considering", Formula.CONVERSION, 0.75, 0.05,
               unit="share", stage="consideration"),
    MetricSpec("conversion", "Considering → ordering", Formula.CONVERSION, 0.30, 0.05,
               unit="share", stage="purchase"),
    MetricSpec("conversion_onboarding", "Ordered → installing", Formula.CONVERSION, 0.97, 0.02,
               unit="share", stage="onboarding"),
    MetricSpec("conversion_usage", "Installed → live service", Formula.CONVERSION, 0.92, 0.03,
               unit="share", stage="usage"),
    MetricSpec("conversion_support", "Customers who need support", Formula.CONVERSION, 0.45, 0.10,
               Direction.LOWER, unit="share", stage="support"),
    MetricSpec("conversion_retention", "Reaching contract renewal", Formula.CONVERSION, 0.75, 0.05,
               unit="share", stage="retention"),
    MetricSpec("conversion_advocacy", "Renewed → advocating", Formula.CONVERSION, 0.35, 0.05,
               unit="share", stage="advocacy"),
    MetricSpec("drop_off_purchase", "Drop-off before ordering", Formula.DROP_OFF, 0.70, 0.05,
               Direction.LOWER, unit="share", stage="purchase"),
    MetricSpec("time_to_live", "Order to live service", Formula.TIME_TO_NEXT, 7, 3, Direction.LOWER,
               unit="days", stage="onboarding"),
    MetricSpec("csat_onboarding", "Onboarding satisfaction", Formula.CSAT, 80, 5, unit="%", stage="onboarding"),
    MetricSpec("ces_onboarding", "Onboarding effort", Formula.CES, 5.0, 0.5, unit="1–7", stage="onboarding"),
    MetricSpec("ces_support", "Support effort", Formula.CES, 5.0, 0.5, unit="1–7", stage="support"),
    MetricSpec("csat_checkout", "Online checkout CSAT", Formula.CSAT, 85, 5, unit="%",
               touchpoint="purchase/online-checkout"),
    MetricSpec("csat_engineer_visit", "Engineer visit CSAT", Formula.CSAT, 85, 5, unit="%",
               touchpoint="onboarding/engineer-visit"),
    MetricSpec("csat_first_bill", "First bill CSAT", Formula.CSAT, 75, 5, unit="%", touchpoint="usage/first-bill"),
    MetricSpec("csat_support_line", "Support line CSAT", Formula.CSAT, 75, 5, unit="%",
               touchpoint="support/support-line"),
    MetricSpec("csat_help_chat", "Help centre chat CSAT", Formula.CSAT, 80, 5, unit="%",
               touchpoint="support/help-centre-chat"),
    MetricSpec("csat_renewal_offer", "Renewal offer CSAT", Formula.CSAT, 70, 5, unit="%",
               touchpoint="retention/renewal-offer"),
)  # fmt: skip

FUTURE_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("nps", "Net Promoter Score (ambition)", Formula.NPS, 45, 10, unit="points"),
    MetricSpec("csat", "Customer satisfaction (ambition)", Formula.CSAT, 88, 5, unit="%"),
    MetricSpec("ces", "Customer effort (ambition)", Formula.CES, 5.8, 0.5, unit="1–7"),
)

# --- comment templates ---------------------------------------------------------------------------

BAD, NEUTRAL, GOOD = 0, 1, 2

COMMENTS: dict[tuple[str, int], tuple[str, ...]] = {
    ("awareness", BAD): (
        "Coverage checker said fibre was available, then the order said it wasn't.",
        "Your ads are everywhere but say nothing about the price after a year.",
        "Checker just says 'coming soon'. Soon when?",
    ),
    ("awareness", NEUTRAL): (
        "Saw the ad, will compare with what we have now.",
        "Coverage checker was fine, a bit slow to find my flat.",
    ),
    ("awareness", GOOD): (
        "Great to see full fibre finally on our street!",
        "Friend recommended you and the coverage check was instant.",
        "Nice ads, and the offer looks genuinely good.",
    ),
    ("consideration", BAD): (
        "Couldn't work out the real monthly price once the discount ends.",
        "Waited 25 minutes on the sales line just to ask a question.",
        "Plan pages don't show upload speeds anywhere.",
    ),
    ("consideration", NEUTRAL): (
        "Plans are similar to the competition, price is OK.",
        "Chat answered my question eventually.",
    ),
    ("consideration", GOOD): (
        "The store advisor explained the family bundle really clearly.",
        "Comparison page made it easy to see the 24-month cost.",
        "Quick, helpful answers in the sales chat.",
    ),
    ("purchase", BAD): (
        "Credit check failed because I moved last year, no explanation given.",
        "Checkout crashed twice at the payment step.",
        "Price on the confirmation email didn't match the website.",
    ),
    ("purchase", NEUTRAL): (
        "Ordering was fine, a lot of forms though.",
        "Took a while in store but got there.",
    ),
    ("purchase", GOOD): (
        "Ordered in five minutes, really smooth.",
        "Signed up in store and walked out with my new phone.",
        "Clear confirmation with everything I needed.",
    ),
    ("onboarding", BAD): (
        "Engineer didn't turn up. Took a day off work for nothing.",
        "Installation was cancelled the morning of, no call, just a text.",
        "Second missed appointment. Still no broadband after three weeks.",
        "Had to chase the installation date three times.",
        "All-day installation window is ridiculous, I run a business.",
        "Router arrived but the line wasn't activated for five days.",
        "SIM took a whole day to activate, no signal until then.",
        "Nobody could tell me when the engineer would come.",
    ),
    ("onboarding", NEUTRAL): (
        "Installation happened eventually, a week later than booked.",
        "Engineer came, but the router is in a silly place.",
        "App setup fine, line took a couple of days to settle.",
    ),
    ("onboarding", GOOD): (
        "Engineer was on time, friendly and tidy.",
        "Up and running the same day, very impressed.",
        "App walked me through the Wi-Fi setup in minutes.",
    ),
    ("usage", BAD): (
        "First bill was almost double what I signed up for.",
        "Nobody explained the pro-rata charge on the first bill.",
        "Speeds drop every evening around 8pm.",
        "Can't get a VAT invoice for my business account.",
    ),
    ("usage", NEUTRAL): (
        "Service is OK, nothing special.",
        "Works most of the time, the app is a bit clunky.",
        "Speeds are fine, not quite what was advertised.",
    ),
    ("usage", GOOD): (
        "Rock solid connection, perfect for working from home.",
        "Love seeing everyone's data usage in the app.",
        "Streaming in 4K with no buffering at all.",
        "Fast and reliable, no complaints.",
    ),
    ("support", BAD): (
        "Asked me to restart the router again after I'd already done it twice.",
        "Three different agents, three different answers.",
        "Fault open for ten days and still no engineer.",
        "Chat bot went round in circles, never reached a human.",
    ),
    ("support", NEUTRAL): (
        "Got sorted in the end, took longer than it should.",
        "Chat agent was polite but had to escalate.",
    ),
    ("support", GOOD): (
        "Chat agent ran a line test and fixed it in ten minutes.",
        "Fault tracker in the app kept me updated the whole time.",
        "Help article solved it, no need to contact anyone.",
    ),
    ("retention", BAD): (
        "Loyalty penalty: my renewal price is higher than new customers pay.",
        "Had to threaten to leave to get a fair price.",
        "Renewal email came a week before the contract ended.",
    ),
    ("retention", NEUTRAL): (
        "Renewal offer is OK, still checking the market.",
        "Price went up a bit, but switching is a hassle.",
    ),
    ("retention", GOOD): (
        "Upgraded in the app for the same price, brilliant.",
        "Retentions team gave me a great deal without any fuss.",
        "Good renewal offer, happy to stay.",
    ),
    ("advocacy", BAD): (
        "Would not recommend after the installation fiasco.",
        "Told my friends to avoid you until support improves.",
        "Great when it works, awful when it doesn't.",
    ),
    ("advocacy", NEUTRAL): (
        "It's fine. I'd recommend it if you're in a fibre area.",
        "Average, same as every other provider.",
    ),
    ("advocacy", GOOD): (
        "Already referred two friends, both happy.",
        "Best provider I've had, fast and fair.",
        "Reliable, good value and the app is great.",
        "Brilliant since day one.",
    ),
    ("call-centre", BAD): (
        "On hold for 45 minutes, then got cut off.",
        "Transferred four times and had to repeat everything each time.",
        "Call centre hold times are a joke.",
        "Promised a call back that never came.",
        "Agent couldn't see my order and told me to call another number.",
    ),
    ("call-centre", GOOD): (
        "The agent on the phone was brilliant and sorted it first time.",
        "Quick answer on the phone, very polite.",
    ),
}

# --- generator parameters ------------------------------------------------------------------------

N_STAGES = len(STAGES)
N_CHANNELS = len(CHANNELS)
N_PERSONAS = len(PERSONAS)
MAX_STEPS = max(len(steps) for steps in CURRENT_STEPS.values())
MEASURES = (Measure.NPS, Measure.CSAT, Measure.CES, Measure.SENTIMENT)
NPS, CSAT, CES, SENTIMENT = range(len(MEASURES))
CALL_CENTRE = [c.slug for c in CHANNELS].index("call-centre")

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
GAP_MEDIAN_DAYS = np.array([2.0, 6.0, 4.0, 9.0, 25.0, 60.0, 10.0, 5.0])
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
# feedback: relative chance that an event is followed by an answer, and the measure mix per stage
FEEDBACK_PER_EVENT = 1 / 8
FEEDBACK_WEIGHT = np.array([0.3, 0.5, 1.2, 2.0, 1.2, 2.0, 1.5, 3.0])
MEASURE_MIX = np.array(
    [  # nps, csat, ces, sentiment
        [0.00, 0.30, 0.00, 0.70],  # awareness
        [0.00, 0.55, 0.00, 0.45],  # consideration
        [0.00, 0.70, 0.30, 0.00],  # purchase
        [0.00, 0.45, 0.55, 0.00],  # onboarding
        [0.55, 0.30, 0.00, 0.15],  # usage
        [0.00, 0.50, 0.50, 0.00],  # support
        [0.60, 0.40, 0.00, 0.00],  # retention
        [0.80, 0.00, 0.00, 0.20],  # advocacy
    ]
)
# how a customer feels, on a latent standard-normal scale: the deliberate problem spots live here
STAGE_EFFECT = np.array([0.1, 0.1, 0.3, -1.0, 0.1, -0.2, -0.1, 0.5])
CHANNEL_EFFECT = np.array([0.1, 0.25, 0.0, 0.0, 0.05, -0.9, 0.2])
PERSONA_EFFECT = np.array([-0.1, -0.05, -0.2, 0.15])
TREND_OVER_YEAR = 0.35  # things slowly get better over the year
COMMENT_SHARE = 0.3
HOUR_OF_DAY = np.array(
    [0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.6, 2.0, 2.2, 2.3,
     2.6, 2.5, 2.2, 2.1, 2.2, 2.4, 2.8, 3.1, 3.0, 2.4, 1.5, 0.7]
)  # fmt: skip
DAY_OF_WEEK = np.array([1.0, 0.95, 0.95, 1.0, 1.1, 1.3, 0.85])  # Monday .. Sunday


@dataclass(frozen=True)
class _Shape:
    """Per stage and step lookup arrays of the current-state map, by position in the specs."""

    steps_per_stage: np.ndarray  # (stages,)
    visit_share: np.ndarray  # (stages, MAX_STEPS), 0 beyond the stage's steps
    step_event_type: np.ndarray  # (stages, MAX_STEPS) index into event_types
    step_touchpoint: np.ndarray  # (stages, MAX_STEPS) index into TOUCHPOINTS or -1
    touchpoint_channel: np.ndarray  # (touchpoints,)
    cell_touchpoint: np.ndarray  # (stages, channels) first touchpoint of the cell or -1
    event_types: tuple[str, ...]
    channel_event_type: np.ndarray  # (channels,) event type forced by the channel or -1
    channel_cdf: np.ndarray  # (personas, stages, channels)
    measure_cdf: np.ndarray  # (stages, measures)
    day_weights: np.ndarray  # (DATA_DAYS,)
    hour_weights: np.ndarray  # (24,)
    comments: tuple[str, ...]
    comment_offset: np.ndarray  # (stages + 1, 3): first template of (stage or call centre, band)
    comment_count: np.ndarray


def _shape() -> _Shape:
    stage_slugs = [s.slug for s in STAGES]
    channel_slugs = [c.slug for c in CHANNELS]
    touchpoint_keys = [(t.stage, t.slug) for t in TOUCHPOINTS]
    event_types = tuple(
        sorted({step.event_type for steps in CURRENT_STEPS.values() for step in steps} | {"call", "visit", "chat"})
    )
    steps_per_stage = np.array([len(CURRENT_STEPS[s]) for s in stage_slugs])
    visit_share = np.zeros((N_STAGES, MAX_STEPS))
    step_event_type = np.zeros((N_STAGES, MAX_STEPS), dtype=np.int64)
    step_touchpoint = np.full((N_STAGES, MAX_STEPS), -1)
    for s, slug in enumerate(stage_slugs):
        for j, step in enumerate(CURRENT_STEPS[slug]):
            visit_share[s, j] = step.visit_share
            step_event_type[s, j] = event_types.index(step.event_type)
            if step.touchpoint is not None:
                step_touchpoint[s, j] = touchpoint_keys.index((slug, step.touchpoint))
    touchpoint_channel = np.array([channel_slugs.index(t.channel) for t in TOUCHPOINTS])
    cell_touchpoint = np.full((N_STAGES, N_CHANNELS), -1)
    for i, tp in reversed(list(enumerate(TOUCHPOINTS))):
        cell_touchpoint[stage_slugs.index(tp.stage), touchpoint_channel[i]] = i
    if ((CHANNEL_MIX > 0) & (cell_touchpoint < 0)).any():
        raise ValueError("the channel mix sends events to a stage × channel cell without a touchpoint")
    forced = {"call-centre": "call", "store": "visit", "chat": "chat"}
    channel_event_type = np.array([event_types.index(forced[c]) if c in forced else -1 for c in channel_slugs])

    mix = CHANNEL_MIX[None, :, :] * CHANNEL_AFFINITY[:, None, :]
    channel_cdf = np.cumsum(mix / mix.sum(axis=2, keepdims=True), axis=2)
    measure_cdf = np.cumsum(MEASURE_MIX / MEASURE_MIX.sum(axis=1, keepdims=True), axis=1)

    day = np.arange(DATA_DAYS)
    weekday = (DATA_START.weekday() + day) % 7
    day_of_year = (DATA_START.timetuple().tm_yday + day) % 365
    # autumn/winter peak around early December, plus the Black Friday fortnight
    season = 1.0 + 0.35 * np.cos(2 * np.pi * (day_of_year - 340) / 365)
    black_friday = np.where((day_of_year >= 325) & (day_of_year <= 338), 1.4, 1.0)
    day_weights = DAY_OF_WEEK[weekday] * season * black_friday

    groups = [*stage_slugs, "call-centre"]
    comments: list[str] = []
    comment_offset = np.zeros((len(groups), 3), dtype=np.int64)
    comment_count = np.zeros((len(groups), 3), dtype=np.int64)
    for g, group in enumerate(groups):
        for band in (BAD, NEUTRAL, GOOD):
            texts = COMMENTS.get((group, band), ())
            comment_offset[g, band] = len(comments)
            comment_count[g, band] = len(texts)
            comments.extend(texts)
    return _Shape(
        steps_per_stage=steps_per_stage,
        visit_share=visit_share,
        step_event_type=step_event_type,
        step_touchpoint=step_touchpoint,
        touchpoint_channel=touchpoint_channel,
        cell_touchpoint=cell_touchpoint,
        event_types=event_types,
        channel_event_type=channel_event_type,
        channel_cdf=channel_cdf,
        measure_cdf=measure_cdf,
        day_weights=day_weights / day_weights.sum(),
        hour_weights=HOUR_OF_DAY / HOUR_OF_DAY.sum(),
        comments=tuple(comments),
        comment_offset=comment_offset,
        comment_count=comment_count,
    )


@dataclass(frozen=True)
class _Ids:
    """Database ids of the current-state map, laid out like `_Shape`'s arrays."""

    journey: int
    stages: np.ndarray
    channels: np.ndarray
    personas: np.ndarray
    steps: np.ndarray  # (stages, MAX_STEPS), -1 beyond the stage's steps
    touchpoints: np.ndarray


def _sample(cdf: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Index drawn from each row's cumulative distribution."""
    return np.minimum((uniform[:, None] > cdf).sum(axis=1), cdf.shape[1] - 1)


@dataclass
class _EventBatch:
    """Events of a chunk of customers, as positions into the specs; sorted by customer."""

    customer: np.ndarray  # customer number
    persona: np.ndarray
    seconds: np.ndarray  # seconds since DATA_START
    stage: np.ndarray
    step: np.ndarray
    channel: np.ndarray
    event_type: np.ndarray
    value: np.ndarray

    def take(self, mask: np.ndarray) -> _EventBatch:
        return _EventBatch(*(getattr(self, name)[mask] for name in self.__dataclass_fields__))


def _generate_events(rng: np.random.Generator, shape: _Shape, *, customers: int, first_customer: int) -> _EventBatch:
    """A chunk of customers walking the funnel: stage entries in order, events across each stage's steps."""
    n = customers
    horizon = DATA_DAYS * 86_400
    persona = rng.choice(N_PERSONAS, size=n, p=PERSONA_MIX)
    day = rng.choice(DATA_DAYS, size=n, p=shape.day_weights)
    start = day * 86_400 + rng.choice(24, size=n, p=shape.hour_weights) * 3_600 + rng.integers(0, 3_600, size=n)

    goes_on = rng.random((n, N_STAGES - 1)) < CONTINUE[persona]
    stages_reached = 1 + np.cumprod(goes_on, axis=1).sum(axis=1)
    gaps = rng.lognormal(np.log(GAP_MEDIAN_DAYS * 86_400), GAP_SIGMA, size=(n, N_STAGES))
    entry = start[:, None] + np.concatenate([np.zeros((n, 1)), np.cumsum(gaps[:, :-1], axis=1)], axis=1)
    in_stage = (np.arange(N_STAGES) < stages_reached[:, None]) & (entry < horizon)

    # one row per customer × stage reached
    cust, stage = np.nonzero(in_stage)
    moved_on = np.zeros(len(cust), dtype=bool)
    not_last = stage < N_STAGES - 1
    moved_on[not_last] = in_stage[cust[not_last], stage[not_last] + 1]
    steps = shape.steps_per_stage[stage]
    last_step = np.where(moved_on, steps - 1, rng.integers(0, steps))  # in-stage drop-off for those who stop
    positions = np.arange(MAX_STEPS)
    visited = (positions <= last_step[:, None]) & (
        (positions == 0) | (rng.random((len(cust), MAX_STEPS)) < shape.visit_share[stage])
    )

    # one row per event: each visited step once, plus repeat visits
    row, step = np.nonzero(visited)
    repeats = 1 + rng.poisson(REPEAT_RATE[stage[row]])
    row, step = np.repeat(row, repeats), np.repeat(step, repeats)
    event_stage = stage[row]
    event_customer = cust[row]
    slot = 0.9 * gaps[event_customer, event_stage] / steps[row]  # the steps share the time before the next stage
    seconds = (entry[event_customer, event_stage] + slot * (step + rng.random(len(row)))).astype(np.int64)
    event_persona = persona[event_customer]

    channel = _sample(shape.channel_cdf[event_persona, event_stage], rng.random(len(row)))
    step_touchpoint = shape.step_touchpoint[event_stage, step]
    own_channel = (step_touchpoint >= 0) & (rng.random(len(row)) < STEP_CHANNEL_SHARE)
    channel = np.where(own_channel, shape.touchpoint_channel[step_touchpoint], channel)

    event_type = shape.step_event_type[event_stage, step]
    forced = shape.channel_event_type[channel]
    priced = np.isin(event_type, [shape.event_types.index("order"), shape.event_types.index("renewal")])
    event_type = np.where((forced >= 0) & ~priced, forced, event_type)
    price = np.round(rng.lognormal(np.log(MONTHLY_PRICE[event_persona]), 0.25)) - 0.01
    value = np.where(priced, price, np.nan)

    batch = _EventBatch(
        customer=first_customer + event_customer,
        persona=event_persona,
        seconds=seconds,
        stage=event_stage,
        step=step,
        channel=channel,
        event_type=event_type,
        value=value,
    )
    return batch.take(seconds < horizon)


@dataclass
class _FeedbackBatch:
    customer: np.ndarray
    persona: np.ndarray
    seconds: np.ndarray
    stage: np.ndarray
    step: np.ndarray
    channel: np.ndarray  # -1: not recorded
    touchpoint: np.ndarray  # -1: not recorded
    measure: np.ndarray
    score: np.ndarray
    comment: np.ndarray  # index into shape.comments, -1: no comment


def _generate_feedback(rng: np.random.Generator, shape: _Shape, events: _EventBatch) -> _FeedbackBatch:
    """Answers that follow some events: NPS late in the journey, CES at effortful stages, CSAT after touchpoints."""
    weight = FEEDBACK_WEIGHT[events.stage]
    chance = np.minimum(1.0, FEEDBACK_PER_EVENT * weight / max(weight.mean(), 1e-9))
    answered = events.take(rng.random(len(weight)) < chance)
    n = len(answered.stage)
    measure = _sample(shape.measure_cdf[answered.stage], rng.random(n))

    horizon = DATA_DAYS * 86_400
    delay = rng.lognormal(np.log(4 * 3_600), 1.0, size=n).astype(np.int64)
    seconds = np.minimum(answered.seconds + delay, horizon - 1)
    mood = (
        rng.standard_normal(n)
        + STAGE_EFFECT[answered.stage]
        + CHANNEL_EFFECT[answered.channel]
        + PERSONA_EFFECT[answered.persona]
        + TREND_OVER_YEAR * (seconds / horizon - 0.5)
    )
    score = np.select(
        [measure == NPS, measure == CSAT, measure == CES],
        [
            np.clip(np.rint(8.0 + 1.8 * mood), 0, 10),
            np.clip(np.rint(4.1 + 0.95 * mood), 1, 5),
            np.clip(np.rint(5.3 + 1.2 * mood), 1, 7),
        ],
        default=np.where(mood > 0.4, 1.0, np.where(mood < -0.6, -1.0, 0.0)),
    )

    # CSAT and CES are about a touchpoint; NPS about the relationship; sentiment about a channel
    step_touchpoint = shape.step_touchpoint[answered.stage, answered.step]
    own = (step_touchpoint >= 0) & (shape.touchpoint_channel[np.maximum(step_touchpoint, 0)] == answered.channel)
    touchpoint = np.where(own, step_touchpoint, shape.cell_touchpoint[answered.stage, answered.channel])
    about_touchpoint = (measure == CSAT) | (measure == CES)
    touchpoint = np.where(about_touchpoint, touchpoint, -1)
    channel = np.where(measure == NPS, -1, answered.channel)

    good_from = np.array([SCALES[m].good_from for m in MEASURES])[measure]
    bad_to = np.array([SCALES[m].bad_to for m in MEASURES])[measure]
    band = np.where(score >= good_from, GOOD, np.where(score <= bad_to, BAD, NEUTRAL))
    group = np.where(
        (answered.channel == CALL_CENTRE) & (band != NEUTRAL) & (rng.random(n) < 0.6), N_STAGES, answered.stage
    )
    pick = (rng.random(n) * shape.comment_count[group, band]).astype(np.int64)
    has_comment = (rng.random(n) < COMMENT_SHARE) & (shape.comment_count[group, band] > 0)
    comment = np.where(has_comment, shape.comment_offset[group, band] + pick, -1)

    return _FeedbackBatch(
        customer=answered.customer,
        persona=answered.persona,
        seconds=seconds,
        stage=answered.stage,
        step=answered.step,
        channel=channel,
        touchpoint=touchpoint,
        measure=measure,
        score=score,
        comment=comment,
    )


# --- facts as frames, and fast writes -----------------------------------------------------------

CHUNK_CUSTOMERS = 50_000  # bounds memory: about 600k events per chunk
FIRST_GUESS_EVENTS_PER_CUSTOMER = 11.0


def _timestamps(seconds: np.ndarray) -> pl.Series:
    moments = np.datetime64(DATA_START, "s") + seconds.astype("timedelta64[s]")
    return pl.Series(moments.astype("datetime64[us]"))


def _customer_ids(numbers: np.ndarray) -> pl.Expr:
    return pl.format("NW-{}", pl.lit(pl.Series(numbers)).cast(pl.String).str.zfill(7))


def _optional_ids(ids: np.ndarray, index: np.ndarray) -> pl.Series:
    """Database ids for positions, null where the position is -1."""
    return pl.Series(np.where(index >= 0, ids[np.maximum(index, 0)], np.nan), nan_to_null=True).cast(pl.Int64)


def _event_frame(batch: _EventBatch, shape: _Shape, ids: _Ids) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "occurred_at": _timestamps(batch.seconds),
            "journey_id": np.full(len(batch.stage), ids.journey),
            "stage_id": ids.stages[batch.stage],
            "channel_id": ids.channels[batch.channel],
            "step_id": ids.steps[batch.stage, batch.step],
            "persona_id": ids.personas[batch.persona],
            "event_type": pl.Series(shape.event_types).gather(batch.event_type),
            "value": pl.Series(batch.value, nan_to_null=True),
        }
    ).select(_customer_ids(batch.customer).alias("customer_id"), pl.all())


def _feedback_frame(batch: _FeedbackBatch, shape: _Shape, ids: _Ids) -> pl.DataFrame:
    comment = pl.Series(shape.comments, dtype=pl.String).gather(np.maximum(batch.comment, 0))
    return pl.DataFrame(
        {
            "occurred_at": _timestamps(batch.seconds),
            "journey_id": np.full(len(batch.stage), ids.journey),
            "stage_id": ids.stages[batch.stage],
            "channel_id": _optional_ids(ids.channels, batch.channel),
            "touchpoint_id": _optional_ids(ids.touchpoints, batch.touchpoint),
            "step_id": ids.steps[batch.stage, batch.step],
            "persona_id": ids.personas[batch.persona],
            "measure": pl.Series([m.value for m in MEASURES]).gather(batch.measure),
            "score": batch.score,
            "comment": pl.Series(batch.comment >= 0).cast(pl.Boolean),
        }
    ).select(
        _customer_ids(batch.customer).alias("customer_id"),
        pl.exclude("comment"),
        pl.when(pl.col("comment")).then(pl.lit(comment)).otherwise(None).alias("comment"),
    )


# --- loading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    """What `load_demo` wrote; str() is a one-paragraph summary for people."""

    journeys: int
    stages: int
    channels: int
    touchpoints: int
    personas: int
    steps: int
    lane_items: int
    metrics: int
    customers: int
    events: int
    feedback: int
    first_day: dt.date | None
    last_day: dt.date | None
    seconds: float
    seed: int

    def __str__(self) -> str:
        span = f"from {self.first_day} to {self.last_day}" if self.first_day else "with no dates"
        return (
            f"Loaded the Northwind Telecom demo (seed {self.seed}): {self.journeys} journeys, {self.stages} stages, "
            f"{self.channels} channels, {self.touchpoints} touchpoints, {self.personas} personas, {self.steps} "
            f"steps with {self.lane_items} lane items and {self.metrics} metric definitions; {self.customers:,} "
            f"customers with {self.events:,} events and {self.feedback:,} feedback answers {span}, "
            f"in {self.seconds:.1f} s."
        )


def _empty_database(connection: Connection) -> None:
    tables = Base.metadata.sorted_tables
    if connection.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    for table in reversed(tables):
        connection.execute(delete(table))


def _lane_items(specs: Sequence[LaneSpec], personas: dict[str, Persona]) -> list[LaneItem]:
    return [
        LaneItem(
            lane=spec.lane.value,
            text=spec.text,
            position=position,
            persona=personas[spec.persona] if spec.persona else None,
            emotion=spec.emotion,
            severity=spec.severity,
            evidence=spec.evidence,
            owner=spec.owner,
            status=spec.status,
            impact=spec.impact,
            effort=spec.effort,
        )
        for position, spec in enumerate(specs)
    ]


def _journey(
    session: Session,
    *,
    slug: str,
    name: str,
    kind: JourneyKind,
    description: str,
    owner: str,
    improves: Journey | None,
    steps: dict[str, tuple[StepSpec, ...]],
    metrics: Sequence[MetricSpec],
    channels: dict[str, Channel],
    personas: dict[str, Persona],
) -> Journey:
    journey = Journey(slug=slug, name=name, kind=kind.value, description=description, owner=owner, improves=improves)
    touchpoints: dict[tuple[str, str], Touchpoint] = {}
    for position, spec in enumerate(STAGES):
        stage = Stage(slug=spec.slug, name=spec.name, position=position, description=spec.description)
        journey.stages.append(stage)
        for tp in TOUCHPOINTS:
            if tp.stage == spec.slug:
                touchpoint = Touchpoint(
                    slug=tp.slug,
                    name=tp.name,
                    description=tp.description,
                    owner=tp.owner,
                    moment_of_truth=tp.moment_of_truth,
                    channel=channels[tp.channel],
                )
                stage.touchpoints.append(touchpoint)
                touchpoints[tp.stage, tp.slug] = touchpoint
        for step_position, step_spec in enumerate(steps[spec.slug]):
            stage.steps.append(
                Step(
                    slug=step_spec.slug,
                    name=step_spec.name,
                    position=step_position,
                    description=step_spec.description,
                    touchpoint=touchpoints[spec.slug, step_spec.touchpoint] if step_spec.touchpoint else None,
                    lane_items=_lane_items(step_spec.lanes, personas),
                )
            )
    session.add(journey)
    session.flush()
    stage_ids = {stage.slug: stage.id for stage in journey.stages}
    for metric in metrics:
        touchpoint_id = None
        if metric.touchpoint:
            stage_slug, touchpoint_slug = metric.touchpoint.split("/")
            touchpoint_id = touchpoints[stage_slug, touchpoint_slug].id
        session.add(
            MetricDefinition(
                journey_id=journey.id,
                key=metric.key,
                label=metric.label,
                formula=metric.formula.value,
                unit=metric.unit,
                direction=metric.direction.value,
                target=metric.target,
                warning=metric.warning,
                stage_id=stage_ids[metric.stage] if metric.stage else None,
                touchpoint_id=touchpoint_id,
            )
        )
    session.flush()
    return journey


def _write_map(connection: Connection) -> _Ids:
    """The map content of both journeys (ORM objects: it is small); returns the ids the facts need."""
    with Session(bind=connection) as session:
        channels = {
            spec.slug: Channel(slug=spec.slug, name=spec.name, kind=spec.kind.value, position=position)
            for position, spec in enumerate(CHANNELS)
        }
        personas = {
            spec.slug: Persona(
                slug=spec.slug,
                name=spec.name,
                description=spec.description,
                goals=spec.goals,
                frustrations=spec.frustrations,
                thinks=spec.thinks,
                feels=spec.feels,
                says=spec.says,
                does=spec.does,
            )
            for spec in PERSONAS
        }
        session.add_all([*channels.values(), *personas.values()])
        current = _journey(
            session,
            slug=CURRENT_SLUG,
            name="Northwind Telecom — customer lifecycle today",
            kind=JourneyKind.CURRENT,
            description="How residential and small-business customers find, buy, set up, use and stay with "
            "Northwind broadband and mobile today, as measured from web, app, CRM, telephony and surveys.",
            owner="CX team (Head of Customer Experience)",
            improves=None,
            steps=CURRENT_STEPS,
            metrics=METRICS,
            channels=channels,
            personas=personas,
        )
        _journey(
            session,
            slug=FUTURE_SLUG,
            name="Northwind Telecom — target lifecycle 2027",
            kind=JourneyKind.FUTURE,
            description="The lifecycle we are building towards: installation slots at checkout, proactive "
            "updates, call-backs instead of queues, and fair renewal prices.",
            owner="CX team with Digital product and Customer operations",
            improves=current,
            steps=FUTURE_STEPS,
            metrics=FUTURE_METRICS,
            channels=channels,
            personas=personas,
        )
        step_ids = np.full((N_STAGES, MAX_STEPS), -1, dtype=np.int64)
        for s, stage in enumerate(current.stages):
            for j, step in enumerate(stage.steps):
                step_ids[s, j] = step.id
        touchpoint_by_key = {(stage.slug, tp.slug): tp.id for stage in current.stages for tp in stage.touchpoints}
        return _Ids(
            journey=current.id,
            stages=np.array([stage.id for stage in current.stages]),
            channels=np.array([channels[spec.slug].id for spec in CHANNELS]),
            personas=np.array([personas[spec.slug].id for spec in PERSONAS]),
            steps=step_ids,
            touchpoints=np.array([touchpoint_by_key[tp.stage, tp.slug] for tp in TOUCHPOINTS]),
        )


def _fact_batches(
    rng: np.random.Generator, shape: _Shape, *, events: int
) -> Iterator[tuple[_EventBatch, _FeedbackBatch, int]]:
    """Chunks of customers until `events` events exist; the last chunk is cut at a customer boundary."""
    remaining = events
    next_customer = 1
    per_customer = FIRST_GUESS_EVENTS_PER_CUSTOMER
    while remaining > 0:
        customers = min(CHUNK_CUSTOMERS, math.ceil(remaining / per_customer * 1.05) + 20)
        batch = _generate_events(rng, shape, customers=customers, first_customer=next_customer)
        if len(batch.customer) > remaining:
            per_customer_events = np.bincount(batch.customer - next_customer, minlength=customers)
            kept_customers = int(np.searchsorted(np.cumsum(per_customer_events), remaining, side="right"))
            batch = batch.take(batch.customer < next_customer + kept_customers)
            customers = kept_customers
        if len(batch.customer) == 0:
            break
        per_customer = max(1.0, len(batch.customer) / max(customers, 1))
        remaining -= len(batch.customer)
        next_customer += customers
        yield batch, _generate_feedback(rng, shape, batch), customers


def load_demo(engine: Engine, *, events: int, seed: int) -> DemoSummary:
    """Replace all content of the database with the Northwind demo of about `events` events, then roll up."""
    if events < 1:
        raise ValueError("the demo needs at least one event")
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    shape = _shape()
    customers = event_count = feedback_count = 0
    with engine.begin() as connection:
        _empty_database(connection)
        ids = _write_map(connection)
        events_table, feedback_table = Base.metadata.tables["events"], Base.metadata.tables["feedback"]
        with bulk_load(connection, [events_table.name, feedback_table.name], unique=True):
            for event_batch, feedback_batch, batch_customers in _fact_batches(rng, shape, events=events):
                append_rows(connection, events_table, _event_frame(event_batch, shape, ids))
                append_rows(connection, feedback_table, _feedback_frame(feedback_batch, shape, ids))
                customers += batch_customers
                event_count += len(event_batch.customer)
                feedback_count += len(feedback_batch.customer)
        refresh_rollups(connection)
        counts = {
            model.__tablename__: connection.scalar(select(func.count()).select_from(model))
            for model in (Journey, Stage, Channel, Touchpoint, Persona, Step, LaneItem, MetricDefinition)
        }
        first, last = connection.execute(select(func.min(Event.occurred_at), func.max(Event.occurred_at))).one()
    return DemoSummary(
        journeys=counts["journeys"] or 0,
        stages=counts["stages"] or 0,
        channels=counts["channels"] or 0,
        touchpoints=counts["touchpoints"] or 0,
        personas=counts["personas"] or 0,
        steps=counts["steps"] or 0,
        lane_items=counts["lane_items"] or 0,
        metrics=counts["metric_definitions"] or 0,
        customers=customers,
        events=event_count,
        feedback=feedback_count,
        first_day=_as_date(first),
        last_day=_as_date(last),
        seconds=time.perf_counter() - started,
        seed=seed,
    )


def _as_date(moment: dt.datetime | str | None) -> dt.date | None:
    if moment is None:
        return None
    if isinstance(moment, str):  # SQLite aggregates come back as text
        return dt.date.fromisoformat(moment[:10])
    return moment.date()


def ensure_demo(engine: Engine, *, events: int, seed: int) -> bool:
    """Load the demo only when the database holds no journey; return whether it was loaded."""
    with engine.connect() as connection:
        if connection.scalar(select(func.count()).select_from(Journey)):
            return False
    load_demo(engine, events=events, seed=seed)
    return True
