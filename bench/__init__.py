"""assbtrack's benchmark: a synthetic lab (``synth``), workloads that time it (``workloads``), and the table.

``manage.py synth_lab --scale N`` builds the lab; ``manage.py bench`` runs every workload on it and prints
one row per workload with its figures, a reference measured in the same run, the ratio, the budget and
whether it is met. ``make bench`` does both on a database of its own.
"""
