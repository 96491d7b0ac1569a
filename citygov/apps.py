from django.apps import AppConfig


class CitygovConfig(AppConfig):
    name = "citygov"
    verbose_name = "citygov"
