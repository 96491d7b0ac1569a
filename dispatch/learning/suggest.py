"""Suggestions from free text: the likeliest categories with calibrated confidence, the words that drove
each, and the department the routing rules give for that category at the place.

The model only names the category; the department comes from `dispatch.routing.decide`, so learned
dispatch and the rules never disagree about who serves a place. Only when no rule resolves does the
history's handler type for the category (the department types that finally accepted such events)
name the nearest department of that type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.utils import timezone

from accounts.models import Department, OrgUnit
from dispatch.learning.features import STOPWORDS, Report, clean
from dispatch.learning.store import LoadedModel, current
from dispatch.routing import Situation, active_subcategories, nearest_of_type, route
from incidents.models import Category

MAX_WORDS = 5


@dataclass
class Suggestion:
    category: Category
    confidence: float
    department: Department | None = None
    department_confidence: float = 0.0
    by_rule: bool = False
    words: list[str] = field(default_factory=list)


def _place(grid: OrgUnit | None) -> tuple[str, str]:
    if grid is None:
        return "", ""
    codes = grid.depth_codes
    return (codes[1] if len(codes) > 1 else ""), (codes[2] if len(codes) > 2 else "")


def _names(model: LoadedModel) -> tuple[np.ndarray, np.ndarray]:
    """Feature names of the union (words, then chars, then context) and which are text; computed once."""
    cached = getattr(model, "_names", None)
    if cached is not None:
        return cached
    union = model.trained.pipeline.named_steps["features"]
    names: list[str] = []
    textual: list[bool] = []
    for name, part in union.transformer_list:
        last = part.steps[-1][1]
        out = [str(o).strip() for o in last.get_feature_names_out()]
        names += [o.replace(" ", "") for o in out]
        textual += [
            name != "context"
            and len(o.replace(" ", "")) >= 2
            and not any(t in STOPWORDS for t in o.split())
            and not any(ch in STOPWORDS for ch in o if name == "chars")
            for o in out
        ]
    result = (np.array(names, dtype=object), np.array(textual))
    model._names = result  # type: ignore[attr-defined]
    return result


def _calibration(model: LoadedModel) -> tuple[Any, list[tuple[str, Any, Any]], np.ndarray] | None:
    """The calibrated classifier's parts, for `probabilities`: scikit-learn's own predict_proba runs
    one isotonic predict (with its input checks) per class, most of a suggestion's time."""
    if hasattr(model, "_calibration"):
        cached: tuple[Any, list[tuple[str, Any, Any]], np.ndarray] | None = model._calibration
        return cached
    classifier = model.trained.pipeline.named_steps["classify"]
    parts = None
    found = getattr(classifier, "calibrated_classifiers_", None)
    if found and len(found) == 1 and found[0].method in ("isotonic", "sigmoid") and len(found[0].classes) > 2:
        one = found[0]
        positions = np.searchsorted(one.classes, one.estimator.classes_)
        curves = []
        for calibrator in one.calibrators:
            if one.method == "isotonic":
                curves.append(("isotonic", calibrator.X_thresholds_, calibrator.y_thresholds_))
            else:
                curves.append(("sigmoid", calibrator.a_, calibrator.b_))
        parts = (one.estimator, curves, positions)
    model._calibration = parts  # type: ignore[attr-defined]
    return parts


def probabilities(model: LoadedModel, x: Any) -> np.ndarray:
    """Calibrated class probabilities of one featurized report: the same numbers as the pipeline's
    predict_proba (tests compare them), by numpy alone."""
    parts = _calibration(model)
    if parts is None:
        return model.trained.pipeline.named_steps["classify"].predict_proba(x)[0]
    estimator, curves, positions = parts
    scores = estimator.decision_function(x)[0]
    proba = np.zeros(len(curves))
    for position, score, (kind, a, b) in zip(positions, scores, curves, strict=True):
        proba[position] = np.interp(score, a, b) if kind == "isotonic" else 1.0 / (1.0 + np.exp(a * score + b))
    total = proba.sum()
    return proba / total if total else np.full(len(proba), 1.0 / len(proba))


