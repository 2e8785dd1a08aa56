"""What every Rapport model shares: scikit-learn's estimator contract and a model version.

Every model subclasses :class:`VersionedEstimator` (a :class:`sklearn.base.BaseEstimator`), so
``get_params``, ``set_params`` and ``clone`` work, ``__init__`` only stores parameters and
learned state ends in ``_``. Its ``fit`` ends with :meth:`VersionedEstimator._stamp_version`,
which records ``trained_at_`` and ``model_version_``; a model is fitted exactly when it has a
model version, and one that is not raises scikit-learn's
:class:`~sklearn.exceptions.NotFittedError` from :func:`~sklearn.utils.validation.check_is_fitted`.

A scikit-learn mixin goes in front where it fits. A mixin promises scikit-learn's tools
(``cross_val_score``, scorers, pipelines) that the model returns one prediction per row it is
given and that ``score(X, y)`` means what the mixin says, so a model takes one only when it keeps
that promise: the binary scorer, the text classifier and the sentiment analyser are classifiers,
the behaviour clusters a clusterer, the lifetime value model a density estimator (BG/NBD is a
probability model of each customer's purchases). Churn (order lines in, one risk per customer
out), recommendations, the bandit and the forecaster (many series in, future periods out) have no
matching mixin and take none.
"""

from __future__ import annotations

import datetime as dt

from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from rapport import __version__


class VersionedEstimator(BaseEstimator):
    """A scikit-learn estimator whose ``fit`` stamps a model version; fitted means stamped.

    Subclasses set ``_model_kind`` (the first word of the version, e.g. ``"binary"``).
    """

    _model_kind: str = "model"

    def __sklearn_is_fitted__(self) -> bool:
        # Only a fit that ran to its end stamps the version: a fit that raised half-way leaves
        # some learned attributes behind but no version, and the model counts as not fitted.
        return hasattr(self, "model_version_")

    def _check_fitted(self) -> None:
        """Raise :class:`~sklearn.exceptions.NotFittedError` unless ``fit`` has completed."""
        check_is_fitted(self)

    def _stamp_version(self, detail: str | None = None) -> None:
        """Record ``trained_at_`` and ``model_version_``, the last step of every ``fit``.

        The version reads ``<kind>[-<detail>]-<trained at, UTC>-rapport<version>``, e.g.
        ``binary-lightgbm-2025-01-31T09:12:45+00:00-rapport0.1.0``.
        """
        self.trained_at_ = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        parts = [self._model_kind, detail, self.trained_at_, f"rapport{__version__}"]
        self.model_version_ = "-".join(part for part in parts if part)
