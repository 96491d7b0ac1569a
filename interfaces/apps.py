from django.apps import AppConfig


class InterfacesConfig(AppConfig):
    """The channels: web pages, REST API, department-system API, Open311, admin, commands.

    The label stays "citygov": the Idempotency-Key table and its migrations were the project
    package's before the layers were drawn, and existing databases know them by that label.
    """

    name = "interfaces"
    label = "citygov"
    verbose_name = "citygov"
