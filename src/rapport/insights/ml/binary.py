"""Binary scorer for lead conversion, deal win and churn.

Input is one row per entity with any mix of numeric, categorical, text and date columns. The
scorer types every column itself (numbers stored as text are read as numbers, a few stray words
in a numeric column become missing values, unique-per-row identifiers and empty or constant
columns are dropped and listed in ``dropped_columns_``), then picks a model by how many outcomes
it has and by cross-validation:

- fewer than ``lightgbm_min_per_class`` of the rarer outcome: categorical naive Bayes or an
  L2-regularised logistic regression, whichever cross-validates better;
- otherwise: logistic regression or LightGBM with Platt calibration, whichever is better.

Every score comes with per-column contributions in log-odds (LightGBM's native SHAP values via
``pred_contrib=True``; coefficient x standardised value for the linear model; the log-likelihood
ratio for naive Bayes), which :meth:`BinaryScorer.explain` turns into sentences.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import CategoricalNB
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from rapport.insights.ml.base import VersionedEstimator
from rapport.insights.ml.errors import DataValidationError, InsufficientDataError
from rapport.insights.ml.explain import Explanation, logit_effects, top_factors

METHODS = ("naive_bayes", "logistic", "lightgbm")
MISSING = "(missing)"
OTHER = "(other)"
_POSITIVE_WORDS = {"1", "yes", "y", "true", "t", "won", "win", "converted", "churned", "positive"}
_DATE_LIKE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4})")


# --------------------------------------------------------------------------- column typing


@dataclass
class _Column:
    name: str
    kind: str  # numeric | date | categorical | text
    levels: list[str] = field(default_factory=list)
    median: float = 0.0
    bin_edges: np.ndarray | None = None
    text_model: _TextScore | None = None


def _as_text(series: pd.Series) -> pd.Series:
    """Strings with missing values kept as NaN; strips whitespace so " " counts as missing."""
    text = series.astype("string").str.strip()
    return text.mask(text == "")


def _to_number(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64")
    if pd.api.types.is_numeric_dtype(series):
        return pd.to_numeric(series, errors="coerce").astype("float64")
    return pd.to_numeric(_as_text(series), errors="coerce").astype("float64")


def _to_days(series: pd.Series) -> pd.Series:
    """Dates as days since 1970-01-01 (float, NaN when unparseable)."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    if not pd.api.types.is_datetime64_any_dtype(series):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            series = pd.to_datetime(_as_text(series), errors="coerce", format="mixed", utc=True)
        series = series.dt.tz_localize(None)
    days = (series - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    return days.astype("float64")


def _infer_kind(series: pd.Series) -> tuple[str | None, str]:
    """The column's kind, or None and the reason it cannot help."""
    present = series.dropna()
    if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
        present = _as_text(series).dropna()
    if present.empty:
        return None, "all values missing"
    if present.nunique() == 1:
        return None, "same value in every row"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date", ""
    if pd.api.types.is_bool_dtype(series):
        return "categorical", ""
    if pd.api.types.is_numeric_dtype(series):
        return "numeric", ""
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().mean() >= 0.9:
        return "numeric", ""
    sample = present.head(200)
    if sample.str.match(_DATE_LIKE).mean() >= 0.9 and _to_days(present).notna().mean() >= 0.9:
        return "date", ""
    distinct = present.nunique()
    words = present.str.count(r"\s+").mean() + 1
    if distinct == len(present) and len(present) >= 20 and words < 2:
        return None, "identifier (different in every row)"
    if distinct > 50 and words >= 3:
        return "text", ""
    return "categorical", ""


class _Table:
    """Learns column kinds at fit; turns any later frame into the same numeric matrices."""

    def fit(self, frame: pd.DataFrame, y: np.ndarray, random_state: int) -> _Table:
        self.columns: list[_Column] = []
        self.dropped: dict[str, str] = {}
        for name in frame.columns:
            kind, reason = _infer_kind(frame[name])
            if kind is None:
                self.dropped[str(name)] = reason
                continue
            column = _Column(str(name), kind)
            if kind in ("numeric", "date"):
                values = self._numeric(frame[name], kind)
                column.median = float(np.nanmedian(values)) if np.isfinite(values).any() else 0.0
                finite = values[np.isfinite(values)]
                if np.unique(finite).size >= 10:
                    edges = np.unique(np.quantile(finite, [0.2, 0.4, 0.6, 0.8]))
                    column.bin_edges = edges
            elif kind == "categorical":
                counts = _as_text(frame[name]).value_counts()
                keep = counts[counts >= max(5, int(0.005 * len(frame)))].index[:50]
                column.levels = [str(v) for v in keep]
            else:
                text = _as_text(frame[name]).fillna("").to_numpy()
                column.text_model = _TextScore(random_state=random_state).fit(text, y)
            self.columns.append(column)
        if not self.columns:
            raise DataValidationError(
                "no usable columns: " + "; ".join(f"{k}: {v}" for k, v in self.dropped.items())
            )
        self.names = [c.name for c in self.columns]
        return self

    @staticmethod
    def _numeric(series: pd.Series, kind: str) -> np.ndarray:
        if kind == "numeric" and pd.api.types.is_numeric_dtype(series):
            return _to_number(series).to_numpy(dtype="float64", na_value=np.nan)
        # Text or dates: parse each distinct value once.
        inverse, uniques = pd.factorize(series, use_na_sentinel=True)
        distinct = pd.Series(uniques, dtype=series.dtype if kind == "date" else object)
        parsed = _to_days(distinct) if kind == "date" else _to_number(distinct)
        parsed = np.append(parsed.to_numpy(dtype="float64", na_value=np.nan), np.nan)
        return parsed[inverse]

    def check(self, frame: pd.DataFrame) -> None:
        missing = [c.name for c in self.columns if c.name not in frame.columns]
        if missing:
            raise DataValidationError(f"missing column(s) the model was trained on: {missing}")

    def codes(self, frame: pd.DataFrame, column: _Column) -> np.ndarray:
        """Category codes: levels 0..L-1, then MISSING = L, OTHER (unseen) = L + 1."""
        # Work on the distinct values only: a million rows hold a handful of categories.
        inverse, uniques = pd.factorize(frame[column.name], use_na_sentinel=True)
        text = _as_text(pd.Series(uniques, dtype=object))
        lookup = {level: i for i, level in enumerate(column.levels)}
        other, missing = len(column.levels) + 1, len(column.levels)
        mapped = np.array(
            [missing if pd.isna(v) else lookup.get(v, other) for v in text], dtype="int64"
        )
        return np.append(mapped, missing)[inverse]

    def level_names(self, column: _Column) -> list[str]:
        return [*column.levels, MISSING, OTHER]

    def dense(self, frame: pd.DataFrame, fit_mode: bool = False) -> np.ndarray:
        """One float column per input column (categoricals as codes), NaN kept, for LightGBM."""
        out = np.empty((len(frame), len(self.columns)), dtype="float64")
        for j, column in enumerate(self.columns):
            if column.kind == "categorical":
                out[:, j] = self.codes(frame, column)
            elif column.kind == "text" and fit_mode:
                out[:, j] = column.text_model.oof_
            elif column.kind == "text":
                text = _as_text(frame[column.name]).fillna("").to_numpy()
                out[:, j] = column.text_model.transform(text)[:, 0]
            else:
                out[:, j] = self._numeric(frame[column.name], column.kind)
        out[~np.isfinite(out)] = np.nan
        return out

    def categorical_indexes(self) -> list[int]:
        return [j for j, c in enumerate(self.columns) if c.kind == "categorical"]

    def design(self, dense: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Expanded matrix for the linear model and the owning input column of each feature:
        numerics imputed + missing flag + quantile-bin one-hots; categoricals one-hot."""
        blocks: list[np.ndarray] = []
        owners: list[int] = []
        for j, column in enumerate(self.columns):
            values = dense[:, j]
            if column.kind == "categorical":
                size = len(column.levels) + 2
                onehot = np.zeros((len(values), size))
                onehot[np.arange(len(values)), values.astype("int64")] = 1.0
                blocks.append(onehot)
                owners += [j] * size
                continue
            missing = np.isnan(values)
            filled = np.where(missing, column.median, values)
            blocks.append(filled[:, None])
            blocks.append(missing[:, None].astype("float64"))
            owners += [j, j]
            if column.bin_edges is not None:
                bins = np.searchsorted(column.bin_edges, filled, side="right")
                onehot = np.zeros((len(values), len(column.bin_edges) + 1))
                onehot[np.arange(len(values)), bins] = 1.0
                blocks.append(onehot)
                owners += [j] * onehot.shape[1]
        return np.hstack(blocks), np.asarray(owners)

    def binned(self, dense: np.ndarray) -> np.ndarray:
        """Every column as small integer codes, for categorical naive Bayes."""
        out = np.empty(dense.shape, dtype="int64")
        for j, column in enumerate(self.columns):
            values = dense[:, j]
            if column.kind == "categorical":
                out[:, j] = values.astype("int64")
                continue
            edges = column.bin_edges
            if edges is None:
                edges = np.array([column.median])
            codes = np.searchsorted(edges, np.nan_to_num(values), side="right") + 1
            out[:, j] = np.where(np.isnan(values), 0, codes)
        return out

    def n_bins(self) -> list[int]:
        counts = []
        for column in self.columns:
            if column.kind == "categorical":
                counts.append(len(column.levels) + 2)
            else:
                edges = column.bin_edges if column.bin_edges is not None else [0.0]
                counts.append(len(edges) + 2)
        return counts


class _TextScore(TransformerMixin, BaseEstimator):
    """Free text -> one number: a TF-IDF logistic regression's log-odds.

    Like scikit-learn's ``TargetEncoder``, ``fit_transform`` returns out-of-fold values (kept in
    ``oof_``), so the scorer never learns from a text's own label.
    """

    def __init__(self, *, random_state: int | None = 0):
        self.random_state = random_state

    def fit(self, text: np.ndarray, y: np.ndarray) -> _TextScore:
        self.vectorizer_ = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=5000)
        matrix = self.vectorizer_.fit_transform(text)
        self.model_ = LogisticRegression(C=1.0, max_iter=1000)
        folds = StratifiedKFold(3, shuffle=True, random_state=self.random_state)
        self.oof_ = cross_val_predict(self.model_, matrix, y, cv=folds, method="decision_function")
        self.model_.fit(matrix, y)
        return self

    def fit_transform(self, text: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.fit(text, y).oof_[:, None]

    def transform(self, text: np.ndarray) -> np.ndarray:
        """Log-odds of each text, shape (n, 1)."""
        check_is_fitted(self)
        return self.model_.decision_function(self.vectorizer_.transform(text))[:, None]


# --------------------------------------------------------------------------- estimators


def _ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins."""
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return float(total)


def _reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Equal-width probability bins: how many rows, the mean predicted and the observed rate
    (a calibrated model's two agree); empty bins are left out."""
    which = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            out.append({"low": b / bins, "high": (b + 1) / bins, "count": int(mask.sum()),
                        "predicted": float(p[mask].mean()), "observed": float(y[mask].mean())})
    return out


def _threads(dense: np.ndarray) -> int:
    """Two threads only for big batches, where they pay for their start-up."""
    return 2 if len(dense) >= 100_000 else 1


class BinaryScorer(ClassifierMixin, VersionedEstimator):
    """Scores how likely the positive outcome is (conversion, win, churn) and says why.

    ``classes_`` holds the [negative, positive] outcome values as they appear in ``y``; the
    columns of ``predict_proba`` follow it.

    Parameters
    ----------
    method: "auto" (choose by data size and cross-validation), "naive_bayes", "logistic" or
        "lightgbm".
    min_per_class: fewest examples of each outcome the scorer accepts before refusing.
    lightgbm_min_per_class: from this many of the rarer outcome, LightGBM is a candidate.
    positive_label: the outcome value that counts as positive; inferred when None
        (1, True, "yes", "won", "converted", "churned", ...).
    positive_name, negative_name, entity_name: words used in messages ("converted", "lost",
        "leads").
    effect_unit: word after effects in explanations ("chance", "risk").
    cv: folds used for choosing the method and for the reported metrics.
    random_state: seed for folds and LightGBM.
    """

    _model_kind = "binary"

    def __init__(
        self,
        *,
        method: str = "auto",
        min_per_class: int = 30,
        lightgbm_min_per_class: int = 200,
        positive_label: object = None,
        positive_name: str = "positive",
        negative_name: str = "negative",
        entity_name: str = "rows",
        effect_unit: str = "chance",
        cv: int = 5,
        random_state: int = 0,
    ):
        self.method = method
        self.min_per_class = min_per_class
        self.lightgbm_min_per_class = lightgbm_min_per_class
        self.positive_label = positive_label
        self.positive_name = positive_name
        self.negative_name = negative_name
        self.entity_name = entity_name
        self.effect_unit = effect_unit
        self.cv = cv
        self.random_state = random_state

    # ---- labels

    def _labels(self, y: pd.Series) -> np.ndarray:
        present = y.dropna()
        values = present.unique()
        if len(values) > 2:
            raise DataValidationError(
                f"the outcome must have two values; found {len(values)}: {list(values)[:5]}"
            )
        positive = self.positive_label
        if positive is None:
            matches = [v for v in values if str(v).strip().lower() in _POSITIVE_WORDS]
            if len(matches) == 1:
                positive = matches[0]
            elif len(values) == 2:
                positive = sorted(values, key=str)[1]
            elif len(values) == 1:
                positive = values[0]
        if len(values) < 2:
            seen = f"are {values[0]!r}" if len(values) else "have no outcome"
            raise InsufficientDataError(
                f"only one outcome present: all {len(present)} {self.entity_name} {seen}; "
                f"needs at least {self.min_per_class} {self.positive_name} and "
                f"{self.min_per_class} {self.negative_name} {self.entity_name}"
            )
        self.positive_label_ = positive
        self.classes_ = np.asarray([next(v for v in values if v != positive), positive])
        return (present == positive).to_numpy(dtype="int64")

    def _check_counts(self, y: np.ndarray) -> None:
        positives, negatives = int(y.sum()), int(len(y) - y.sum())
        short = []
        if positives < self.min_per_class:
            short.append(f"{positives} {self.positive_name}")
        if negatives < self.min_per_class:
            short.append(f"{negatives} {self.negative_name}")
        if short:
            raise InsufficientDataError(
                f"needs at least {self.min_per_class} {self.positive_name} and "
                f"{self.min_per_class} {self.negative_name} {self.entity_name}; has "
                + " and ".join(short)
            )

    # ---- candidate models, all returning raw log-odds

    def _lightgbm_params(self, n: int) -> dict:
        return dict(
            objective="binary",
            # Shallow, randomised trees: on Telco churn (7,043 rows) these beat deeper trees and
            # logistic regression in 5-fold CV (0.850 vs 0.845-0.848 ROC AUC).
            n_estimators=300,
            learning_rate=0.05,
            extra_trees=True,
            num_leaves=4 if n < 20_000 else 15 if n < 200_000 else 31,
            min_child_samples=int(min(50, max(10, n // 100))),
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.5 if len(self.table_.columns) >= 6 else 1.0,
            reg_lambda=1.0,
            max_cat_to_onehot=8,
            random_state=self.random_state,
            deterministic=True,
            force_row_wise=True,
            # One thread: on a shared 2-core machine OpenMP threads waiting for a busy core made
            # training 10x slower.
            n_jobs=1,
            verbose=-1,
        )

    def _fit_one(self, method: str, dense: np.ndarray, y: np.ndarray):
        if method == "lightgbm":
            model = lgb.LGBMClassifier(**self._lightgbm_params(len(y)))
            model.fit(dense, y, categorical_feature=self.table_.categorical_indexes() or "auto")
            return model
        if method == "logistic":
            design, _ = self.table_.design(dense)
            mean, std = design.mean(axis=0), design.std(axis=0)
            std[std == 0] = 1.0
            model = LogisticRegression(C=0.3, max_iter=2000)
            model.fit((design - mean) / std, y)
            return (model, mean, std)
        model = CategoricalNB(alpha=1.0, min_categories=self.table_.n_bins())
        model.fit(self.table_.binned(dense), y)
        return model

    def _contributions_one(self, method: str, model, dense: np.ndarray) -> tuple[np.ndarray, float]:
        """Per-input-column log-odds contributions (n x columns) and the shared base value."""
        if method == "lightgbm":
            raw = model.booster_.predict(dense, pred_contrib=True, num_threads=_threads(dense))
            return raw[:, :-1], float(raw[0, -1]) if len(raw) else 0.0
        if method == "logistic":
            lr, mean, std = model
            design, owners = self.table_.design(dense)
            parts = (design - mean) / std * lr.coef_[0]
            out = np.zeros((len(dense), len(self.table_.columns)))
            for j in range(out.shape[1]):
                out[:, j] = parts[:, owners == j].sum(axis=1)
            return out, float(lr.intercept_[0])
        binned = self.table_.binned(dense)
        out = np.zeros(binned.shape)
        for j, table in enumerate(model.feature_log_prob_):
            out[:, j] = table[1, binned[:, j]] - table[0, binned[:, j]]
        prior = model.class_log_prior_
        return out, float(prior[1] - prior[0])

    def _raw(self, method: str, model, dense: np.ndarray) -> np.ndarray:
        if method == "lightgbm":
            return model.booster_.predict(dense, raw_score=True, num_threads=_threads(dense))
        contributions, base = self._contributions_one(method, model, dense)
        return contributions.sum(axis=1) + base

    def _oof(self, method: str, dense: np.ndarray, y: np.ndarray) -> np.ndarray:
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        raw = np.zeros(len(y))
        for train, test in folds.split(dense, y):
            model = self._fit_one(method, dense[train], y[train])
            raw[test] = self._raw(method, model, dense[test])
        return raw

    # ---- public API

    def fit(self, X: pd.DataFrame, y) -> BinaryScorer:
        """Learn from ``X`` (one row per entity) and the outcome ``y`` (two values)."""
        if not isinstance(X, pd.DataFrame):
            raise DataValidationError("X must be a pandas DataFrame with named columns")
        if self.method not in ("auto", *METHODS):
            raise ValueError(f"method must be 'auto' or one of {METHODS}; got {self.method!r}")
        y = pd.Series(y, index=X.index) if not isinstance(y, pd.Series) else y.set_axis(X.index)
        keep = y.notna().to_numpy()
        self.rows_without_outcome_ = int((~keep).sum())
        X, y = X.loc[keep], y.loc[keep]
        labels = self._labels(y)
        self._check_counts(labels)
        self.table_ = _Table().fit(X, labels, self.random_state)
        self.dropped_columns_ = dict(self.table_.dropped)
        self.feature_names_in_ = np.array(self.table_.names, dtype=object)
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit_models(X, labels)

    def _fit_models(self, X: pd.DataFrame, labels: np.ndarray) -> BinaryScorer:
        # BLAS threads left spinning by the linear model starve LightGBM's OpenMP threads on a
        # small machine (40 s instead of 2 s on 2 cores), so fitting runs BLAS single-threaded.
        dense = self.table_.dense(X, fit_mode=True)
        minority = int(min(labels.sum(), len(labels) - labels.sum()))
        if self.method != "auto":
            candidates = [self.method]
        elif minority < self.lightgbm_min_per_class:
            candidates = ["naive_bayes", "logistic"]
        else:
            candidates = ["logistic", "lightgbm"]
        self.cv_scores_: dict[str, float] = {}
        oof: dict[str, np.ndarray] = {}
        for candidate in candidates:
            oof[candidate] = self._oof(candidate, dense, labels)
            self.cv_scores_[candidate] = float(roc_auc_score(labels, oof[candidate]))
        self.method_ = max(candidates, key=lambda m: (self.cv_scores_[m], -candidates.index(m)))
        self.model_ = self._fit_one(self.method_, dense, labels)
        # Platt scaling on out-of-fold log-odds: naive Bayes and boosted trees are over-confident.
        self.calibrator_ = None
        calibrated_oof = 1 / (1 + np.exp(-oof[self.method_]))
        if self.method_ != "logistic":
            self.calibrator_ = LogisticRegression(C=1e6, max_iter=1000)
            self.calibrator_.fit(oof[self.method_][:, None], labels)
            folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
            calibrated_oof = cross_val_predict(
                LogisticRegression(C=1e6, max_iter=1000),
                oof[self.method_][:, None],
                labels,
                cv=folds,
                method="predict_proba",
            )[:, 1]
        # Ranking metrics on the raw out-of-fold scores: calibration cannot change the order,
        # but per-fold calibrators would shuffle ties between folds.
        self.cv_metrics_ = {
            "roc_auc": float(roc_auc_score(labels, oof[self.method_])),
            "pr_auc": float(average_precision_score(labels, oof[self.method_])),
            "calibration_error": _ece(labels, calibrated_oof),
            "brier": float(np.mean((calibrated_oof - labels) ** 2)),
            "positive_rate": float(labels.mean()),
            "folds": self.cv,
        }
        # Out-of-fold reliability: predicted vs observed per probability bin.
        self.reliability_ = _reliability(labels, calibrated_oof)
        contributions, _ = self._contributions_one(self.method_, self.model_, dense)
        self.importance_ = dict(
            zip(self.table_.names, np.abs(contributions).mean(axis=0).tolist(), strict=True)
        )
        self.directions_ = self._learn_directions(X, dense, contributions)
        self.n_train_ = len(labels)
        self.n_positive_ = int(labels.sum())
        self._stamp_version(self.method_)
        return self

    def _learn_directions(self, X, dense, contributions) -> dict[str, str]:
        """For each column, which values push the score up, in words, for summary()."""
        words = {}
        for j, column in enumerate(self.table_.columns):
            effect = contributions[:, j]
            if column.kind == "categorical":
                names = self.table_.level_names(column)
                frame = pd.DataFrame({"code": dense[:, j].astype(int), "effect": effect})
                means = frame.groupby("code")["effect"].mean()
                up, down = names[int(means.idxmax())], names[int(means.idxmin())]
                words[column.name] = (
                    f"{column.name}: {up} raises the {self.effect_unit}, {down} lowers it"
                )
            else:
                values = dense[:, j]
                ok = np.isfinite(values)
                if ok.sum() > 2 and np.std(values[ok]) > 0 and np.std(effect[ok]) > 0:
                    corr = np.corrcoef(values[ok], effect[ok])[0, 1]
                else:
                    corr = 0.0
                direction = "raises" if corr > 0 else "lowers"
                label = column.name.replace("_", " ")
                if column.kind == "text":
                    words[column.name] = f"{label}: its wording moves the {self.effect_unit}"
                elif column.kind == "date":
                    later = "a later date" if corr > 0 else "an earlier date"
                    words[column.name] = f"{label}: {later} raises the {self.effect_unit}"
                else:
                    words[column.name] = (
                        f"{label}: a higher value {direction} the {self.effect_unit}"
                    )
        return words

    def _prepare(self, X: pd.DataFrame) -> np.ndarray:
        self._check_fitted()
        if not isinstance(X, pd.DataFrame):
            raise DataValidationError("X must be a pandas DataFrame with named columns")
        self.table_.check(X)
        return self.table_.dense(X)

    def _calibrate(self, raw: np.ndarray) -> np.ndarray:
        if self.calibrator_ is not None:
            raw = raw * self.calibrator_.coef_[0, 0] + self.calibrator_.intercept_[0]
        return 1.0 / (1.0 + np.exp(-np.clip(raw, -500, 500)))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities of [negative, positive], shape (n, 2), always finite."""
        dense = self._prepare(X)
        p = self._calibrate(self._raw(self.method_, self.model_, dense))
        p = np.nan_to_num(p, nan=self.n_positive_ / self.n_train_)
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame, threshold: float = 0.5) -> np.ndarray:
        """The outcome value (from ``classes_``) of each row: positive from ``threshold`` up."""
        positive = self.predict_proba(X)[:, 1] >= threshold
        return self.classes_[positive.astype("int64")]

    def contributions(self, X: pd.DataFrame, *, exact: bool = True) -> pd.DataFrame:
        """Per-column contributions in log-odds, plus a ``(base)`` column; rows sum to the raw
        (uncalibrated) score.

        ``exact=False`` trades LightGBM's SHAP values (about a millisecond a row) for decision
        path attributions, as fast as a prediction: each split on a row's path credits its
        column with the change of the tree's expected output (Saabas; rows still sum to the raw
        score exactly, but columns split near the root get more of the credit than SHAP gives
        them). The linear model and naive Bayes are exact and fast either way.
        """
        dense = self._prepare(X)
        if not exact and self.method_ == "lightgbm":
            values, base = self._path_contributions(dense)
        else:
            values, base = self._contributions_one(self.method_, self.model_, dense)
        frame = pd.DataFrame(values, columns=self.table_.names, index=X.index)
        frame["(base)"] = base
        return frame

    def _path_tables(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Per leaf of every tree, the log-odds its path credits to each column; learned once
        from the booster's dump and kept (``path_tables_``)."""
        cached = getattr(self, "path_tables_", None)
        if cached is not None:
            return cached
        width = len(self.table_.columns)
        rows: list[np.ndarray] = []
        offsets, base = [], 0.0
        for tree in self.model_.booster_.dump_model()["tree_info"]:
            root = tree["tree_structure"]
            offsets.append(len(rows))
            table = np.zeros((max(int(tree["num_leaves"]), 1), width))
            if "split_feature" not in root:
                base += float(root.get("leaf_value", 0.0))
                rows.extend(table)
                continue
            base += float(root["internal_value"])
            stack = [(root, np.zeros(width))]
            while stack:
                node, credit = stack.pop()
                for side in ("left_child", "right_child"):
                    child = node[side]
                    value = child["leaf_value"] if "leaf_index" in child else \
                        child["internal_value"]
                    mine = credit.copy()
                    mine[int(node["split_feature"])] += float(value) - float(
                        node["internal_value"])
                    if "leaf_index" in child:
                        table[int(child["leaf_index"])] = mine
                    else:
                        stack.append((child, mine))
            rows.extend(table)
        self.path_tables_ = (np.vstack(rows), np.asarray(offsets), base)
        return self.path_tables_

    def _path_contributions(self, dense: np.ndarray) -> tuple[np.ndarray, float]:
        tables, offsets, base = self._path_tables()
        leaves = self.model_.booster_.predict(dense, pred_leaf=True,
                                              num_threads=_threads(dense))
        leaves = np.asarray(leaves, dtype="int64").reshape(len(dense), -1) + offsets
        onehot = sparse.csr_matrix(
            (np.ones(leaves.size), leaves.ravel(), np.arange(0, leaves.size + 1,
                                                             leaves.shape[1])),
            shape=(len(dense), tables.shape[0]))
        return np.asarray(onehot @ tables), base

    def explain(self, X: pd.DataFrame, k: int = 3) -> list[Explanation]:
        """Each row's score and its ``k`` strongest factors in words (subject: X's index)."""
        dense = self._prepare(X)
        values, base = self._contributions_one(self.method_, self.model_, dense)
        raw = values.sum(axis=1) + base
        a, b = (1.0, 0.0)
        if self.calibrator_ is not None:
            a, b = float(self.calibrator_.coef_[0, 0]), float(self.calibrator_.intercept_[0])
        out = []
        names = self.table_.names
        for i in range(len(dense)):
            # Effects on the calibrated scale, so they add up with the probability shown.
            effects = logit_effects(values[i] * a, raw[i] * a + b)
            shown = []
            for j, column in enumerate(self.table_.columns):
                value = X[column.name].iloc[i]
                if column.kind == "numeric":
                    value = dense[i, j]
                shown.append(value)
            out.append(
                Explanation(
                    subject=X.index[i],
                    score=float(self._calibrate(np.array([raw[i]]))[0]),
                    factors=tuple(top_factors(names, shown, effects, k=k, unit=self.effect_unit)),
                    model_version=self.model_version_,
                )
            )
        return out

    def top_factors(self, k: int = 5) -> list[dict]:
        """The columns that move scores most overall, and which way."""
        self._check_fitted()
        ranked = sorted(self.importance_.items(), key=lambda item: -item[1])[:k]
        return [
            {"feature": name, "importance": round(value, 4), "text": self.directions_[name]}
            for name, value in ranked
        ]

    def summary(self) -> dict:
        self._check_fitted()
        return {
            "method": self.method_,
            "model_version": self.model_version_,
            "trained_at": self.trained_at_,
            "n_train": self.n_train_,
            "n_positive": self.n_positive_,
            "n_negative": self.n_train_ - self.n_positive_,
            "metrics": dict(self.cv_metrics_),
            "cv_roc_auc_by_method": dict(self.cv_scores_),
            "features": list(self.table_.names),
            "dropped_columns": dict(self.dropped_columns_),
            "top_factors": self.top_factors(),
        }
