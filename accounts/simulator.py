"""Demo-data simulator: a believable SaaS history for churnapp, generated without touching the database.

`simulate(...)` turns a seed and an end date into plain DataFrames, one per table (`SimulatedData`);
`accounts/simulator_load.py` writes them. Same seed and end date give identical frames.

How the history is built:
1. Accounts sign up in monthly cohorts that grow over the window; the segment drives plan, seats and price.
2. Each account has a latent engagement level. Low engagement raises its monthly churn hazard, and a churner's
   engagement decays over the weeks before its churn date: strongly for most reasons, barely for involuntary
   payment failures, and not at all for some "silent" churners, so churn is predictable from behaviour, with noise.
   Retained accounts get noise of their own (a champion leaves, holidays, a slow random drift).
3. Subscriptions follow the lifecycle: consecutive rows for seat and plan changes (a replaced row ends with status
   canceled and no reason; only churn carries a `cancellation_reason`), add-ons, win-back after a gap, pauses.
4. Usage events are Poisson counts per user and day from that engagement; tickets cluster before churn; survey
   scores follow engagement; CSMs log calls and notes and hold open tasks around the end date.

`mechanism` switches the churn mechanism, to test the churn model on histories it was not tuned to:
- `default`: the mix above;
- `usage_decay`: every churner's usage fades over 45–120 days (no silent churners);
- `ticket_storm`: usage stays as it was; churners file a burst of urgent tickets in the weeks before;
- `price_shock`: usage stays; churners' price rose 20–40 % one to three months earlier (a few who stay see it too);
- `silent`: total usage stays; churners stop one event type (reports) over the ~75 days before, logging in instead.

Frames refer to each other by position: `account` is a row of `accounts`, `owner`/`author`/`assignee` a row of
`users`, `contact` a row of `contacts`. The churn date itself stays latent: no output column says who will churn.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

MECHANISMS = ("default", "usage_decay", "ticket_storm", "price_shock", "silent")
SEGMENTS = np.array(["smb", "mid_market", "enterprise"], dtype=object)
SEGMENT_SHARE = [0.64, 0.28, 0.08]
PLANS = np.array(["starter", "growth", "pro", "enterprise"], dtype=object)
# Plan mix per segment (rows: SEGMENTS, columns: PLANS) and the plans a segment may move between.
PLAN_MIX = np.array([[0.55, 0.38, 0.07, 0.0], [0.0, 0.45, 0.48, 0.07], [0.0, 0.0, 0.3, 0.7]])
PLAN_RANGE = [(0, 2), (1, 3), (2, 3)]
BASE_FEE = np.array([19.0, 49.0, 149.0, 990.0])
SEAT_PRICE = np.array([9.0, 19.0, 35.0, 55.0])
ANNUAL_SHARE = np.array([0.2, 0.5, 0.9])
ANNUAL_DISCOUNT = 0.85
MONTHLY_CHURN = np.array([0.032, 0.018, 0.009])
# Churn is likelier in the first months (failed onboarding), then settles.
EARLY_HAZARD = [1.8, 1.6, 1.3]
COHORT_GROWTH = 1.07

REASONS = np.array(
    "price missing_feature missing_integration product_fit competitor support onboarding business_closed "
    "payment_failure".split(),
    dtype=object,
)
REASON_MIX = np.array(
    [
        [0.18, 0.10, 0.08, 0.12, 0.08, 0.07, 0.09, 0.12, 0.16],
        [0.17, 0.15, 0.12, 0.12, 0.16, 0.09, 0.07, 0.05, 0.07],
        [0.15, 0.18, 0.15, 0.10, 0.22, 0.12, 0.04, 0.02, 0.02],
    ]
)
R_ONBOARDING, R_CLOSED, R_PAYMENT = 6, 7, 8
REACTIVATION_P = np.array([0.15, 0.1, 0.1, 0.08, 0.08, 0.1, 0.1, 0.0, 0.35])

# Events per active user and day at engagement 1 on a weekday; tuned for ~200k events at 300 accounts / 18 months.
EVENT_RATE = 0.8
KEY_EVENTS = np.array(
    "campaign_created campaign_sent report_viewed template_edited list_imported automation_created "
    "integration_connected".split(),
    dtype=object,
)
KEY_EVENT_SHARE = np.array([0.25, 0.22, 0.28, 0.12, 0.07, 0.05, 0.01])
REPORTS = ["campaign_performance", "audience_growth", "deliverability", "revenue_attribution"]
INTEGRATIONS = ["shopify", "salesforce", "hubspot", "zapier", "stripe", "woocommerce"]
REGIONS = np.array(["NA", "EMEA", "APAC", "LATAM"], dtype=object)
# Centre of a region's working day in UTC hours, so event times look local.
REGION_NOON_UTC = np.array([17.0, 11.0, 4.0, 16.0])
INDUSTRIES = ["ecommerce", "saas", "media", "nonprofit", "education", "agency", "retail", "travel", "health", "finance"]
CHANNELS = ["organic", "paid", "referral", "partner", "outbound"]

NAME_PREFIX = "Blue North Bright Silver Red Green Swift Clear Bold True Open Little Golden Urban Wild Happy Lucky Iron"
NAME_NOUN = "Harbor Fox Pine Oak River Peak Lantern Anchor Maple Falcon Meadow Stone Bridge Garden Summit Wave Orchard"
NAME_SUFFIX = (
    "Labs Studio Co Goods Media Works Collective Supply Outfitters Partners Digital Kitchen Travel Health Books"
)
SYLLABLE_A = "Zen Vel Nor Bri Lum Kai Ora Tes Mir Quo Syn Vox Ari Eco Flo Pax Rho Tal"
SYLLABLE_B = "trix dia vo ly nex ora sta ble mo fy tera via lia pix ra lux"
CITIES = "Austin Berlin Lyon Porto Leeds Denver Osaka Perth Quito Turin Malmo Bergen".split()
FIRST_NAMES = (
    "ana ben carla dev emma felix grace hugo ivy jonas kofi lena mateo nora omar priya quinn rosa sam tara uma victor "
    "wen yara zoe alex bea chris dana eli fatima gus hana ian jade kenji liam maya nils olga"
).split()
LAST_NAMES = (
    "silva baker costa patel smith nguyen okafor rossi novak berg kim lopez meyer dubois khan haddad sato brown "
    "garcia jansen moreau fischer ali weber"
).split()
TITLES = ["Marketing Manager", "Head of Growth", "CRM Specialist", "Email Marketer", "Content Lead", "Founder"]

TICKET_SUBJECTS = {
    "bug": ["Campaign stuck in sending", "Editor crashes when saving", "Wrong open rates in report"],
    "how_to": ["How do I segment by tag?", "Setting up a welcome series", "Importing contacts from CSV"],
    "billing": ["Invoice shows wrong seat count", "Card declined on renewal", "Question about annual pricing"],
    "integration": ["Shopify sync missing orders", "Salesforce fields not mapping", "Zapier trigger not firing"],
    "deliverability": ["Emails landing in spam", "Bounce rate spiked", "Domain authentication failing"],
    "performance": ["Dashboard very slow", "List import takes hours", "Timeouts when sending"],
    "feature_request": ["Need A/B testing on subject lines", "Request: SMS scheduling", "Custom report builder?"],
}
TICKET_TOPICS = list(TICKET_SUBJECTS)
# The ticket topic (and below, the survey comment theme) each churn reason makes likely, in REASONS order.
REASON_TOPIC = ["billing", "feature_request", "integration", "how_to", "feature_request", "bug", "how_to", "billing",
                "billing"]  # fmt: skip
COMMENTS = {
    "price": ["Too expensive for what we use.", "The price went up and the value did not.", "Hard to justify it."],
    "integration": ["The Salesforce integration keeps breaking.", "We need a proper Shopify integration."],
    "support": ["Support takes days to answer.", "Tickets get closed without a fix."],
    "onboarding": ["Setup was confusing and nobody helped us.", "We never finished onboarding."],
    "feature": ["Missing A/B testing and better reports.", "The editor is too limited for our team."],
    "positive": ["Love the automations!", "Great product, support is quick.", "Our team uses it every day."],
    "neutral": ["It does the job.", "Fine, a few rough edges.", "Reports could be better."],
}
REASON_THEME = ["price", "feature", "integration", "feature", "price", "support", "onboarding", "price", "price"]
NEGATIVE_THEMES = ["price", "integration", "support", "onboarding", "feature"]
ACTIVITY_SUBJECTS = {
    "call": ["Check-in call", "Renewal discussion", "Usage review call"],
    "meeting": ["Quarterly business review", "Roadmap walkthrough", "Training session"],
    "note": ["Champion changed roles", "Asked about SMS pricing", "Expanding to a second brand", "Happy with support"],
    "email": ["Sent best-practice guide", "Shared release notes", "Followed up on ticket"],
}
TAG_COLORS = {"champion-left": "red", "upsell": "green", "beta": "purple", "paused": "amber", "strategic": "blue"}

NEVER = 10**6  # a day index far past any window: "does not happen"


@dataclass
class SimulatedData:
    """Everything the simulator generates: one DataFrame per table, rows referring to each other by position."""

    end_date: dt.date
    seed: int
    users: pd.DataFrame
    accounts: pd.DataFrame
    account_tags: pd.DataFrame
    contacts: pd.DataFrame
    subscriptions: pd.DataFrame
    events: pd.DataFrame
    tickets: pd.DataFrame
    surveys: pd.DataFrame
    activities: pd.DataFrame
    tasks: pd.DataFrame

    def frames(self) -> dict[str, pd.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), pd.DataFrame)}


@dataclass
class _World:
    """The latent state of the simulation: per-account arrays indexed like `accounts`, days counted from `start`."""

    start: dt.date
    days: int  # the window is [start, end_date); day `days` is the end date itself
    signup: np.ndarray
    segment: np.ndarray
    region: np.ndarray
    annual: np.ndarray  # billed yearly: leaves only at the end of a term
    baseline: np.ndarray  # latent engagement level
    z: np.ndarray  # the same, standardised
    churn: np.ndarray  # day the account cancels (may lie past the window, or NEVER)
    reason: np.ndarray  # index into REASONS
    react: np.ndarray  # day a churned account comes back, or NEVER
    pause: np.ndarray  # day the account pauses, or NEVER
    decay_window: np.ndarray
    decay_floor: np.ndarray
    dip_start: np.ndarray  # a temporary drop (the champion left), or NEVER
    dip_len: np.ndarray
    mechanism: str = "default"

    def alive(self, day: int | np.ndarray) -> np.ndarray:
        """Whether each account holds a subscription at `day` (paused counts: paused is not churn)."""
        day = np.asarray(day)
        return (self.signup <= day) & ((day < self.churn) | (day >= self.react))


def simulate(
    *, accounts: int = 300, months: int = 18, seed: int = 42, end_date: dt.date, mechanism: str = "default"
) -> SimulatedData:
    """Generate `accounts` customers signed up over `months` months of history ending on `end_date` (exclusive),
    churning by `mechanism` (one of MECHANISMS)."""
    if accounts < 1 or months < 1 or seed < 0:
        raise ValueError("accounts and months must be positive and the seed non-negative.")
    if mechanism not in MECHANISMS:
        raise ValueError(f"Unknown churn mechanism {mechanism!r}; choose one of {', '.join(MECHANISMS)}.")
    # One independent stream per stage, so a change to one stage leaves the others' draws as they were.
    rng = {name: np.random.default_rng([seed, i]) for i, name in enumerate(["acc", "life", "sub", "eng", "ev", "crm"])}
    users = _users(accounts)
    world, accounts_df = _accounts(rng["acc"], accounts, months, end_date, n_csm=int((users["group"] == "CSM").sum()))
    world.mechanism = mechanism
    _lifecycle(rng["life"], world)
    subscriptions, current = _subscriptions(rng["sub"], world, accounts_df)
    if mechanism == "price_shock":
        subscriptions = _price_shocks(np.random.default_rng([seed, 99]), world, subscriptions)
    engagement = _engagement(rng["eng"], world)
    contacts = _contacts(rng["crm"], world, accounts_df)
    events = _usage_events(rng["ev"], world, engagement, contacts, current, seed)
    tickets = _tickets(rng["crm"], world)
    surveys = _surveys(rng["crm"], world, engagement, contacts, tickets)
    accounts_df, account_tags = _account_state(rng["crm"], world, engagement, accounts_df, current, events, surveys)
    activities, tasks = _crm_work(rng["crm"], world, accounts_df, current)
    return SimulatedData(
        end_date=end_date,
        seed=seed,
        users=users,
        accounts=accounts_df,
        account_tags=account_tags,
        contacts=contacts.drop(columns=["activity", "joined"]),
        subscriptions=subscriptions,
        events=events,
        tickets=tickets,
        surveys=surveys,
        activities=activities,
        tasks=tasks,
    )


# --- helpers -----------------------------------------------------------------------------------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _choose_rows(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a probability matrix, vectorised."""
    cumulative = np.cumsum(probabilities / probabilities.sum(axis=1, keepdims=True), axis=1)
    return (rng.random(len(probabilities))[:, None] > cumulative[:, :-1]).sum(axis=1)


