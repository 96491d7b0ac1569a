"""Where the dispatch model's training time goes, phase by phase, on the history already in the database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/citygov_h18_bench \\
      .venv/bin/python bench/dispatch_train_profile.py --events 100000

Phases, each timed wall and CPU: reading the history, jieba's words (cold cache), the feature union's
fit_transform (words warm), then the classifier on the featurized older 80 %: one LinearSVC fit with
the dual solver beside the primal one (`dual=False`; scikit-learn's default "auto" picks by shape),
each with its held-out top-1 on the newest 20 %, and the calibrated classifier training runs (three
time-ordered folds + the final fit) with its held-out calibration. The two solvers are peers measured
in the same run on the same matrix.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citygov.settings.dev")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ.setdefault("DEBUG", "0")


class Clock:
    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"  {self.name:<52} {wall:8.1f} s wall {cpu:8.1f} s CPU   (load {load})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000, help="The newest N events of the history")
    parser.add_argument("--skip-dual", action="store_true", help="Do not fit the dual solver (slow)")
    parser.add_argument("--folds", default="3", help="Calibration fold counts to compare, e.g. 3,2")
    args = parser.parse_args()
    import django

    django.setup()
    import numpy as np
    from sklearn.base import clone
    from sklearn.model_selection import KFold
    from sklearn.svm import LinearSVC

    from dispatch.learning import features
    from dispatch.learning.training import _classifier, catalogue_samples, evaluate_matrix, history_samples

    print(f"training profile, newest {args.events:,} events", flush=True)
    with Clock("read history + catalogue"):
        history = history_samples(args.events)
        catalogue = catalogue_samples()
    cut = int(len(history) * 0.8)
    older, newer = history[:cut], history[cut:]
    train_reports = [s.report for s in older + catalogue]
    labels = np.array([s.category for s in older + catalogue])
    features._words.cache_clear()
    with Clock(f"jieba words, cold ({len(history):,} texts)"):
        for s in history:
            features.words(s.report["text"])
    union = features.feature_union(min_df=2)
    with Clock("features fit_transform (older 80 % + catalogue)"):
        x = union.fit_transform(train_reports)
    with Clock("features transform (newest 20 %)"):
        x_new = union.transform([s.report for s in newer])
    print(f"  matrix {x.shape[0]:,} × {x.shape[1]:,}, {x.nnz:,} non-zeros", flush=True)
    truth = np.array([s.category for s in newer])
    classifier = _classifier(len(older))
    # scikit-learn's default, dual="auto", takes the dual solver when there are fewer rows than features.
    auto = "dual" if x.shape[0] < x.shape[1] else "primal"
    print(f"  dual='auto' (as trained) chooses the {auto} solver here", flush=True)
    solvers = [("primal", False)] if args.skip_dual else [("dual", True), ("primal", False)]
    for name, dual in solvers:
        svc = LinearSVC(C=classifier.estimator.C, dual=dual)
        with Clock(f"one LinearSVC fit, {name}"):
            svc.fit(x, labels)
        top1 = float((svc.predict(x_new) == truth).mean())
        print(f"    held-out top-1 {top1:.4f}, iterations {getattr(svc, 'n_iter_', '?')}", flush=True)
    for folds in [int(f) for f in args.folds.split(",")]:
        calibrated = clone(classifier)
        calibrated.set_params(cv=KFold(folds, shuffle=False))
        with Clock(f"calibrated {calibrated.estimator}, {folds} folds + final"):
            calibrated.fit(x, labels)
        evaluation = evaluate_matrix(calibrated.predict_proba(x_new), list(calibrated.classes_), list(truth))
        ev = evaluation.as_dict()
        ev.pop("reliability")
        print(f"    held-out {ev}", flush=True)


if __name__ == "__main__":
    main()
