"""Training the dispatch model (智能分拨) on the city's own history, and measuring it on held-out time.

Labels: the event's final category, and the type of the department that finally accepted and handled
it (a return 退回 or a redispatch 改派 is a correction: the last lead department is the label). The
catalogue's names, keywords and major classes are added as short documents, so a category without
history can still be suggested and a city without history starts from the catalogue alone.
"""

from __future__ import annotations

import hashlib
import itertools
import platform
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import jieba
import numpy as np
import scipy
import sklearn
from django.utils import timezone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from dispatch.learning.features import Report, feature_union
from incidents.models import Category, Event, State

FORMAT = 1  # bumped when a stored model can no longer be read by this code
HANDLED_STATES = [State.ACCEPTED, State.SUSPENDED, State.HANDLED, State.VERIFIED, State.CLOSED]
CONFIDENT = 0.8  # the confidence an operator can trust without reading (the bar)
BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0001)


@dataclass
class Sample:
    report: Report
    category: str
    department_type: str | None


@dataclass
class Evaluation:
    held_out: int = 0
    top1: float | None = None
    top3: float | None = None
    confident_share: float | None = None
    confident_precision: float | None = None
    reliability: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def catalogue_version() -> str:
    """A digest of the 小类 codes, names and keywords: a model trained on another catalogue is flagged."""
    rows = Category.objects.filter(parent__isnull=False).order_by("code").values_list("code", "name", "keywords")
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()[:16]


def _place(path: str) -> tuple[str, str]:
    codes = path.strip("/").split("/")
    return (codes[1] if len(codes) > 1 else ""), (codes[2] if len(codes) > 2 else "")


def history_samples(max_events: int | None = None) -> list[Sample]:
    """Events of the history in time order (oldest first), with their final labels."""
    events = (
        Event.objects.filter(category__parent__isnull=False)
        .exclude(state__in=[State.INVALIDATED, State.MERGED])
        .order_by("-reported_at", "-id")
        .values_list(
            "title", "description", "source", "area_path", "category__code", "state", "lead_department__type__code"
        )
    )
    if max_events:
        events = events[:max_events]
    samples = []
    for title, description, source, path, category, state, dept_type in events:
        district, street = _place(path)
        samples.append(
            Sample(
                Report(text=f"{title} {description}", source=source, district=district, street=street),
                category,
                dept_type if state in HANDLED_STATES else None,
            )
        )
    samples.reverse()
    return samples


def catalogue_samples() -> list[Sample]:
    """Short documents from the catalogue: name, keywords, class + name, each keyword alone."""
    samples = []
    for cat in Category.objects.filter(parent__isnull=False, is_active=True).select_related("parent"):
        keywords = cat.keywords.split()
        major = cat.parent.name if cat.parent else ""
        texts = [cat.name, f"{cat.name} {cat.keywords}", f"{major} {cat.name}", *keywords]
        for text in texts:
            samples.append(Sample(Report(text=text, source="other", district="", street=""), cat.code, None))
    return samples


def _classifier(n: int) -> Any:
    """`n` events of history (the catalogue's documents, grouped by category, are not counted)."""
    if n < 200:  # the catalogue alone, or little more: too little to cross-validate a calibration
        return LogisticRegression(C=20.0, max_iter=2000)
    # Calibrated on time-ordered folds (no shuffle): each fold's calibration data is a stretch of time.
    method = "isotonic" if n >= 5000 else "sigmoid"
    return CalibratedClassifierCV(LinearSVC(C=0.5), method=method, cv=KFold(3, shuffle=False), ensemble=False)


def fit(history: list[Sample], catalogue: list[Sample]) -> Pipeline:
    samples = history + catalogue
    pipeline = Pipeline(
        [("features", feature_union(min_df=2 if len(history) >= 2000 else 1)), ("classify", _classifier(len(history)))]
    )
    pipeline.fit([s.report for s in samples], [s.category for s in samples])
    return pipeline


def evaluate(pipeline: Pipeline, samples: list[Sample]) -> Evaluation:
    if not samples:
        return Evaluation()
    proba = pipeline.predict_proba([s.report for s in samples])
    return evaluate_matrix(proba, list(pipeline.classes_), [s.category for s in samples])


def evaluate_matrix(proba: np.ndarray, classes: list[str], categories: list[str]) -> Evaluation:
    """Top-1, top-3 and the calibration of predicted probabilities (rows) against the true categories."""
    if not categories:
        return Evaluation()
    truth = np.array([classes.index(c) if c in classes else -1 for c in categories])
    order = np.argsort(-proba, axis=1)
    top1 = order[:, 0] == truth
    top3 = (order[:, :3] == truth[:, None]).any(axis=1)
    best = proba[np.arange(len(categories)), order[:, 0]]
    confident = best >= CONFIDENT
    reliability = []
    for low, high in itertools.pairwise(BINS):
        inside = (best >= low) & (best < high)
        if inside.any():
            reliability.append(
                {
                    "from": low,
                    "to": min(high, 1.0),
                    "count": int(inside.sum()),
                    "mean_confidence": round(float(best[inside].mean()), 4),
                    "accuracy": round(float(top1[inside].mean()), 4),
                }
            )
    return Evaluation(
        held_out=len(categories),
        top1=round(float(top1.mean()), 4),
        top3=round(float(top3.mean()), 4),
        confident_share=round(float(confident.mean()), 4),
        confident_precision=round(float(top1[confident].mean()), 4) if confident.any() else None,
        reliability=reliability,
    )


def department_types(samples: list[Sample]) -> dict[str, dict[str, float]]:
    """Per category, the share of each department type among the events' final handlers."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for s in samples:
        if s.department_type:
            counts[s.category][s.department_type] += 1
    return {cat: {t: round(n / sum(c.values()), 4) for t, n in c.most_common()} for cat, c in counts.items()}


@dataclass
class Trained:
    pipeline: Pipeline
    departments: dict[str, dict[str, float]]
    meta: dict[str, Any]


def train(max_events: int | None = None, held_out_share: float = 0.2) -> Trained:
    """Fit on the older part of history, measure on the newest `held_out_share`, then refit on all of it."""
    started = time.perf_counter()
    phases: dict[str, float] = {}  # wall seconds of each step, for the benchmark's profile
    mark = [started]

    def lap(name: str) -> None:
        now = time.perf_counter()
        phases[name] = round(now - mark[0], 1)
        mark[0] = now

    history = history_samples(max_events)
    catalogue = catalogue_samples()
    lap("read")
    cut = int(len(history) * (1 - held_out_share))
    older, newer = history[:cut], history[cut:]
    evaluation = Evaluation()
    if len(older) >= 200 and newer:
        measured = fit(older, catalogue)
        lap("held_out_fit")
        evaluation = evaluate(measured, newer)
        lap("held_out_measure")
    pipeline = fit(history, catalogue)
    lap("final_fit")
    meta = {
        "format": FORMAT,
        "kind": "history" if history else "catalogue",
        "trained_at": timezone.now().isoformat(),
        "events": len(history),
        "catalogue_documents": len(catalogue),
        "categories": len(pipeline.classes_),
        "evaluation": evaluation.as_dict(),
        "seconds": round(time.perf_counter() - started, 1),
        "phases": phases,
        "catalogue_version": catalogue_version(),
        "versions": {
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "jieba": jieba.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
    }
    return Trained(pipeline, department_types(history), meta)
