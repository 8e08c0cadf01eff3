"""The playbook's reports: the impact of enrolling (enrolled vs held-out accounts) and the paths enrolments took.

Holdouts are drawn at enrolment and take no path; each path (and each exit of a branch or wait) is reported with
how many enrolments took it, how they stand now and their retention against the held-out accounts'.
"""

from __future__ import annotations

from django.db.models import Avg, Count, F, Q

from accounts.models import AccountStatus
from automations import impact
from automations.models import Enrolment, EnrolmentStatus, EnrolmentStepRun, Playbook, StepOutcome

EXITS = (StepOutcome.THEN, StepOutcome.ELSE, StepOutcome.CONDITION, StepOutcome.TIMEOUT)


def playbook_impact(*, playbook: Playbook) -> dict:
    """Enrolled vs held-out accounts (intention to treat): retention, health change and NRR, with 95% intervals.

    Retained = not churned now; health change = score now − score at enrolment; NRR = Σ MRR now ÷ Σ MRR at
    enrolment over accounts that had MRR then.
    """
    rows = list(
        Enrolment.objects.filter(playbook=playbook).values(
            "holdout", "baseline_health", "baseline_mrr", "account__status", "account__health_score", "account__mrr"
        )
    )
    groups = {False: [r for r in rows if not r["holdout"]], True: [r for r in rows if r["holdout"]]}

    def retained(rs):
        return sum(r["account__status"] != AccountStatus.CHURNED for r in rs)

    def health(rs):
        return [
            r["account__health_score"] - r["baseline_health"]
            for r in rs
            if r["account__health_score"] is not None and r["baseline_health"] is not None
        ]

    def mrr(rs):
        rs = [r for r in rs if r["baseline_mrr"]]
        return [float(r["account__mrr"]) for r in rs], [float(r["baseline_mrr"]) for r in rs]

    enrolled, held = groups[False], groups[True]
    retention = impact.proportion_diff(retained(enrolled), len(enrolled), retained(held), len(held))
    health_change = impact.mean_diff(health(enrolled), health(held))
    nrr = impact.ratio_diff(*mrr(enrolled), *mrr(held))
    return {
        "n_enrolled": len(enrolled),
        "n_holdout": len(held),
        "retention": retention,
        "health_change": health_change,
        "nrr": nrr,
        "significant": {
            k: impact.significant(v)
            for k, v in (("retention", retention), ("health_change", health_change), ("nrr", nrr))
        },
    }


def _retention(retained: int, n: int, held_retained: int, held_n: int) -> dict:
    """The retention of a path's enrolments against the held-out accounts' (its own rate even with no holdout)."""
    out = impact.proportion_diff(retained, n, held_retained, held_n)
    if out["a"] is None and n:
        out["a"] = retained / n
    return out


def _holdout(playbook: Playbook) -> tuple[int, int]:
    """(retained, n) of the held-out accounts."""
    held = Enrolment.objects.filter(playbook=playbook, holdout=True).aggregate(
        n=Count("id"), retained=Count("id", filter=~Q(account__status=AccountStatus.CHURNED))
    )
    return held["retained"], held["n"]


def playbook_exits(*, playbook: Playbook) -> list[dict]:
    """Per exit of each branch (then / else) and wait until a condition (condition held / timed out): how many
    enrolments took it, how many are active, completed or stopped, their health change since enrolment and their
    retention against the held-out accounts'. One query (and one for the holdout)."""
    held_retained, held_n = _holdout(playbook)
    churned = Q(enrolment__account__status=AccountStatus.CHURNED)
    rows = (
        EnrolmentStepRun.objects.filter(enrolment__playbook=playbook, outcome__in=EXITS)
        .values("order", "kind", "outcome")
        .annotate(
            n=Count("enrolment", distinct=True),
            retained=Count("enrolment", distinct=True, filter=~churned),
            active=Count("enrolment", distinct=True, filter=Q(enrolment__status=EnrolmentStatus.ACTIVE)),
            completed=Count("enrolment", distinct=True, filter=Q(enrolment__status=EnrolmentStatus.COMPLETED)),
            stopped=Count("enrolment", distinct=True, filter=Q(enrolment__status=EnrolmentStatus.STOPPED)),
            health_change=Avg(F("enrolment__account__health_score") - F("enrolment__baseline_health")),
        )
        .order_by("order", "outcome")
    )
    return [
        {**row, "outcome_label": StepOutcome(row["outcome"]).label,
         "retention": _retention(row["retained"], row["n"], held_retained, held_n)}
        for row in rows
    ]  # fmt: skip


def enrolment_paths(*, enrolment_ids: list[int]) -> dict[int, list[dict]]:
    """Each enrolment's path: the steps it ran in order, each {order, kind, outcome, outcome_label}. One query."""
    paths: dict[int, list[dict]] = {pk: [] for pk in enrolment_ids}
    runs = EnrolmentStepRun.objects.filter(enrolment_id__in=enrolment_ids).order_by("enrolment_id", "ran_at", "id")
    for enrolment_id, order, kind, outcome in runs.values_list("enrolment_id", "order", "kind", "outcome"):
        label = StepOutcome(outcome).label if outcome else ""
        paths[enrolment_id].append({"order": order, "kind": kind, "outcome": outcome, "outcome_label": label})
    return paths


def playbook_paths(*, playbook: Playbook, limit: int = 12) -> list[dict]:
    """The paths enrolments took (the sequence of steps, with each branch's exit), most taken first: per path how
    many enrolments, how they stand now and their retention against the held-out accounts'. Two queries."""
    held_retained, held_n = _holdout(playbook)
    enrolled = {
        row["pk"]: row
        for row in Enrolment.objects.filter(playbook=playbook, holdout=False).values("pk", "status", "account__status")
    }
    runs = (
        EnrolmentStepRun.objects.filter(enrolment__playbook=playbook, enrolment__holdout=False)
        .order_by("enrolment_id", "ran_at", "id")
        .values_list("enrolment_id", "order", "outcome")
    )
    by_enrolment: dict[int, list[tuple[int, str]]] = {}
    for enrolment_id, order, outcome in runs:
        by_enrolment.setdefault(enrolment_id, []).append((order, outcome))
    groups: dict[tuple, dict] = {}
    for pk, row in enrolled.items():
        key = tuple(by_enrolment.get(pk, ()))
        group = groups.setdefault(key, {"n": 0, "retained": 0, "active": 0, "completed": 0, "stopped": 0})
        group["n"] += 1
        group["retained"] += row["account__status"] != AccountStatus.CHURNED
        if row["status"] in (EnrolmentStatus.ACTIVE, EnrolmentStatus.COMPLETED, EnrolmentStatus.STOPPED):
            group[row["status"]] += 1
    out = []
    for key, group in sorted(groups.items(), key=lambda kv: (-kv[1]["n"], kv[0]))[:limit]:
        steps = [{"order": order, "outcome": outcome, "outcome_label": StepOutcome(outcome).label if outcome else ""}
                 for order, outcome in key]  # fmt: skip
        retention = _retention(group["retained"], group["n"], held_retained, held_n)
        out.append({**group, "steps": steps, "retention": retention})
    return out