def _instants(start: dt.date, day: np.ndarray, seconds: np.ndarray) -> pd.Series:
    """Tz-aware UTC timestamps from day indexes and seconds into the day."""
    base = np.datetime64(start, "s")
    offsets = (np.asarray(day, dtype=np.int64) * 86400 + np.asarray(seconds, dtype=np.int64)).astype("timedelta64[s]")
    return pd.Series(base + offsets).dt.tz_localize("UTC")


def _dates(start: dt.date, day: np.ndarray) -> np.ndarray:
    """datetime.date objects for day indexes (None for NEVER)."""
    day = np.asarray(day, dtype=np.int64)
    out = (np.datetime64(start, "D") + np.minimum(day, 10**5).astype("timedelta64[D]")).astype(object)
    out[day >= NEVER] = None
    return out


def _work_seconds(rng: np.random.Generator, noon_utc: np.ndarray) -> np.ndarray:
    """Seconds into the UTC day of something done during the local working day."""
    hours = rng.normal(noon_utc - 1.5, 2.5)
    return (hours * 3600).astype(np.int64) % 86400


# --- stages ------------------------------------------------------------------------------------------------------


def _users(n_accounts: int) -> pd.DataFrame:
    """The CSM team (about one per 60 accounts, at least two) and their manager."""
    n_csm = max(2, round(n_accounts / 60))
    rows = []
    for k in range(n_csm):
        first, last = FIRST_NAMES[k % len(FIRST_NAMES)], LAST_NAMES[(k * 7) % len(LAST_NAMES)]
        username = f"csm.{first}" if k < len(FIRST_NAMES) else f"csm.{first}{k // len(FIRST_NAMES) + 1}"
        rows.append((username, first.title(), last.title(), f"{username}@churnapp.example", "CSM"))
    rows.append(("manager.mia", "Mia", "Lindqvist", "manager.mia@churnapp.example", "Manager"))
    return pd.DataFrame(rows, columns=["username", "first_name", "last_name", "email", "group"])


