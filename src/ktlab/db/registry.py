"""The model registry in ``ml_models``: one row per training run, versioned per model name."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ktlab.db.engine import make_engine, make_session_factory, require_schema
from ktlab.db.models import MLModel
from ktlab.utils.run_record import RunRecord

log = logging.getLogger(__name__)

RETRIES = 5


def _json_safe(value: Any) -> Any:
    """A JSON-serializable copy: non-finite floats become None, unknown objects their text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return json.loads(json.dumps(value, default=str))


def model_kind(run: RunRecord) -> str:
    """The network class of a run (``run.kind``, else ``model.net._target_``, else ``model._target_``)."""
    if run.kind:
        return run.kind
    model = run.config.get("model") or {}
    target = (model.get("net") or {}).get("_target_") or model.get("_target_") or "unknown"
    return str(target).rsplit(".", 1)[-1]


def add_model(session: Session, run: RunRecord, activate: bool = True) -> MLModel:
    """Insert the next version of ``run.name``; with ``activate`` it becomes the only active version."""
    version = (session.scalar(select(func.max(MLModel.version)).where(MLModel.name == run.name)) or 0) + 1
    if activate:
        session.execute(update(MLModel).where(MLModel.name == run.name).values(is_active=False))
    row = MLModel(
        name=run.name,
        version=version,
        kind=model_kind(run),
        metrics=_json_safe(dict(run.metrics)),
        artifact_path=run.checkpoint_path,
        config=_json_safe({**run.config, "output_dir": run.output_dir}),
        is_active=activate,
    )
    session.add(row)
    session.flush()
    return row


def active_model(session: Session, name: str) -> MLModel | None:
    """The active version of model ``name``, if any."""
    return session.scalars(select(MLModel).where(MLModel.name == name, MLModel.is_active)).one_or_none()


class DatabaseRegistry:
    """Records finished runs in ``ml_models`` (``registry=db``; see :class:`ktlab.utils.run_record.RunRegistry`).

    Args:
        db: the ``db`` config or a URL; ``KTLAB_DATABASE_URL`` wins over it.
        activate: mark each new version as the active one of its name.
    """

    def __init__(self, db: Mapping[str, Any] | str, activate: bool = True) -> None:
        self.db = dict(db) if isinstance(db, Mapping) else db
        self.activate = activate

    def record(self, run: RunRecord) -> MLModel:
        """Insert the run as the next version of its name (retrying if another run took that version)."""
        engine = make_engine(self.db)
        try:
            require_schema(engine, ("ml_models",))
            sessions = make_session_factory(engine)
            for attempt in range(RETRIES):
                try:
                    with sessions.begin() as session:
                        row = add_model(session, run, self.activate)
                    log.info("registered %s version %d (ml_models id %d)", row.name, row.version, row.id)
                    return row
                except IntegrityError:
                    if attempt == RETRIES - 1:
                        raise
                    log.info("version taken by a concurrent run; retrying")
        finally:
            engine.dispose()
        raise AssertionError("unreachable")
