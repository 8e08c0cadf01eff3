"""Survey KPIs: NPS and CSAT from the counts of responses per score."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext_noop

from dashboards.kpis.formulas._common import Reasons, Row


def nps(counts: Sequence[int]) -> Row:
    """NPS = % promoters (9–10) − % detractors (0–6) of the responses; `counts[s]` = responses with score s."""
    reasons = Reasons()
    n = sum(counts)
    promoters, passives, detractors = sum(counts[9:11]), sum(counts[7:9]), sum(counts[0:7])
    why = gettext_noop("No NPS response in the period.")
    pct = {key: reasons.ratio(key, 100 * part, n, why) for key, part in
           (("pct_promoters", promoters), ("pct_passives", passives), ("pct_detractors", detractors))}  # fmt: skip
    return {
        "nps": reasons.ratio("nps", 100 * (promoters - detractors), n, why),
        "n_responses": n,
        "n_promoters": promoters,
        "n_passives": passives,
        "n_detractors": detractors,
        **pct,
        "distribution": list(counts),
        "reasons": reasons,
    }


def csat(counts: Sequence[int]) -> Row:
    """CSAT = satisfied responses (4–5 on 1–5) ÷ all responses × 100; `counts[i]` = responses with score i + 1."""
    reasons = Reasons()
    n = sum(counts)
    satisfied = counts[3] + counts[4]
    return {
        "csat": reasons.ratio("csat", 100 * satisfied, n, gettext_noop("No CSAT response in the period.")),
        "n_responses": n,
        "n_satisfied": satisfied,
        "distribution": list(counts),
        "reasons": reasons,
    }
