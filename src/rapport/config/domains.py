"""The apps that make up Rapport. Adding an app is its folder and one line here.

Each app's ``AppConfig`` names the apps it may use (``depends_on``); ``rapport.config.layering``
turns this list into the import contracts that ``make lint`` checks.
"""

RAPPORT_APPS = [
    "rapport.core",
    "rapport.accounts",
    "rapport.contacts",
    "rapport.orders",
    "rapport.activities",
    "rapport.sales",
    "rapport.support",
    "rapport.dataio",
    "rapport.web",
]
