"""Matplotlib without global state: every plot in assbtrack is a ``Figure`` built here and saved as PNG and SVG.

``pyplot`` keeps figures in process-wide state, which leaks memory and races in a web server or a
Celery worker; the object-oriented API with the Agg canvas does not.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

PLOT_FORMATS = ("png", "svg")


def new_figure(width_in: float = 7.0, height_in: float = 4.5) -> Figure:
    figure = Figure(figsize=(width_in, height_in), dpi=110, layout="constrained")
    return figure


def figure_bytes(figure: Figure, fmt: str = "png") -> bytes:
    if fmt not in PLOT_FORMATS:
        raise ValueError(f"unknown plot format {fmt!r}; use one of {', '.join(PLOT_FORMATS)}")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt)
    return buffer.getvalue()


def figure_files(figure: Figure, stem: str) -> dict[str, bytes]:
    """``{"stem.png": ..., "stem.svg": ...}`` for a job or a page to store."""
    return {f"{stem}.{fmt}": figure_bytes(figure, fmt) for fmt in PLOT_FORMATS}
