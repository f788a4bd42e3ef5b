"""The learner database: models, engines, migrations support, import, ingestion, source and registry.

Importing this package has no side effects: engines are built by :func:`ktlab.db.engine.make_engine`
from the ``db`` config group, never at import time.
"""
