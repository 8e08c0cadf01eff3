"""Historical evaluators of the fact leaves: tickets (opened / resolved times), survey answers, follow-up tasks,
billing events, milestone progress and subscriptions (renewals, purchases, expansion, MRR, status) — each read once
as a frame and turned into intervals of days per account."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from django.utils.translation import gettext

from accounts.models import (
    Account,
    AccountStatus,
    Activity,
    ActivityKind,
    BillingEvent,
    Subscription,
    SupportTicket,
    SurveyResponse,
    Task,
    TaskPriority,
)
from automations.backtest.grid import NEVER, Grid, after, at_or_after, numbers
from automations.conditions.base import OPEN_TICKET, ConditionError, as_int, as_list, as_number
from automations.models import MilestoneProgress
from health.models import FeatureFirstUse


def _frame(queryset, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(queryset.values_list(*columns)), columns=columns)


def ticket_open_longer(spec: dict, grid: Grid) -> np.ndarray:
    hours = as_number(spec, "hours", default=0) + 24 * as_number(spec, "days", default=0)
    if hours <= 0:
        raise ConditionError(gettext("ticket_open_longer: give 'days' or 'hours'."))
    tickets = _frame(
        SupportTicket.objects.exclude(resolved_at__lt=pd.Timestamp(grid.start, tz="UTC")),
        ["account_id", "opened_at", "resolved_at", "status"],
    )
    opened, resolved = numbers(tickets["opened_at"], grid.start), numbers(tickets["resolved_at"], grid.start)
    # Closed without a resolution time: when it closed is unknown, so it never counts as open for long.
    still_open = tickets["status"].isin(OPEN_TICKET).to_numpy()
    stop = np.where(np.isnan(resolved), np.where(still_open, NEVER, -1), at_or_after(np.nan_to_num(resolved)))
    return grid.from_intervals(tickets["account_id"].to_numpy(), after(opened + hours / 24), stop)


def tickets_in_days(spec: dict, grid: Grid) -> np.ndarray:
    count, days = as_int(spec, "count"), as_int(spec, "days")
    since = pd.Timestamp(grid.start - dt.timedelta(days=days + 1), tz="UTC")
    tickets = _frame(SupportTicket.objects.filter(opened_at__gte=since), ["account_id", "opened_at"])
    opened = numbers(tickets["opened_at"], grid.start)
    return grid.counts(tickets["account_id"].to_numpy(), after(opened), after(opened + days)) >= count


def _answers(kind: str, grid: Grid) -> pd.DataFrame:
    answers = _frame(SurveyResponse.objects.filter(kind=kind), ["account_id", "responded_at", "score", "id"])
    answers["at"] = numbers(answers["responded_at"], grid.start)
    return answers.sort_values(["account_id", "at", "id"], kind="stable")


def latest_survey(kind: str):
    def evaluate(spec: dict, grid: Grid) -> np.ndarray:
        days, value = as_int(spec, "days", default=90), as_number(spec, "value")
        answers = _answers(kind, grid)
        # An answer is the latest one until the next arrives, and counts while it is at most `days` old.
        nxt = answers.groupby("account_id")["at"].shift(-1).fillna(NEVER).to_numpy()
        low = (answers["score"] <= value).to_numpy()
        at = answers["at"].to_numpy()
        stop = np.minimum(after(at + days), at_or_after(nxt))
        return grid.from_intervals(answers["account_id"].to_numpy()[low], at_or_after(at)[low], stop[low])

    return evaluate


def no_open_followup(spec: dict, grid: Grid) -> np.ndarray:
    """No open high-priority task created since the latest answer: a task counts from its creation until it is
    completed or the next answer arrives, provided an answer came before it."""
    kind = spec.get("kind", "nps")
    if kind not in ("nps", "csat"):
        raise ConditionError(gettext("no_open_followup: kind must be nps or csat, not %(kind)r.") % {"kind": kind})
    answers = _answers(kind, grid)[["account_id", "at"]]
    tasks = _frame(
        Task.objects.filter(priority__in=[TaskPriority.HIGH, TaskPriority.URGENT]),
        ["account_id", "created_at", "completed_at", "status"],
    )
    tasks["at"] = numbers(tasks["created_at"], grid.start)
    done = numbers(tasks["completed_at"], grid.start)
    # Closed without a completion time: when is unknown, so it never counts.
    tasks["done"] = np.where(np.isnan(done), np.where(tasks["status"] == "open", NEVER, -NEVER), done)
    if tasks.empty or answers.empty:
        return grid.everywhere(True)
    tasks = tasks.sort_values("at")
    answers = answers.sort_values("at").assign(answered=lambda f: f["at"])
    before = pd.merge_asof(tasks, answers, on="at", by="account_id", direction="backward")
    later = pd.merge_asof(tasks, answers, on="at", by="account_id", direction="forward", allow_exact_matches=False)
    counted = before["answered"].notna().to_numpy()
    nxt = later["answered"].fillna(NEVER).to_numpy()
    stop = np.minimum(at_or_after(tasks["done"].to_numpy()), at_or_after(nxt))
    at = tasks["at"].to_numpy()
    return ~grid.from_intervals(tasks["account_id"].to_numpy()[counted], at_or_after(at)[counted], stop[counted])


def payment_failed(spec: dict, grid: Grid) -> np.ndarray:
    """From a failed payment until the next successful one (and, with `days`, at most that many days)."""
    events = _frame(BillingEvent.objects.filter(kind__in=["payment_failed", "payment_succeeded"]),
                    ["account_id", "occurred_at", "kind"])  # fmt: skip
    events["at"] = numbers(events["occurred_at"], grid.start)
    events = events.sort_values(["account_id", "at"], kind="stable")
    paid = events["at"].where(events["kind"] == "payment_succeeded")
    # The next successful payment at or after each event: a backward fill within each account.
    nxt_paid = paid[::-1].groupby(events["account_id"][::-1]).ffill()[::-1]
    failed = events[events["kind"] == "payment_failed"]
    at = failed["at"].to_numpy()
    stop = at_or_after(nxt_paid.loc[failed.index].fillna(NEVER).to_numpy())
    if "days" in spec:
        stop = np.minimum(stop, after(at + as_int(spec, "days")))
    return grid.from_intervals(failed["account_id"].to_numpy(), at_or_after(at), stop)


def milestone_missed(spec: dict, grid: Grid) -> np.ndarray:
    progress = MilestoneProgress.objects.filter(missed_at__isnull=False)
    if spec.get("milestone"):
        progress = progress.filter(milestone__key=spec["milestone"])
    rows = _frame(progress, ["account_id", "missed_at", "reached_at"])
    missed, reached = numbers(rows["missed_at"], grid.start), numbers(rows["reached_at"], grid.start)
    stop = np.where(np.isnan(reached), NEVER, at_or_after(np.nan_to_num(reached)))
    return grid.from_intervals(rows["account_id"].to_numpy(), at_or_after(missed), stop)


# --- Subscriptions ------------------------------------------------------------------------------------------------


def subscriptions(grid: Grid) -> pd.DataFrame:
    return grid.memo("subscriptions", lambda: _subscriptions(grid))


def _subscriptions(grid: Grid) -> pd.DataFrame:
    subs = _frame(Subscription.objects.all(), ["account_id", "start_date", "end_date", "billing_period", "mrr"])
    subs["first"] = numbers(subs["start_date"], grid.start)
    subs["stop"] = np.nan_to_num(numbers(subs["end_date"], grid.start), nan=NEVER)
    return subs


def covered(grid: Grid, subs: pd.DataFrame) -> np.ndarray:
    """Days on which the account holds an active subscription (start ≤ day < end)."""
    return grid.from_intervals(subs["account_id"].to_numpy(), subs["first"].to_numpy(), subs["stop"].to_numpy())


def renewal_within(spec: dict, grid: Grid) -> np.ndarray:
    """A renewal (an anniversary of the first start, in steps of the longest billing period) in (day, day + N]
    while a subscription is active."""
    days = as_int(spec, "days")
    subs = subscriptions(grid)
    if subs.empty:
        return grid.everywhere(False)
    per = subs.groupby("account_id").agg(first=("start_date", "min"), months=("billing_period", "max"))
    first = pd.to_datetime(per["first"])
    months = per["months"].fillna(1).clip(lower=1).to_numpy(dtype=np.int64)
    # Every anniversary from just before the grid to past its end: (window months + 2) / period + 2 per account.
    span = (grid.end.year - grid.start.year) * 12 + grid.end.month - grid.start.month + 3 + days // 28
    lag = (grid.start.year - first.dt.year.to_numpy()) * 12 + grid.start.month - first.dt.month.to_numpy()
    k0 = np.maximum(lag // months - 1, 1)
    steps = span // months.min(initial=1) + 2
    k = (k0[:, None] + np.arange(steps)[None, :]).ravel()
    rows = np.repeat(per.index.to_numpy(dtype=np.int64), steps)
    index = np.repeat(first.dt.year.to_numpy() * 12 + first.dt.month.to_numpy() - 1, steps) + k * np.repeat(
        months, steps
    )
    month_start = pd.to_datetime(pd.DataFrame({"year": index // 12, "month": index % 12 + 1, "day": 1}))
    day = np.minimum(np.repeat(first.dt.day.to_numpy(), steps), month_start.dt.days_in_month.to_numpy())
    anniversaries = (month_start + pd.to_timedelta(day - 1, unit="D")).dt.date
    at = numbers(anniversaries, grid.start)
    near = grid.from_intervals(rows, at - days, at)
    return near & covered(grid, subs)


def purchase_within(spec: dict, grid: Grid) -> np.ndarray:
    subs = subscriptions(grid)
    return grid.from_intervals(subs["account_id"].to_numpy(), subs["first"].to_numpy(),
                               subs["first"].to_numpy() + as_int(spec, "days") + 1)  # fmt: skip


def no_expansion(spec: dict, grid: Grid) -> np.ndarray:
    days = as_int(spec, "days")
    subs = subscriptions(grid)
    firsts = _frame(FeatureFirstUse.objects.all(), ["account_id", "first_day"])
    adopted = numbers(firsts["first_day"], grid.start)
    ids = np.concatenate([subs["account_id"].to_numpy(), firsts["account_id"].to_numpy()])
    at = np.concatenate([subs["first"].to_numpy(), adopted])
    expanded = grid.from_intervals(ids, at, at + days)
    return ~expanded & (grid.memo("status", lambda: status_codes(grid)) != STATUSES.index("churned"))


def mrr_at_least(spec: dict, grid: Grid) -> np.ndarray:
    subs = subscriptions(grid)
    total = grid.counts(subs["account_id"].to_numpy(), subs["first"].to_numpy(), subs["stop"].to_numpy(),
                        weight=subs["mrr"].astype(float).to_numpy() * 100, dtype=np.int64)  # fmt: skip
    return total >= round(as_number(spec, "value") * 100)


STATUSES = list(AccountStatus.values)


def status_codes(grid: Grid, subs: pd.DataFrame | None = None) -> np.ndarray:
    """Each account's status per day as an index into STATUSES: the recorded status changes (today's status where
    none is recorded), then the subscriptions: churned on a day without an active subscription after the first
    one, no longer churned on a day with one."""
    code = {value: n for n, value in enumerate(STATUSES)}
    code.update({str(label): n for n, (_, label) in enumerate(AccountStatus.choices)})
    today = pd.Series(dict(Account.objects.values_list("pk", "status")))
    base = today.reindex(grid.account_ids).map(code).fillna(code["active"]).to_numpy(dtype=np.int64)
    changes = _frame(Activity.objects.filter(kind=ActivityKind.CHANGE, details__field="status"),
                     ["account_id", "occurred_at", "details"])  # fmt: skip
    changes["at"] = at_or_after(numbers(changes["occurred_at"], grid.start))
    for key in ("old", "new"):
        changes[key] = changes["details"].map(lambda d, key=key: code.get(str((d or {}).get(key)), -1))
    changes = changes[(changes["old"] >= 0) & (changes["new"] >= 0)].sort_values(["account_id", "at"], kind="stable")
    # Before its first recorded change an account had that change's old status; each change adds new − previous.
    firsts = changes[~changes["account_id"].duplicated()]
    pos, found = grid.rows(firsts["account_id"])
    base[pos[found]] = firsts["old"].to_numpy()[found]
    previous = changes.groupby("account_id")["new"].shift(1).fillna(changes["old"]).to_numpy()
    delta = changes["new"].to_numpy() - previous
    codes = base[:, None] + grid.counts(changes["account_id"].to_numpy(), changes["at"].to_numpy(),
                                        np.full(len(changes), NEVER), weight=delta, dtype=np.int64)  # fmt: skip
    subs = grid.memo("subscriptions", lambda: subscriptions(grid)) if subs is None else subs
    active = covered(grid, subs)
    started = grid.from_intervals(subs["account_id"].to_numpy(), subs["first"].to_numpy(), np.full(len(subs), NEVER))
    codes[started & ~active] = code["churned"]
    codes[active & (codes == code["churned"])] = code["active"]
    return codes.astype(np.int8)


def status_in(spec: dict, grid: Grid) -> np.ndarray:
    wanted = [STATUSES.index(value) for value in as_list(spec) if value in STATUSES]
    return np.isin(grid.memo("status", lambda: status_codes(grid)), wanted)
