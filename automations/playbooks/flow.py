"""A playbook drawn as a flow: a box per step, top to bottom, and an arrow per way out of it (laid out here, drawn
as inline SVG by `_playbook_flow.html`). A step goes on to the next box below; a branch has two exits, "then"
(its condition holds) and "else", each going down to the next step, to a stop on the left, or along a lane on
the right to another step (also back up, in a loop through a wait)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from automations.models import PlaybookStep, StepKind
from automations.playbooks.validation import NEXT, STOP, branch_target

BOX_W, BOX_H, PITCH = 320, 58, 104
X0, TOP = 150, 12  # the left margin holds the stops and their labels
LANE0, LANE_STEP = 26, 26
SUMMARY_CHARS = 46


def condition_text(tree) -> str:
    """A condition tree in one line: "health_band in=red and not (email_opened)"."""
    if not isinstance(tree, dict) or not tree:
        return "—"
    if "not" in tree:
        return f"not ({condition_text(tree['not'])})"
    for join in ("all", "any"):
        if isinstance(tree.get(join), list):
            word = " and " if join == "all" else " or "
            return "(" + word.join(condition_text(c) for c in tree[join]) + ")"
    params = " ".join(
        f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in tree.items() if k != "type"
    )
    return f"{tree.get('type', '?')} {params}".strip()


def step_summary(kind: str, config: dict) -> str:
    if kind == StepKind.TASK:
        return str(config.get("title", ""))
    if kind == StepKind.EMAIL:
        return _("template %(template)s to %(to)s") % {"template": config.get("template", ""),
                                                       "to": config.get("to", "contact")}  # fmt: skip
    if kind == StepKind.WAIT:
        if "until" in config:
            return _("until %(condition)s, at most %(days)s days") % {
                "condition": condition_text(config["until"]), "days": config.get("days")}  # fmt: skip
        return _("%(days)s days") % {"days": config.get("days")}
    return _("if %(condition)s") % {"condition": condition_text(config.get("condition"))}


def _exits(step: PlaybookStep, count: int) -> list[tuple[str, int | str | None]]:
    """(exit name, target): a step number, STOP, or None (the end, after the last step)."""

    def resolve(target) -> int | str | None:
        if target == NEXT:
            return step.order + 1 if step.order < count else None
        return STOP if target == STOP else int(target)

    if step.kind == StepKind.BRANCH:
        return [(exit_, resolve(branch_target(step.config, exit_))) for exit_ in ("then", "else")]
    return [("", resolve(NEXT))]


def playbook_flow(*, steps: list[PlaybookStep], counts: dict[tuple[int, str], int] | None = None) -> dict:
    """The boxes, arrows, stops and end of the flow, with coordinates; `counts` (per (step, exit)) labels the
    branches' exits with how many enrolments took them."""
    counts = counts or {}
    count = len(steps)
    labels = {"then": _("then"), "else": _("else")}
    boxes, edges, stops = [], [], []
    lanes = 0
    for i, step in enumerate(steps):
        y = TOP + i * PITCH
        summary = step_summary(step.kind, step.config)
        short = summary if len(summary) <= SUMMARY_CHARS else summary[: SUMMARY_CHARS - 1] + "…"
        boxes.append({"order": step.order, "kind": step.kind, "kind_label": step.get_kind_display(), "x": X0,
                      "y": y, "summary": summary, "short": short, "text_y": y + 22, "sub_y": y + 42, "step": step,
                      "condition": condition_text(step.config.get("condition")),
                      "until": condition_text(step.config["until"]) if "until" in step.config else ""})  # fmt: skip
        exits = _exits(step, count)
        down = [name for name, target in exits if target == step.order + 1 or target is None]
        if down:
            label = ", ".join(_label(name, labels, counts, step.order) for name in down if name)
            edges.append({"d": f"M{X0 + BOX_W // 2},{y + BOX_H} V{y + PITCH - 4}", "label": label,
                          "lx": X0 + BOX_W // 2 + 8, "ly": y + BOX_H + 24, "anchor": "start"})  # fmt: skip
        for name, target in exits:
            mid = y + BOX_H // 2 + (-9 if name == "then" else 9)
            if target == STOP:
                stops.append({"x": 8, "y": mid - 12, "ty": mid + 4})
                edges.append({"d": f"M{X0},{mid} H{8 + 66}", "label": _label(name, labels, counts, step.order),
                              "lx": X0 - 4, "ly": mid - 4, "anchor": "end"})  # fmt: skip
            elif isinstance(target, int) and target != step.order + 1:
                x = X0 + BOX_W + LANE0 + lanes * LANE_STEP
                ty = TOP + (target - 1) * PITCH + BOX_H // 2 + (9 if target < step.order else -9)
                lanes += 1
                edges.append({"d": f"M{X0 + BOX_W},{mid} H{x} V{ty} H{X0 + BOX_W + 4}",
                              "label": _label(name, labels, counts, step.order), "lx": X0 + BOX_W + 4,
                              "ly": mid - 4, "anchor": "start"})  # fmt: skip
    end_y = TOP + count * PITCH
    return {
        "boxes": boxes,
        "edges": edges,
        "stops": stops,
        "end": {"x": X0 + BOX_W // 2 - 36, "y": end_y - 4, "ty": end_y + 16},
        "width": X0 + BOX_W + LANE0 + lanes * LANE_STEP + 80,
        "height": end_y + 36,
        "box_w": BOX_W,
        "box_h": BOX_H,
        "text_x": X0 + 12,
    }


def _label(name: str, labels: dict[str, str], counts: dict[tuple[int, str], int], order: int) -> str:
    if not name:
        return ""
    n = counts.get((order, name))
    return f"{labels[name]} · {n}" if n is not None else labels[name]
