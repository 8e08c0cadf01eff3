from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data: the simulated SaaS history (`manage.py simulate`) and the churn lab benchmark run on it.

    The top layer: it may import any app, and no app imports it.
    """

    name = "demo"
    verbose_name = "Demo data"
