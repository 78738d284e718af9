from django.apps import AppConfig


class ElectrodesConfig(AppConfig):
    name = "electrodes"
    verbose_name = "Electrodes"
