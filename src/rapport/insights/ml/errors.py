"""Errors the models raise instead of guessing."""


class InsufficientDataError(ValueError):
    """The data cannot support a trustworthy model; the message says what is missing.

    Example: "needs at least 30 converted and 30 lost leads; has 12 converted".
    """


class DataValidationError(ValueError):
    """The input is malformed (missing column, wrong type); the message names the column."""
