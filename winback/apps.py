from django.apps import AppConfig


class WinbackConfig(AppConfig):
    name = "winback"
