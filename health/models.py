"""Usage metrics, health-score profiles and snapshots, churn model (see the health issue)."""