def _company_names(rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
    """Believable, distinct company names and domains from word lists and syllables."""
    prefix, noun, suffix = NAME_PREFIX.split(), NAME_NOUN.split(), NAME_SUFFIX.split()
    syl_a, syl_b = SYLLABLE_A.split(), SYLLABLE_B.split()
    picks = rng.integers(0, 1000, size=(n, 4))
    names, domains, seen = [], [], set()
    for i, (a, b, c, style) in enumerate(picks):
        if style % 3:
            name = f"{prefix[a % len(prefix)]} {noun[b % len(noun)]} {suffix[c % len(suffix)]}"
        else:
            name = syl_a[a % len(syl_a)] + syl_b[b % len(syl_b)] + ("" if c % 2 else f" {suffix[c % len(suffix)]}")
        if name in seen:
            name = f"{name} {CITIES[i % len(CITIES)]}"
        if name in seen:
            name = f"{name} {i}"
        seen.add(name)
        names.append(name)
        slug = "".join(ch for ch in name.lower() if ch.isalnum())
        domains.append(f"{slug}.{('com', 'io', 'co')[style % 3]}")
    return names, domains


def _accounts(
    rng: np.random.Generator, n: int, months: int, end_date: dt.date, *, n_csm: int
) -> tuple[_World, pd.DataFrame]:
    """Sign-ups in growing monthly cohorts, with segment, plan, seats, billing and firmographics."""
    start = _add_months(end_date.replace(day=1), -(months - 1))
    days = (end_date - start).days
    month_start = np.array([(_add_months(start, m) - start).days for m in range(months + 1)])
    open_days = np.clip(np.minimum(month_start[1:], days) - month_start[:-1], 0, None)
    weights = COHORT_GROWTH ** np.arange(months) * open_days / 31
    if weights.sum() == 0:  # one month ending on its first day: no day to sign anyone up on
        raise ValueError("The end date must leave at least one day in the window.")
    per_month = rng.multinomial(n, weights / weights.sum())
    signup = np.sort(
        np.concatenate(
            [s + rng.integers(0, max(o, 1), c) for s, o, c in zip(month_start[:-1], open_days, per_month, strict=True)]
        )
    )

    segment = rng.choice(3, size=n, p=SEGMENT_SHARE)
    plan = _choose_rows(rng, PLAN_MIX[segment])
    seats = np.select(
        [segment == 0, segment == 1],
        [np.minimum(1 + rng.geometric(0.35, n), 25), np.clip(rng.lognormal(np.log(15), 0.5, n), 5, 80)],
        np.clip(rng.lognormal(np.log(80), 0.6, n), 30, 600),
    ).astype(int)
    annual = rng.random(n) < ANNUAL_SHARE[segment]
    baseline = rng.lognormal(-0.15, 0.55, n) * np.array([1.0, 1.05, 1.1])[segment]
    region = rng.choice(4, size=n, p=[0.45, 0.3, 0.15, 0.1])
    names, domains = _company_names(rng, n)
    industry = rng.choice(INDUSTRIES, size=n)
    channel = rng.choice(CHANNELS, size=n, p=[0.35, 0.25, 0.2, 0.1, 0.1])
    employees = (seats * rng.uniform(3, 12, n)).astype(int) + 2
    accounts = pd.DataFrame(
        {
            "external_id": [f"ACC-{i + 1:06d}" for i in range(n)],
            "name": names,
            "domain": domains,
            "owner": rng.integers(0, n_csm, n),
            "segment": SEGMENTS[segment],
            "initial_plan": plan,
            "initial_seats": seats,
            "billing_period": np.where(annual, 12, 1),
            "custom_attributes": [
                {"industry": i, "region": r, "employees": int(e), "acquisition_channel": c}
                for i, r, e, c in zip(industry, REGIONS[region], employees, channel, strict=True)
            ],
            "created_at": _instants(start, signup, _work_seconds(rng, REGION_NOON_UTC[region])),
        }
    )
    world = _World(
        start=start,
        days=days,
        signup=signup,
        segment=segment,
        region=region,
        annual=annual,
        baseline=baseline,
        z=(np.log(baseline) + 0.15) / 0.55,
        **{k: np.full(n, NEVER) for k in ("churn", "react", "pause", "dip_start")},
        reason=np.zeros(n, dtype=int),
        decay_window=np.ones(n, dtype=int),
        decay_floor=np.ones(n),
        dip_len=np.zeros(n, dtype=int),
    )
    return world, accounts


def _lifecycle(rng: np.random.Generator, w: _World) -> None:
    """Churn day and reason, the decay before it, win-backs, pauses and champion dips (fills `w` in place)."""
    n = len(w.signup)
    horizon = w.days // 30 + 6  # simulate a little past the window: churn just ahead already shows as decay
    early = np.ones(horizon)
    early[: len(EARLY_HAZARD)] = EARLY_HAZARD[:horizon]
    hazard = MONTHLY_CHURN[w.segment][:, None] * np.exp(-0.7 * w.z)[:, None] * early[None, :]
    hits = rng.random((n, horizon)) < hazard
    month = np.where(hits.any(axis=1), hits.argmax(axis=1), -1)
    life = np.maximum(((month + rng.random(n)) * 30.44).astype(int), 14)
    life = np.where(w.annual, 365 * np.ceil(life / 365).astype(int), life)  # annual customers leave at term end
    w.churn = np.where(month >= 0, w.signup + life, NEVER)

    w.reason = _choose_rows(rng, REASON_MIX[w.segment])
    w.reason = np.where((life < 100) & (rng.random(n) < 0.5), R_ONBOARDING, w.reason)
    w.reason = np.where((w.reason == R_ONBOARDING) & (life > 180), 3, w.reason)  # a late "onboarding" is product fit

    w.decay_window = rng.integers(28, 85, n)
    w.decay_floor = rng.uniform(0.05, 0.3, n)
    silent = rng.random(n) < 0.15  # churners who give no behavioural warning
    w.decay_floor = np.where(silent, 0.9, w.decay_floor)
    w.decay_floor = np.where(w.reason == R_PAYMENT, 0.95, w.decay_floor)  # involuntary: they were still using it
    w.decay_window = np.where(w.reason == R_PAYMENT, 14, w.decay_window)
    w.decay_window = np.where(w.reason == R_CLOSED, 21, w.decay_window)
    if w.mechanism == "usage_decay":
        w.decay_window = rng.integers(45, 121, n)
        w.decay_floor = rng.uniform(0.02, 0.2, n)
    elif w.mechanism != "default":  # the other mechanisms leave overall usage as it was
        w.decay_floor = np.ones(n)

    gap = 30 + rng.exponential(60, n).astype(int)
    comes_back = (rng.random(n) < REACTIVATION_P[w.reason]) & (w.churn + gap < w.days)
    w.react = np.where(comes_back, w.churn + gap, NEVER)

    pause_day = w.days - rng.integers(7, 90, n)
    pauses = (w.churn > w.days) & (pause_day - w.signup > 120) & (rng.random(n) < 0.03)
    w.pause = np.where(pauses, pause_day, NEVER)
    w.churn = np.where(pauses, NEVER, w.churn)  # they paused instead of leaving

    room = np.minimum(w.churn, w.days) - (w.signup + 30)
    dips = (rng.random(n) < 0.12) & (room > 0)
    w.dip_start = np.where(dips, w.signup + 30 + (rng.random(n) * np.maximum(room, 1)).astype(int), NEVER)
    w.dip_len = rng.integers(21, 57, n)


def _plan_price(plan: int, seats: int, annual: bool) -> float:
    return round(float(BASE_FEE[plan] + SEAT_PRICE[plan] * seats) * (ANNUAL_DISCOUNT if annual else 1.0), 2)


def _seat_change(rng: np.random.Generator, w: _World, i: int, day: int, plan: int, seats: int) -> tuple[int, int]:
    """A plan/seat change: engaged accounts grow, and accounts heading for the door shrink first."""
    low, high = PLAN_RANGE[w.segment[i]]
    pressure = 0.8 * w.z[i] + 0.4 - (2.0 if w.churn[i] - day < 60 else 0.0)
    if rng.random() < 1 / (1 + np.exp(-pressure)):
        new_seats = max(seats + 1, int(np.ceil(seats * rng.uniform(1.1, 1.5))))
        return (min(plan + 1, high) if rng.random() < 0.25 else plan), new_seats
    new_seats = max(1, int(seats * rng.uniform(0.6, 0.9)))
    return (max(plan - 1, low) if rng.random() < 0.2 else plan), new_seats


def _subscriptions(rng: np.random.Generator, w: _World, accounts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Subscription rows per account, plus each account's latest plan, seats, MRR and renewal day."""
    rows: list[tuple] = []
    current: list[tuple] = []
    period = accounts["billing_period"].to_numpy()
    for i in range(len(w.signup)):
        plan, seats = int(accounts["initial_plan"].iat[i]), int(accounts["initial_seats"].iat[i])
        annual, churned = bool(w.annual[i]), w.churn[i] <= w.days
        primary_end = int(min(w.churn[i], w.pause[i], w.days))

        changes: set[int] = set()
        if primary_end - w.signup[i] > 31:
            count = rng.poisson((primary_end - w.signup[i]) / 30.44 * 0.05 * np.exp(0.4 * w.z[i]))
            changes = set(rng.integers(w.signup[i] + 30, primary_end, count).tolist())
            downsell = int(w.churn[i] - rng.integers(15, 60))  # some shrink before they cancel
            if w.reason[i] != R_PAYMENT and rng.random() < 0.3 and w.signup[i] + 30 < downsell < primary_end:
                changes.add(downsell)
        row_start = int(w.signup[i])
        for day in sorted(changes):
            new_plan, new_seats = _seat_change(rng, w, i, day, plan, seats)
            if (new_plan, new_seats) != (plan, seats):
                rows.append(
                    (i, PLANS[plan], _plan_price(plan, seats, annual), seats, "seats", row_start, day, "canceled", "")
                )
                plan, seats, row_start = new_plan, new_seats, day
        mrr = _plan_price(plan, seats, annual)
        if churned:
            rows.append(
                (i, PLANS[plan], mrr, seats, "seats", row_start, int(w.churn[i]), "canceled", REASONS[w.reason[i]])
            )
        elif w.pause[i] < NEVER:
            rows.append((i, PLANS[plan], mrr, seats, "seats", row_start, int(w.pause[i]), "canceled", ""))
            rows.append((i, PLANS[plan], 0.0, seats, "seats", int(w.pause[i]), NEVER, "paused", ""))
        else:
            dunning = w.reason[i] == R_PAYMENT and w.churn[i] - 21 < w.days  # card failing, not yet canceled
            rows.append(
                (i, PLANS[plan], mrr, seats, "seats", row_start, NEVER, "past_due" if dunning else "active", "")
            )
        if w.react[i] < NEVER:
            plan = max(plan - int(rng.random() < 0.4), PLAN_RANGE[w.segment[i]][0])
            seats = max(1, int(seats * rng.uniform(0.5, 1.0)))
            mrr = _plan_price(plan, seats, annual)
            rows.append((i, PLANS[plan], mrr, seats, "seats", int(w.react[i]), NEVER, "active", ""))

        addon_start = int(w.signup[i] + rng.integers(0, 120))
        if rng.random() < (0.12, 0.3, 0.45)[w.segment[i]] and addon_start < primary_end:
            product = ("sms_credits", "advanced_analytics", "dedicated_ip")[int(rng.integers(0, 3))]
            addon_mrr = float(rng.choice([20, 49, 99, 149, 299]))
            if rng.random() < 0.2 and primary_end - addon_start > 60:  # dropped the add-on, kept the plan
                end, status, reason = int(addon_start + rng.integers(30, primary_end - addon_start)), "canceled", ""
            elif primary_end < w.days:  # goes with the plan when the account churns or pauses
                end, status, reason = primary_end, "canceled", REASONS[w.reason[i]] if churned else ""
            else:
                end, status, reason = NEVER, "active", ""
            rows.append((i, product, addon_mrr, 1, "add-on", addon_start, end, status, reason))

        anchor = int(w.react[i] if w.react[i] < NEVER else w.signup[i])
        renews = annual and (not churned or w.react[i] < NEVER)
        current.append((PLANS[plan], seats, mrr, anchor + 365 * ((w.days - anchor) // 365 + 1) if renews else NEVER))

    columns = ["account", "product", "mrr", "quantity", "units", "start", "end", "status", "cancellation_reason"]
    frame = pd.DataFrame(rows, columns=columns).sort_values(["account", "start", "product"], kind="stable")
    frame = frame.reset_index(drop=True)
    frame.insert(
        1,
        "external_id",
        [
            f"SUB-{a + 1:06d}-{k:02d}"
            for a, k in zip(frame["account"], frame.groupby("account").cumcount(), strict=True)
        ],
    )
    frame["billing_period"] = period[frame["account"]]
    frame["created_at"] = _instants(w.start, frame["start"].to_numpy(), np.zeros(len(frame)))
    frame["start_date"] = _dates(w.start, frame.pop("start").to_numpy())
    frame["end_date"] = _dates(w.start, frame.pop("end").to_numpy())
    current_df = pd.DataFrame(current, columns=["plan", "seats", "mrr", "renewal"])
    current_df["amount_due"] = (current_df["mrr"] * period).round(2)
    return frame, current_df


def _price_shocks(rng: np.random.Generator, w: _World, subscriptions: pd.DataFrame) -> pd.DataFrame:
    """A price rise of 20–40 % on the main subscription one to three months before each churn (and, at random,
    for 6 % of the accounts that stay): the row active that day ends there and a dearer copy continues it."""
    n = len(w.signup)
    shock = np.where(w.churn < NEVER, w.churn - rng.integers(30, 91, n), NEVER)
    staying = (w.churn >= NEVER) & (rng.random(n) < 0.06)
    shock = np.where(staying, w.signup + rng.integers(60, 600, n), shock)
    rise = rng.uniform(1.2, 1.4, n)
    start = w.start
    rows = []
    for row in subscriptions.itertuples(index=False):
        i = int(row.account)
        day = shock[i]
        begin = (row.start_date - start).days
        end = (row.end_date - start).days if row.end_date is not None else NEVER
        if row.units == "seats" and day < w.days and begin < day < end and day > w.signup[i] + 30:
            shocked = (_dates(start, np.array([day]))[0], round(float(row.mrr) * rise[i], 2))
            rows.append(row._replace(end_date=shocked[0], status="canceled", cancellation_reason="")._asdict())
            rows.append(row._replace(start_date=shocked[0], mrr=shocked[1], external_id=f"{row.external_id}-p",
                                     created_at=pd.Timestamp(shocked[0], tz="UTC"))._asdict())  # fmt: skip
        else:
            rows.append(row._asdict())
    return pd.DataFrame(rows, columns=subscriptions.columns).sort_values(["account", "start_date"], kind="stable")


def _calendar(w: _World) -> np.ndarray:
    """Usage by calendar day: quiet weekends and a year-end lull."""
    dates = np.datetime64(w.start, "D") + np.arange(w.days)
    weekday = (dates.astype(np.int64) - 4) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    month_day = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    holidays = ((month == 12) & (month_day >= 24)) | ((month == 1) & (month_day == 1))
    return np.where(weekday >= 5, 0.25, 1.0) * np.where(holidays, 0.5, 1.0)


def _engagement(rng: np.random.Generator, w: _World) -> np.ndarray:
    """Latent engagement per account and day (accounts × days); 0 while the account holds no subscription."""
    n, t = len(w.signup), np.arange(w.days)
    age = t[None, :] - w.signup[:, None]
    back = t[None, :] >= w.react[:, None]
    ramp = 1 - 0.5 * np.exp(-np.clip(age, 0, None) / 21)  # new accounts take a few weeks to get going
    to_churn = np.clip((w.churn[:, None] - t[None, :]) / w.decay_window[:, None], 0, 1)
    decay = w.decay_floor[:, None] + (1 - w.decay_floor[:, None]) * to_churn
    level = np.where(back, 0.75, ramp * decay)
    # A slow weekly random walk, so healthy accounts wobble too.
    drift = np.empty((n, w.days // 7 + 1), dtype=np.float32)
    x = rng.normal(0, 0.25, n)
    for week in range(drift.shape[1]):
        x = 0.85 * x + rng.normal(0, 0.12, n)
        drift[:, week] = x
    level *= np.exp(drift[:, t // 7])
    in_dip = (t[None, :] >= w.dip_start[:, None]) & (t[None, :] < (w.dip_start + w.dip_len)[:, None])
    level *= np.where(in_dip, 0.4, 1.0) * np.where(t[None, :] >= w.pause[:, None], 0.05, 1.0)
    alive = (age >= 0) & ((t[None, :] < w.churn[:, None]) | back)
    return (w.baseline[:, None] * level * alive).astype(np.float32)


def _contacts(rng: np.random.Generator, w: _World, accounts: pd.DataFrame) -> pd.DataFrame:
    """The product users of each account; `activity` and `joined` are latent and dropped from the output."""
    seats = accounts["initial_seats"].to_numpy()
    extra = np.select([w.segment == 0, w.segment == 1], [rng.poisson(1.5, len(seats)), 2 + rng.poisson(4, len(seats))],
                      5 + rng.poisson(10, len(seats)))  # fmt: skip
    count = np.minimum(seats, 1 + extra)
    account = np.repeat(np.arange(len(seats)), count)
    k = np.arange(len(account)) - np.repeat(np.cumsum(count) - count, count)
    first = rng.choice(FIRST_NAMES, len(account))
    last = rng.choice(LAST_NAMES, len(account))
    domains = accounts["domain"].to_numpy()
    emails, taken = [], set()
    for a, f, la in zip(account, first, last, strict=True):
        local = f"{f}.{la}"
        while (a, local) in taken:
            local += str(len(local) % 10)
        taken.add((a, local))
        emails.append(f"{local}@{domains[a]}")
    joined = w.signup[account] + np.where(k == 0, 0, rng.integers(0, 90, len(account)))
    activity = rng.lognormal(-0.32, 0.8, len(account)) * np.where(rng.random(len(account)) < 0.15, 0.1, 1.0)
    activity = np.where(k == 0, activity * 1.5, activity)  # the champion uses it most
    ext = [f"{a + 1:06d}_{j:02d}" for a, j in zip(account, k, strict=True)]
    return pd.DataFrame(
        {
            "account": account,
            "external_id": [f"CON-{e}" for e in ext],
            "user_id": [f"usr_{e}" for e in ext],
            "email": emails,
            "name": [f"{f.title()} {la.title()}" for f, la in zip(first, last, strict=True)],
            "title": rng.choice(TITLES, len(account)),
            "is_primary": k == 0,
            "created_at": _instants(w.start, joined, _work_seconds(rng, REGION_NOON_UTC[w.region[account]])),
            "activity": activity,
            "joined": joined,
        }
    )


def _json_values(key: str, values: np.ndarray) -> np.ndarray:
    """'{"key": value}' strings for many values at once (numbers unquoted, strings JSON-quoted)."""
    if values.dtype.kind in "iuf":
        return ('{"' + key + '": ' + pd.Series(values).astype(str) + "}").to_numpy(dtype=object)
    choices, index = np.unique(values, return_inverse=True)
    return np.array([json.dumps({key: str(c)}) for c in choices], dtype=object)[index]


def _usage_events(
    rng: np.random.Generator,
    w: _World,
    engagement: np.ndarray,
    contacts: pd.DataFrame,
    current: pd.DataFrame,
    seed: int,
) -> pd.DataFrame:
    """Product events: Poisson counts per user and day from engagement, then types, times and properties."""
    calendar = _calendar(w)
    offsets = np.searchsorted(contacts["account"].to_numpy(), np.arange(len(w.signup) + 1))
    activity, joined = contacts["activity"].to_numpy(), contacts["joined"].to_numpy()
    users, days = [], []
    for i in range(len(w.signup)):
        first, last = int(w.signup[i]), int(w.days if w.react[i] < NEVER else min(w.churn[i], w.days))
        if last <= first:
            continue
        members = slice(offsets[i], offsets[i + 1])
        day = np.arange(first, last)
        rate = EVENT_RATE * (engagement[i, first:last] * calendar[first:last])[None, :] * activity[members, None]
        counts = rng.poisson(rate * (day[None, :] >= joined[members, None]))
        user, d = np.nonzero(counts)
        repeat = counts[user, d]
        users.append(np.repeat(user + offsets[i], repeat))
        days.append(np.repeat(d + first, repeat))
    user = np.concatenate(users) if users else np.zeros(0, dtype=np.int64)
    day = np.concatenate(days) if days else np.zeros(0, dtype=np.int64)
    account = contacts["account"].to_numpy()[user]
    n = len(user)

    # Engaged days carry more real work; on quiet days people log in and leave.
    key = rng.random(n) < np.clip(0.08 + 0.22 * engagement[account, day], 0.04, 0.5)
    kind = rng.choice(len(KEY_EVENTS), n, p=KEY_EVENT_SHARE)
    event_type = np.where(key, KEY_EVENTS[kind], "login").astype(object)
    if w.mechanism == "silent":  # churners stop viewing reports over the ~75 days before they leave
        fading = np.clip((w.churn[account] - day) / 75, 0, 1)
        stopped = (event_type == "report_viewed") & (w.churn[account] < NEVER) & (rng.random(n) > fading)
        event_type[stopped] = "login"
    properties = np.full(n, "{}", dtype=object)
    sent = event_type == "campaign_sent"
    recipients = rng.lognormal(6.2, 1.0, int(sent.sum())) * (1 + w.segment[account[sent]])
    properties[sent] = _json_values("recipients", recipients.astype(int))
    for name, prop, choices in (
        ("campaign_created", "channel", ["email", "email", "email", "sms"]),
        ("report_viewed", "report", REPORTS),
        ("integration_connected", "integration", INTEGRATIONS),
    ):
        chosen = event_type == name
        properties[chosen] = _json_values(prop, rng.choice(np.array(choices), int(chosen.sum())))
    imported = event_type == "list_imported"
    properties[imported] = _json_values("rows", rng.integers(50, 20000, int(imported.sum())))
    seconds = _work_seconds(rng, REGION_NOON_UTC[w.region[account]])

    # Failed card charges: the dunning retries before an involuntary churn, and a few that later recovered.
    dunning = np.flatnonzero((w.reason == R_PAYMENT) & (w.churn < NEVER))
    failed_account = np.concatenate([np.repeat(dunning, 3), np.flatnonzero(rng.random(len(w.signup)) < 0.05)])
    failed_day = np.concatenate(
        [np.repeat(w.churn[dunning], 3) - np.tile([21, 14, 7], len(dunning)),
         w.signup[failed_account[3 * len(dunning):]] + rng.integers(30, 400, len(failed_account) - 3 * len(dunning))]
    )  # fmt: skip
    alive = (failed_day >= w.signup[failed_account]) & (failed_day < np.minimum(w.churn[failed_account], w.days))
    failed_account, failed_day = failed_account[alive], failed_day[alive]
    amounts = current["amount_due"].to_numpy()[failed_account]

    account = np.concatenate([account, failed_account])
    day = np.concatenate([day, failed_day])
    seconds = np.concatenate([seconds, np.full(len(failed_day), 6 * 3600)])
    order = np.lexsort((account, day * 86400 + seconds))  # message ids follow time
    frame = pd.DataFrame(
        {
            "account": account[order],
            "user_id": np.concatenate(
                [contacts["user_id"].to_numpy()[user], np.full(len(failed_day), "", dtype=object)]
            )[order],
            "event_type": np.concatenate([event_type, np.full(len(failed_day), "payment_failed", dtype=object)])[order],
            "occurred_at": _instants(w.start, day[order], seconds[order]),
            "properties": np.concatenate([properties, _json_values("amount", amounts)])[order],
        }
    )
    frame["message_id"] = (f"sim-{seed}-" + pd.Series(np.arange(len(frame))).astype(str)).to_numpy(dtype=object)
    frame["received_at"] = frame["occurred_at"] + pd.to_timedelta(rng.integers(1, 30, len(frame)), unit="s")
    return frame


def _alive_days(rng: np.random.Generator, w: _World, account: np.ndarray) -> np.ndarray:
    """A uniformly drawn day on which each given account held a subscription (first life, then after a win-back)."""
    first_life = np.minimum(w.churn, w.days) - w.signup
    second_life = np.where(w.react < NEVER, w.days - w.react, 0)
    offset = (rng.random(len(account)) * (first_life + second_life)[account]).astype(np.int64)
    after = offset >= first_life[account]
    return np.where(after, w.react[account] + offset - first_life[account], w.signup[account] + offset)


def _tickets(rng: np.random.Generator, w: _World) -> pd.DataFrame:
    """Support tickets: a steady trickle per account, and a cluster in the weeks before churn."""
    n = len(w.signup)
    life = np.minimum(w.churn, w.days) - w.signup + np.where(w.react < NEVER, w.days - w.react, 0)
    base = np.repeat(np.arange(n), rng.poisson(0.01 * np.array([1.0, 1.6, 2.5])[w.segment] * life))
    churners = np.flatnonzero(w.churn < NEVER)
    mu = np.where(np.isin(w.reason[churners], [1, 2, 3, 5, R_ONBOARDING]), 2.5, 1.2)
    mu = np.where(np.isin(w.reason[churners], [R_CLOSED, R_PAYMENT]), 0.6, mu)
    spread = 15
    if w.mechanism == "ticket_storm":
        mu, spread = np.full(len(churners), 5.0), 25
    elif w.mechanism != "default":
        mu = mu * 0.2
    late = np.repeat(churners, rng.poisson(mu))
    late_day = w.churn[late] - 1 - rng.exponential(spread, len(late)).astype(np.int64)
    keep = (late_day >= w.signup[late]) & (late_day < w.days)
    late, late_day = late[keep], late_day[keep]

    account = np.concatenate([base, late])
    day = np.concatenate([_alive_days(rng, w, base), late_day])
    troubled = np.arange(len(account)) >= len(base)
    topic_index = rng.choice(len(TICKET_TOPICS), len(account), p=[0.2, 0.25, 0.12, 0.13, 0.12, 0.08, 0.1])
    reason_topic = np.array([TICKET_TOPICS.index(topic) for topic in REASON_TOPIC])[w.reason[account]]
    topic_index = np.where(troubled & (rng.random(len(account)) < 0.6), reason_topic, topic_index)
    subject = np.empty(len(account), dtype=object)
    pick = rng.integers(0, 3, len(account))
    for t, topic in enumerate(TICKET_TOPICS):
        subject[topic_index == t] = np.array(TICKET_SUBJECTS[topic], dtype=object)[pick[topic_index == t]]
    priorities = np.array(["low", "normal", "high", "urgent"], dtype=object)
    priority = np.where(
        troubled,
        priorities[rng.choice(4, len(account), p=[0.1, 0.4, 0.35, 0.15])],
        priorities[rng.choice(4, len(account), p=[0.25, 0.55, 0.15, 0.05])],
    )
    opened = _instants(w.start, day, _work_seconds(rng, REGION_NOON_UTC[w.region[account]]))
    # Most tickets close within a day; trouble takes longer, and a few get stuck waiting on the customer.
    hours = rng.lognormal(np.log(18), 1.1, len(account)) * np.where(troubled, 2.5, 1.0)
    hours *= np.where(rng.random(len(account)) < 0.04, 20, 1)
    resolved = opened + pd.to_timedelta(np.round(hours * 3600), unit="s")
    now = pd.Timestamp(w.start, tz="UTC") + pd.Timedelta(days=w.days)
    unresolved = (resolved >= now).to_numpy()
    status = np.where(resolved < now - pd.Timedelta(days=7), "closed", "resolved").astype(object)
    status[unresolved] = np.where((now - opened[unresolved]) < pd.Timedelta(days=2), "open", "pending")
    frame = pd.DataFrame(
        {
            "account": account,
            "subject": subject,
            "status": status,
            "priority": priority,
            "opened_at": opened,
            "resolved_at": resolved.where(~unresolved),
        }
    )
    frame = frame.sort_values(["opened_at", "account"], kind="stable").reset_index(drop=True)
    frame.insert(1, "external_id", [f"TCK-{k + 1:07d}" for k in range(len(frame))])
    return frame


def _comments(rng: np.random.Generator, theme: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """A comment of the given theme where wanted, else blank."""
    out = np.full(len(theme), "", dtype=object)
    pick = rng.integers(0, 3, len(theme))
    for name, texts in COMMENTS.items():
        here = wanted & (theme == name)
        out[here] = np.array(texts, dtype=object)[pick[here] % len(texts)]
    return out


def _surveys(
    rng: np.random.Generator, w: _World, engagement: np.ndarray, contacts: pd.DataFrame, tickets: pd.DataFrame
) -> pd.DataFrame:
    """Quarterly NPS waves and CSAT after resolved tickets; scores follow engagement, comments name the pain."""
    offsets = np.searchsorted(contacts["account"].to_numpy(), np.arange(len(w.signup) + 1))
    size = np.diff(offsets)
    parts = []
    for wave in range(45, w.days, 91):
        asked = np.flatnonzero(w.alive(wave) & (w.signup <= wave - 30))
        account = asked[rng.random(len(asked)) < 0.35]
        recent = engagement[account, max(wave - 30, 0) : wave].mean(axis=1)
        score = np.clip(np.round(7.6 + 1.7 * np.log(recent + 0.05) + rng.normal(0, 1.5, len(account))), 0, 10)
        upcoming = (w.churn[account] > wave) & (w.churn[account] - wave <= 150)
        named = np.array(REASON_THEME, dtype=object)[w.reason[account]]
        theme = np.where(upcoming & (rng.random(len(account)) < 0.7), named, rng.choice(NEGATIVE_THEMES, len(account)))
        theme = np.where(score >= 9, "positive", np.where(score >= 7, "neutral", theme))
        contact = offsets[account] + np.where(
            rng.random(len(account)) < 0.6, 0, rng.integers(0, 1000, len(account)) % size[account]
        )
        day = np.minimum(wave + rng.exponential(4, len(account)).astype(np.int64), w.days - 1)
        parts.append(
            pd.DataFrame(
                {
                    "account": account,
                    "contact": contact,
                    "kind": "nps",
                    "score": score.astype(int),
                    "comment": _comments(rng, theme, rng.random(len(account)) < 0.45),
                    "responded_at": _instants(w.start, day, _work_seconds(rng, REGION_NOON_UTC[w.region[account]])),
                }
            )
        )

    done = tickets[tickets["resolved_at"].notna()]
    done = done[rng.random(len(done)) < 0.35]
    account = done["account"].to_numpy()
    hours = ((done["resolved_at"] - done["opened_at"]).dt.total_seconds() / 3600).to_numpy()
    opened_day = ((done["opened_at"] - pd.Timestamp(w.start, tz="UTC")).dt.days).to_numpy()
    mood = 0.5 * np.log(engagement[account, opened_day] + 0.05) - 0.35 * np.log(hours / 16)
    score = np.clip(np.round(4.2 + mood + rng.normal(0, 0.8, len(done))), 1, 5).astype(int)
    theme = np.where(score <= 2, "support", np.where(score == 3, "neutral", "positive"))
    responded = done["resolved_at"] + pd.to_timedelta(rng.integers(3600, 48 * 3600, len(done)), unit="s")
    now = pd.Timestamp(w.start, tz="UTC") + pd.Timedelta(days=w.days)
    parts.append(
        pd.DataFrame(
            {
                "account": account,
                "contact": offsets[account] + rng.integers(0, 1000, len(done)) % size[account],
                "kind": "csat",
                "score": score,
                "comment": _comments(rng, theme, rng.random(len(done)) < 0.3),
                "responded_at": responded.to_numpy(),
            }
        )[(responded < now).to_numpy()]
    )
    frame = pd.concat(parts, ignore_index=True)
    frame["responded_at"] = pd.to_datetime(frame["responded_at"], utc=True)
    return frame.sort_values(["responded_at", "account", "kind"], kind="stable").reset_index(drop=True)


def _account_state(
    rng: np.random.Generator,
    w: _World,
    engagement: np.ndarray,
    accounts: pd.DataFrame,
    current: pd.DataFrame,
    events: pd.DataFrame,
    surveys: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Status, lifecycle stage, tier, plan, renewal, last seen and tags as they stand on the end date.

    At risk comes from what a CSM can see (usage well below the account's own norm, or a pause), never from the
    latent churn date.
    """
    n, days = len(w.signup), w.days
    ratio = engagement[:, max(days - 28, 0) :].mean(axis=1) / w.baseline
    churned = (w.churn <= days) & (w.react == NEVER)
    won_back = w.react < NEVER
    status = np.select(
        [churned, won_back, days - w.signup < 45, (ratio < 0.5) | (w.pause < NEVER)],
        ["churned", "won_back", "onboarding", "at_risk"],
        "active",
    ).astype(object)
    renewal = current["renewal"].to_numpy()
    nps = surveys[surveys["kind"] == "nps"].groupby("account")["score"].last().reindex(range(n), fill_value=0)
    stage = np.select(
        [
            churned,
            status == "onboarding",
            status == "at_risk",
            won_back & (days - w.react < 45),
            renewal - days <= 90,
            (nps.to_numpy() >= 9) & (ratio >= 0.9),
        ],
        ["churned", "onboarding", "at_risk", "onboarding", "renewal", "advocate"],
        "adopted",
    ).astype(object)
    mrr = current["mrr"].to_numpy()
    seen = events[events["user_id"] != ""].groupby("account")["occurred_at"].max().reindex(range(n))
    frame = accounts[["external_id", "name", "domain", "owner", "segment"]].copy()
    frame["tier"] = np.select([mrr >= 2000, mrr >= 300], ["gold", "silver"], "bronze").astype(object)
    frame["plan"] = current["plan"].to_numpy()
    frame["lifecycle_stage"] = stage
    frame["status"] = status
    frame["renewal_date"] = _dates(w.start, renewal)
    frame["custom_attributes"] = accounts["custom_attributes"]
    frame["created_at"] = accounts["created_at"]
    frame["last_seen_at"] = seen.to_numpy()

    enterprise = w.segment == 2
    top = np.quantile(mrr[enterprise], 0.75) if enterprise.any() else np.inf
    tagged = {
        "champion-left": w.dip_start < days,
        "upsell": (status == "active") & (ratio > 1.3),
        "beta": ~churned & (rng.random(n) < 0.06),
        "paused": w.pause < NEVER,
        "strategic": enterprise & (mrr >= top) & ~churned,
    }
    tags = pd.DataFrame(
        [(int(a), name) for name, mask in tagged.items() for a in np.flatnonzero(mask)], columns=["account", "tag"]
    )
    return frame, tags.sort_values(["account", "tag"], kind="stable").reset_index(drop=True)


def _crm_work(
    rng: np.random.Generator, w: _World, accounts: pd.DataFrame, current: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The CSMs' timeline entries (calls, notes, meetings, a cancellation call) and their tasks, open and done."""
    n, days = len(w.signup), w.days
    owner = accounts["owner"].to_numpy()
    life = np.minimum(w.churn, days) - w.signup + np.where(w.react < NEVER, days - w.react, 0)
    touch = np.repeat(np.arange(n), rng.poisson(np.array([0.3, 0.8, 1.6])[w.segment] * life / 30.44))
    kinds = np.array(list(ACTIVITY_SUBJECTS), dtype=object)
    kind = kinds[rng.choice(len(kinds), len(touch), p=[0.3, 0.2, 0.35, 0.15])]
    pick = rng.integers(0, 4, len(touch))
    subject = np.empty(len(touch), dtype=object)
    for name, texts in ACTIVITY_SUBJECTS.items():
        subject[kind == name] = np.array(texts, dtype=object)[pick[kind == name] % len(texts)]
    kickoff = np.flatnonzero((w.segment > 0) & (w.signup + 7 < days))
    canceled = np.flatnonzero(w.churn <= days)
    account = np.concatenate([touch, kickoff, canceled])
    day = np.concatenate(
        [
            _alive_days(rng, w, touch),
            w.signup[kickoff] + rng.integers(2, 8, len(kickoff)),
            np.maximum(w.churn[canceled] - rng.integers(0, 10, len(canceled)), w.signup[canceled]),
        ]
    )
    reasons = np.array([r.replace("_", " ") for r in REASONS], dtype=object)[w.reason[canceled]]
    activities = pd.DataFrame(
        {
            "account": account,
            "kind": np.concatenate([kind, np.full(len(kickoff), "meeting"), np.full(len(canceled), "call")]),
            "author": owner[account],
            "subject": np.concatenate(
                [subject, np.full(len(kickoff), "Onboarding kickoff"), np.full(len(canceled), "Cancellation call")]
            ),  # fmt: skip
            "body": np.concatenate(
                [
                    np.full(len(touch), "Logged by the account owner."),
                    np.full(len(kickoff), "Agreed goals, owners and a go-live date."),
                    "Customer is cancelling. Main reason given: " + reasons + ".",
                ]
            ),
            "occurred_at": _instants(w.start, day, _work_seconds(rng, REGION_NOON_UTC[w.region[account]])),
        }
    ).sort_values(["occurred_at", "account"], kind="stable")

    status = accounts["status"].to_numpy()
    renewing = current["renewal"].to_numpy() - days <= 60
    at_risk = status == "at_risk"
    chance = 0.1 + 0.45 * at_risk + 0.4 * renewing
    open_ = np.flatnonzero(w.alive(days) & (rng.random(n) < chance))
    routine = rng.choice(["Quarterly check-in", "Review open tickets", "Share best practices"], len(open_))
    title = np.where(at_risk[open_], "Follow up on low usage", np.where(renewing[open_], "Prepare renewal", routine))
    due = days + rng.integers(-14, 22, len(open_))  # some overdue, most coming up
    done = np.repeat(np.arange(n), rng.poisson(0.12 * life / 30.44))
    done_day = _alive_days(rng, w, done)
    completed = np.minimum(done_day + rng.integers(-3, 4, len(done)), days - 1)
    account = np.concatenate([open_, done])
    due_day = np.concatenate([due, done_day])
    tasks = pd.DataFrame(
        {
            "account": account,
            "assignee": owner[account],
            "created_by": owner[account],
            "title": np.concatenate(
                [
                    title,
                    rng.choice(
                        ["Send onboarding checklist", "Confirm renewal terms", "Review usage with champion"], len(done)
                    ),
                ]
            ),  # fmt: skip
            "description": "",
            "due_date": _dates(w.start, due_day),
            "priority": np.concatenate(
                [
                    np.where(at_risk[open_], "high", np.where(renewing[open_], "normal", "low")),
                    np.full(len(done), "normal"),
                ]
            ),
            "status": np.concatenate([np.full(len(open_), "open"), np.full(len(done), "done")]),
            "source": "manual",
            "outcome": np.concatenate(
                [
                    np.full(len(open_), ""),
                    rng.choice(["Customer happy", "Left a voicemail", "Scheduled a QBR"], len(done)),
                ]
            ),
            "created_at": _instants(
                w.start,
                np.minimum(due_day - rng.integers(5, 25, len(account)), days - 1),
                np.full(len(account), 9 * 3600),
            ),
            "completed_at": pd.concat(
                [
                    pd.Series(pd.NaT, index=range(len(open_)), dtype="datetime64[ns, UTC]"),
                    _instants(w.start, completed, np.full(len(done), 15 * 3600)),
                ],
                ignore_index=True,
            ),  # fmt: skip
        }
    )
    return activities.reset_index(drop=True), tasks
