"""Where the dispatch model lives: a joblib file and its JSON metadata under the var directory.

Written atomically (a temporary file renamed over the old one), read once per process and again
when the file changes (its mtime and size). A missing, corrupt or incompatible file gives no model
and one logged warning per change: callers fall back to the routing rules alone, never a 500.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import joblib
import sklearn
from django.conf import settings

from dispatch.learning.training import FORMAT, Trained

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    trained: Trained
    path: Path

    @property
    def meta(self) -> dict[str, Any]:
        return self.trained.meta


def model_path() -> Path:
    configured = getattr(settings, "DISPATCH_MODEL_PATH", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "models" / "dispatch.joblib"


def _atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(trained: Trained, path: Path | None = None) -> Path:
    path = path or model_path()
    bundle = {"format": FORMAT, "pipeline": trained.pipeline, "departments": trained.departments, "meta": trained.meta}
    _atomic_write(path, lambda handle: joblib.dump(bundle, handle, compress=3))
    meta = json.dumps(trained.meta, ensure_ascii=False, indent=2).encode()
    _atomic_write(path.with_suffix(".json"), lambda handle: handle.write(meta))
    return path


def _read(path: Path) -> LoadedModel:
    bundle = joblib.load(path)
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise ValueError(f"format {bundle.get('format') if isinstance(bundle, dict) else '?'} is not {FORMAT}")
    meta = bundle["meta"]
    trained_with = meta.get("versions", {}).get("scikit-learn")
    if trained_with != sklearn.__version__:
        raise ValueError(f"trained with scikit-learn {trained_with}, this process has {sklearn.__version__}")
    return LoadedModel(Trained(bundle["pipeline"], bundle["departments"], meta), path)


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple | None = None
        self.model: LoadedModel | None = None
        self.problem = ""

    def get(self) -> LoadedModel | None:
        path = model_path()
        try:
            stat = path.stat()
            key: tuple = (str(path), stat.st_mtime_ns, stat.st_size)
        except OSError:
            key = (str(path), None, None)
        if key == self.key:
            return self.model
        with self.lock:
            if key == self.key:
                return self.model
            model, problem = None, ""
            if key[1] is None:
                problem = f"no dispatch model at {path}; run manage.py train_dispatch"
            else:
                try:
                    model = _read(path)
                except Exception as exc:  # any unreadable file degrades to rules-only
                    problem = f"dispatch model {path} is unusable ({type(exc).__name__}: {exc})"
            if problem:
                log.warning("%s; suggestions are off, routing rules only", problem)
            self.key, self.model, self.problem = key, model, problem
            return model


_cache = _Cache()


def current() -> LoadedModel | None:
    """The model of this process (reloaded when its file changed), or None with a logged warning."""
    return _cache.get()


def current_problem() -> str:
    """Why there is no model (empty when there is one)."""
    _cache.get()
    return _cache.problem
