"""Errors the models raise instead of guessing.

A model used before ``fit`` raises scikit-learn's own
:class:`~sklearn.exceptions.NotFittedError` (a ``ValueError``), re-exported here so callers
find every model error in one place.
"""

from sklearn.exceptions import NotFittedError

__all__ = ["DataValidationError", "InsufficientDataError", "NotFittedError"]


class InsufficientDataError(ValueError):
    """The data cannot support a trustworthy model; the message says what is missing.

    Example: "needs at least 30 converted and 30 lost leads; has 12 converted".
    """


class DataValidationError(ValueError):
    """The input is malformed (missing column, wrong type); the message names the column."""
