"""Reads of the win-back domain, one module per subject: churn records and the win-back grid (`churn`), survey
answers and NPS (`surveys`), the follow-up SLA (`sla`), themes (`themes`), campaign KPIs (`campaigns`),
payments and dunning (`dunning`), the dashboards' results (`results`) and the stored page facts (`page_facts`).

The names are re-exported here, so `from winback import selectors` keeps reading `selectors.winback_grid`."""

from winback.selectors.campaigns import campaign_kpis, conversion_by_offer, response_by_touchpoint
from winback.selectors.churn import (
    BANDS,
    account_winback_state,
    active_reasons,
    churn_records,
    churn_summary,
    reason_choices,
    reason_objects,
    reason_tree,
    winback_grid,
)
from winback.selectors.dunning import cards_expiring, dunning_summary, payment_failures, payment_recoveries
from winback.selectors.page_facts import (
    FEEDBACK_WINDOW_DAYS,
    feedback_facts,
    feedback_figures,
    overview_facts,
    overview_figures,
    page_facts,
)
from winback.selectors.results import reactivated_accounts, winback_results
from winback.selectors.sla import detractor_sla, issue_routes
from winback.selectors.surveys import (
    dissatisfied_q,
    latest_nps_by_account,
    nps_summary,
    open_follow_ups,
    recent_responses,
    responses_page,
    survey_contact,
    survey_funnel,
    survey_invitation,
    survey_invitations,
)
from winback.selectors.themes import cluster_examples, latest_cluster_run, theme_monthly, theme_stats

__all__ = [
    "BANDS",
    "FEEDBACK_WINDOW_DAYS",
    "account_winback_state",
    "active_reasons",
    "campaign_kpis",
    "cards_expiring",
    "churn_records",
    "churn_summary",
    "cluster_examples",
    "conversion_by_offer",
    "detractor_sla",
    "dissatisfied_q",
    "dunning_summary",
    "feedback_facts",
    "feedback_figures",
    "issue_routes",
    "latest_cluster_run",
    "latest_nps_by_account",
    "nps_summary",
    "open_follow_ups",
    "overview_facts",
    "overview_figures",
    "page_facts",
    "payment_failures",
    "payment_recoveries",
    "reactivated_accounts",
    "reason_choices",
    "reason_objects",
    "reason_tree",
    "recent_responses",
    "response_by_touchpoint",
    "responses_page",
    "survey_contact",
    "survey_funnel",
    "survey_invitation",
    "survey_invitations",
    "theme_monthly",
    "theme_stats",
    "winback_grid",
    "winback_results",
]
