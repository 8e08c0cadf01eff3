"""`manage.py winback_report`: what the feedback and win-back flows hold now, in figures (for release notes)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from winback import selectors


class Command(BaseCommand):
    help = "Print churn by type, the reason × value grid, NPS, follow-up SLA, themes, campaign KPIs and dunning."

    def handle(self, *args, **options) -> None:
        out = self.stdout.write
        summary = selectors.churn_summary()
        out("Churn records by type:")
        for t in summary["types"]:
            out(f"  {t['label']:<12} {t['count']:>6}  ${t['mrr']:,.0f} MRR lost")
        out(
            f"Reactivated: {summary['reactivated']} (attributed to a win-back touch: "
            f"{summary['reactivated_attributed']}), ${summary['mrr_won_back']:,.0f} MRR won back"
        )
        grid = selectors.winback_grid()
        out(f"Churned, not won back, by reason × value ({grid['accounts']} accounts):")
        out(f"  {'reason':<18}" + "".join(f"{label:>14}" for _, label in grid["bands"]))
        for row in grid["rows"]:
            out(f"  {row['label']:<18}" + "".join(f"{c['count']:>14}" for c in row["cells"]))
        nps = selectors.nps_summary()
        out(f"NPS {nps['nps']} over {nps['n']} answers ({nps['promoters']} promoters, {nps['detractors']} detractors)")
        funnel = selectors.survey_funnel()
        out(f"Surveys: {funnel['invited']} invited, {funnel['sent']} sent, {funnel['answered']} answered by link")
        sla = selectors.detractor_sla()
        out(f"Detractor follow-up: {sla['total']} routed, {sla['within_sla']} within SLA, {sla['overdue']} overdue")
        out("Themes (comments, NPS):")
        for theme in selectors.theme_stats():
            out(f"  {theme['name']:<22} {theme['n']:>6}  {theme['nps']}")
        out("Campaigns:")
        for c in selectors.campaign_kpis():
            out(
                f"  {c['campaign'].name:<40} enrolled {c['enrolled']:>4} contacted {c['contacted']:>4} "
                f"suppressed {c['suppressed']:>3} reactivated {c['reactivated']:>3} ${c['mrr_won_back']:,.0f}"
            )
        dunning = selectors.dunning_summary()
        out(f"Dunning: {dunning['open']} open, {dunning['recovered']} recovered, {dunning['exhausted']} exhausted")
