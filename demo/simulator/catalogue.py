"""The demo world's vocabulary and rates: segments, plans and prices, churn hazards and reasons, event types,
names and texts. Plain constants; every stage of `demo.simulator` reads them, none writes them."""

from __future__ import annotations

import numpy as np

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
