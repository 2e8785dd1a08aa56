"""Saving and loading fitted models with the version they were made with."""

from __future__ import annotations

import pathlib
from typing import Any

import joblib
from sklearn.utils.validation import check_is_fitted

from rapport import __version__

# 2: models are scikit-learn estimators stamped with model_version_; a format-1 file would load
# as an unfitted model, so it is refused instead.
FORMAT = 2


def save_model(model: Any, path: str | pathlib.Path) -> pathlib.Path:
    """Write ``model`` to ``path`` with Rapport's version and the storage format; an unfitted
    model raises :class:`~sklearn.exceptions.NotFittedError` (there is nothing to keep)."""
    check_is_fitted(model)
    path = pathlib.Path(path)
    joblib.dump({"format": FORMAT, "rapport_version": __version__, "model": model}, path)
    return path


def load_model(path: str | pathlib.Path) -> Any:
    """Read a model written by :func:`save_model`; refuse files of another storage format."""
    payload = joblib.load(pathlib.Path(path))
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a Rapport model file of format {FORMAT}")
    model = payload["model"]
    model.saved_with_version_ = payload["rapport_version"]
    return model
