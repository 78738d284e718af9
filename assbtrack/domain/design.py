"""The next experiments, by Bayesian optimisation: a Gaussian process on the lab's records and expected improvement.

``design_suggest`` of MODELS.md. The records of one step (milling batches, dry films, housing designs) give
points ``x`` (process parameters, names with their units) and an outcome ``y`` (conductivity, porosity,
pressure-map CV). A Gaussian-process regression from scikit-learn (Matérn ν = 5/2 with one length scale per
parameter, times a constant, plus a fitted white-noise term; inputs scaled to the unit box, outputs
normalised) is fitted by maximum marginal likelihood. The next experiments maximise the expected improvement
over the best observation (Jones, Schonlau and Welch 1998); several at once by the constant liar (Ginsbourger,
Le Riche and Carraro 2010): each chosen point is added as if it had given the best observation so far, so the
next choice moves elsewhere.

Honest uncertainty: the result carries a leave-one-out cross-validated error (hyperparameters held at the
full fit), the parameters the records never vary, and caveats in words when the records are too few for the
map to mean much.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

from .inputs import Inputs, ModelInputError

MIN_OBSERVATIONS = 3
FEW_OBSERVATIONS = 5  # below this many records per the first parameter plus one per further one: say so
MAX_PARAMETERS = 12
MAX_OBSERVATIONS = 5000
MAX_COUNT = 20
OBJECTIVES = ("maximize", "minimize")
_CANDIDATES = 2048
_LOCAL_STARTS = 4
_XI = 0.01  # exploration margin of EI, in units of the normalised outcome


@dataclass(frozen=True)
class Parameter:
    name: str
    low: float
    high: float

    def to_unit(self, value: np.ndarray | float) -> np.ndarray:
        return (np.asarray(value, dtype=float) - self.low) / (self.high - self.low)

    def from_unit(self, value: np.ndarray | float) -> np.ndarray:
        return self.low + np.asarray(value, dtype=float) * (self.high - self.low)


@dataclass
class DesignModel:
    """A fitted Gaussian process on the unit box; ``sign`` is +1 to maximise and −1 to minimise."""

    parameters: tuple[Parameter, ...]
    gp: GaussianProcessRegressor
    x_unit: np.ndarray
    y: np.ndarray
    sign: float

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        return np.column_stack([p.to_unit(x[:, i]) for i, p in enumerate(self.parameters)])

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        return np.column_stack([p.from_unit(u[:, i]) for i, p in enumerate(self.parameters)])

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of the outcome (its own units) at points ``x`` (n × parameters)."""
        mean, std = self.gp.predict(self.to_unit(np.atleast_2d(x)), return_std=True)
        return mean, std

    @property
    def best_index(self) -> int:
        return int(np.argmax(self.sign * self.y))


def _kernel(dimensions: int):
    return (ConstantKernel(1.0, (1e-3, 1e3))
            * Matern(length_scale=np.full(dimensions, 0.3), length_scale_bounds=(1e-2, 1e2), nu=2.5)
            + WhiteKernel(noise_level=1e-4, noise_level_bounds=(1e-8, 1e0)))