def _coefficients(model: LoadedModel) -> np.ndarray | None:
    classifier = model.trained.pipeline.named_steps["classify"]
    if hasattr(classifier, "calibrated_classifiers_"):
        classifier = classifier.calibrated_classifiers_[0].estimator
    coef = getattr(classifier, "coef_", None)
    return coef if coef is not None and coef.shape[0] > 1 else None


def driving_words(model: LoadedModel, x: Any, class_index: int) -> list[str]:
    """The features present in the text that pushed hardest towards this class (positive weights)."""
    coef = _coefficients(model)
    if coef is None:
        return []
    names, textual = _names(model)
    words_end = len(model.trained.pipeline.named_steps["features"].transformer_list[0][1].steps[-1][1].vocabulary_)
    row = x.tocsr()
    idx, values = row.indices, row.data
    contributions = values * coef[class_index, idx]
    chosen: list[str] = []
    ranked = [int(j) for j in np.argsort(-contributions) if contributions[j] > 0 and textual[idx[j]]]
    # Whole words first (jieba's), then character n-grams for what the words missed.
    for j in sorted(ranked, key=lambda j: idx[j] >= words_end):
        word = str(names[idx[j]])
        if len(chosen) >= MAX_WORDS:
            break
        if not any(word in c or c in word for c in chosen):
            chosen.append(word)
    return chosen


def _department(
    category: Category, grid: OrgUnit, source: str, at: datetime, text: str, model: LoadedModel
) -> tuple[Department | None, float, bool]:
    decided = route(Situation(category, grid, category.default_urgency, source, at, text)).department
    if decided is not None:
        return decided, 1.0, True
    shares = model.trained.departments.get(category.code) or {}
    for type_code, share in shares.items():
        found = nearest_of_type(type_code, grid)
        if found is not None:
            return found, share, False
    return None, 0.0, False


def suggest(
    *,
    title: str,
    description: str = "",
    source: str = "other",
    grid: OrgUnit | None = None,
    at: datetime | None = None,
    limit: int = 3,
    model: LoadedModel | None = None,
) -> tuple[list[Suggestion], LoadedModel | None]:
    """Up to `limit` suggestions, best first; none (and no model) when no usable model is stored."""
    model = model or current()
    text = f"{title or ''} {description or ''}".strip()
    if model is None or not clean(text):
        return [], model
    district, street = _place(grid)
    report = Report(text=text, source=source, district=district, street=street)
    pipeline = model.trained.pipeline
    x = pipeline.named_steps["features"].transform([report])
    proba = probabilities(model, x)
    classes = pipeline.classes_
    order = [int(i) for i in np.argsort(-proba)[: limit * 2]]
    by_code = active_subcategories()
    at = at or timezone.now()
    found: list[Suggestion] = []
    for i in order:
        category = by_code.get(classes[i])
        if category is None:  # retired from the catalogue since training
            continue
        suggestion = Suggestion(category, round(float(proba[i]), 4), words=driving_words(model, x, i))
        if grid is not None:
            dept, share, by_rule = _department(category, grid, source, at, text, model)
            suggestion.department, suggestion.by_rule = dept, by_rule
            suggestion.department_confidence = round(suggestion.confidence * share, 4)
        found.append(suggestion)
        if len(found) == limit:
            break
    return found, model


def learned_department(
    *, category: Category, grid: OrgUnit, title: str, description: str, source: str
) -> tuple[Department | None, float, LoadedModel | None]:
    """The model's department for an event whose category is known, and its confidence: how sure the
    model is of that category from the text, times the share of that department type among the
    history's final handlers of the category. None when there is no model or no history for it."""
    model = current()
    if model is None:
        return None, 0.0, None
    text = f"{title} {description}".strip()
    district, street = _place(grid)
    pipeline = model.trained.pipeline
    classes = list(pipeline.classes_)
    if category.code not in classes:
        return None, 0.0, model
    x = pipeline.named_steps["features"].transform([Report(text=text, source=source, district=district, street=street)])
    p = float(probabilities(model, x)[classes.index(category.code)])
    for type_code, share in (model.trained.departments.get(category.code) or {}).items():
        found = nearest_of_type(type_code, grid)
        if found is not None:
            return found, round(p * share, 4), model
    return None, 0.0, model
