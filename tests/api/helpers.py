"""Clients and chains shared by the partner-API tests."""

from __future__ import annotations

from django.test import Client

from assbtrack.access.services import api_token_create
from assbtrack.tracing.choices import ItemKind
from tests.utils.factories_cells import make_cell, make_li_foil
from tests.utils.factories_electrodes import make_film, make_sse_batch
from tests.utils.factories_modules import make_module

FOIL_MASS_G = 0.5
SHEET_AREA_CM2 = 12.0


def token_client(user) -> Client:
    _, key = api_token_create(user=user, name="tests")
    return Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {key}")


def make_chain(project, user, *, cells: int = 2, layers: int = 1):
    """lots → SSE batch (50 g of stock: 20 g Li2S, 20 g P2S5, 10 g LiCl) → cathode and separator films →
    sheets → ``cells`` cells of ``layers`` layers (0.5 g lithium foil per layer) → one module."""
    batch = make_sse_batch(project, user, stock_g=50.0)
    films = {
        "cathode": make_film(project, user, ItemKind.CATHODE_FILM, sse_batch=batch),
        "separator": make_film(project, user, ItemKind.SEPARATOR_FILM, sse_batch=batch),
        "foil": make_li_foil(project, user, mass_g=10.0),
    }
    built = [make_cell(project, user, layers=layers, films=films, foil_mass_g=FOIL_MASS_G,
                       sheet_area_cm2=SHEET_AREA_CM2) for _ in range(cells)]
    module = make_module(project, user, cells=built)
    return {"batch": batch, "films": films, "cells": built, "module": module}