def fit_design_model(parameters: Sequence[Parameter], x: np.ndarray, y: np.ndarray, *, objective: str = "maximize",
                     seed: int | None = None) -> DesignModel:
    parameters = tuple(parameters)
    x_unit = np.column_stack([p.to_unit(x[:, i]) for i, p in enumerate(parameters)])
    gp = GaussianProcessRegressor(kernel=_kernel(len(parameters)), normalize_y=True, n_restarts_optimizer=3,
                                  random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a bound reached is normal with few records
        gp.fit(x_unit, y)
    return DesignModel(parameters, gp, x_unit, np.asarray(y, dtype=float), 1.0 if objective == "maximize" else -1.0)


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, *, sign: float = 1.0,
                         xi: float = 0.0) -> np.ndarray:
    """E[max(0, sign·(Y − best) − xi)] for Y ~ N(mean, std²): zero where the model is certain and no better."""
    improvement = sign * (np.asarray(mean) - best) - xi
    std = np.asarray(std, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(std > 0, improvement / std, 0.0)
        ei = np.where(std > 0, improvement * norm.cdf(z) + std * norm.pdf(z), np.maximum(improvement, 0.0))
    return np.maximum(ei, 0.0)


def _ei_unit(gp: GaussianProcessRegressor, u: np.ndarray, best: float, sign: float, xi: float) -> np.ndarray:
    mean, std = gp.predict(np.atleast_2d(u), return_std=True)
    return expected_improvement(mean, std, best, sign=sign, xi=xi)


def _maximise_ei(gp: GaussianProcessRegressor, best: float, sign: float, xi: float, dimensions: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """The unit-box point of largest EI: a random cloud, then L-BFGS-B from its best few."""
    candidates = rng.random((_CANDIDATES, dimensions))
    values = _ei_unit(gp, candidates, best, sign, xi)
    starts = candidates[np.argsort(values)[::-1][:_LOCAL_STARTS]]
    best_u, best_value = starts[0], float(values.max())
    for start in starts:
        found = minimize(lambda u: -float(_ei_unit(gp, u, best, sign, xi)[0]), start, method="L-BFGS-B",
                         bounds=[(0.0, 1.0)] * dimensions)
        if found.success and -found.fun > best_value:
            best_u, best_value = np.clip(found.x, 0.0, 1.0), float(-found.fun)
    return best_u, best_value


def suggest(model: DesignModel, count: int = 1, *, seed: int | None = None) -> list[dict[str, Any]]:
    """``count`` proposals, best first, by expected improvement and the constant liar."""
    rng = np.random.default_rng(seed)
    y_scale = float(np.std(model.y)) or 1.0
    xi = _XI * y_scale
    best = float(model.y[model.best_index])
    x_unit, y = model.x_unit.copy(), model.y.copy()
    gp = model.gp
    chosen = []
    for _ in range(count):
        u, _ = _maximise_ei(gp, best, model.sign, xi, len(model.parameters), rng)
        mean, std = gp.predict(u[np.newaxis, :], return_std=True)
        ei = float(expected_improvement(mean, std, best, sign=model.sign, xi=xi)[0])
        chosen.append((u, float(mean[0]), float(std[0]), ei))
        if len(chosen) == count:
            break
        # the lie: the point gave the best observation so far; refit with the hyperparameters held
        x_unit = np.vstack([x_unit, u])
        y = np.append(y, best)
        gp = GaussianProcessRegressor(kernel=model.gp.kernel_, normalize_y=True, optimizer=None)
        gp.fit(x_unit, y)
    x = model.from_unit(np.array([c[0] for c in chosen]))
    return [
        {"x": {p.name: float(x[row, i]) for i, p in enumerate(model.parameters)},
         "mean": mean, "std": std, "expected_improvement": ei}
        for row, (_, mean, std, ei) in enumerate(chosen)
    ]


def cross_validated_rmse(model: DesignModel) -> float | None:
    """Leave-one-out error of the model's predictions (outcome units), the hyperparameters held at the full fit."""
    n = model.y.size
    if n < MIN_OBSERVATIONS:
        return None
    errors = []
    for left_out in range(n):
        keep = np.arange(n) != left_out
        gp = GaussianProcessRegressor(kernel=model.gp.kernel_, normalize_y=True, optimizer=None)
        gp.fit(model.x_unit[keep], model.y[keep])
        errors.append(float(gp.predict(model.x_unit[left_out:left_out + 1])[0]) - float(model.y[left_out]))
    return float(np.sqrt(np.mean(np.square(errors))))


def caveats(parameters: Sequence[Parameter], x: np.ndarray) -> tuple[list[str], list[str]]:
    """(parameters the records never vary, sentences on what the model cannot know)."""
    fixed = [p.name for i, p in enumerate(parameters) if np.ptp(x[:, i]) == 0.0]
    notes = []
    needed = FEW_OBSERVATIONS + len(parameters) - 1
    if x.shape[0] < needed:
        notes.append(f"only {x.shape[0]} records for {len(parameters)} parameters (fewer than {needed}): the map "
                     "is mostly the prior; treat the proposals as a first exploration")
    for name in fixed:
        notes.append(f"the records never vary {name}: the model knows nothing about its effect")
    return fixed, notes


def read_problem(data: Mapping[str, Any]) -> tuple[tuple[Parameter, ...], np.ndarray, np.ndarray, str, int,
                                                   int | None]:
    inputs = Inputs(data)
    parameters = []
    for index, item in enumerate(inputs.objects("parameters", min_items=1, max_items=MAX_PARAMETERS)):
        name = item.text("name", max_length=80)
        low = item.number("low")
        high = item.number("high")
        item.finish()
        if not high > low:
            raise ModelInputError(f"parameters[{index}].high", "must be greater than low")
        if name in {p.name for p in parameters}:
            raise ModelInputError(f"parameters[{index}].name", f"{name} is listed twice")
        parameters.append(Parameter(name, low, high))
    rows, outcomes = [], []
    for index, item in enumerate(inputs.objects("observations", min_items=MIN_OBSERVATIONS,
                                                max_items=MAX_OBSERVATIONS)):
        point = item.obj("x")
        row = []
        for p in parameters:
            value = point.number(p.name)
            if not p.low <= value <= p.high:
                raise ModelInputError(f"observations[{index}].x.{p.name}",
                                      f"{value:g} is outside the bounds {p.low:g} to {p.high:g}")
            row.append(value)
        point.finish()
        outcomes.append(item.number("y"))
        item.finish()
        rows.append(row)
    objective = inputs.choice("objective", OBJECTIVES, default="maximize")
    count = inputs.integer("count", default=1, minimum=1, maximum=MAX_COUNT)
    seed = inputs.raw("seed", default=None)
    if seed is not None:
        seed = inputs.integer("seed", minimum=0, maximum=2**32 - 1)
    inputs.finish()
    y = np.asarray(outcomes, dtype=float)
    if np.ptp(y) == 0.0:
        raise ModelInputError("observations", "every outcome y is the same: there is nothing to model")
    return tuple(parameters), np.asarray(rows, dtype=float), y, objective, count, seed


def run_design_suggest(data: Mapping[str, Any]) -> dict[str, Any]:
    parameters, x, y, objective, count, seed = read_problem(data)
    model = fit_design_model(parameters, x, y, objective=objective, seed=seed)
    best = model.best_index
    fixed, notes = caveats(parameters, x)
    return {
        "suggestions": suggest(model, count, seed=seed),
        "best_observed": {"x": {p.name: float(x[best, i]) for i, p in enumerate(parameters)}, "y": float(y[best])},
        "cross_validated_rmse": cross_validated_rmse(model),
        "observations": int(y.size),
        "parameters_not_varied": fixed,
        "caveats": notes,
        "kernel": str(model.gp.kernel_),
    }
