"""The web glue every app's pages share: who may open a page, refusals beside their fields, CSV downloads.

Defined once here and imported by the apps' views, so a lab page refuses a partner, shows a service's
``ValidationError`` and streams a CSV (with its export-log row) the same way everywhere.
"""
