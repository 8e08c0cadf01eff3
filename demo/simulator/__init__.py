"""Demo-data simulator: a believable SaaS history for churnapp, generated without touching the database.

`simulation(...)` turns a seed and an end date into plain DataFrames, one per table, with the usage events
streamed month by month (`Simulation`); `demo/load.py` writes them. `simulate(...)` gives the same history all in
memory (`SimulatedData`). Same seed and end date give identical rows.

Modules, in the order the stages run: `population` (the team, sign-ups, contacts), `lifecycle` (the mechanisms
of churn and the latent engagement), `subscriptions`, `usage` (events, in bounded memory), `support` (tickets,
surveys), `crm` (account state, timeline, tasks); `catalogue` holds the constants, `world` the shared state.

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

from demo.simulator.catalogue import MECHANISMS, REASONS, TAG_COLORS
from demo.simulator.simulation import SimulatedData, Simulation, simulate, simulation

__all__ = ["MECHANISMS", "REASONS", "TAG_COLORS", "SimulatedData", "Simulation", "simulate", "simulation"]
