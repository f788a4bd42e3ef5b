"""Readers of the raw releases pyKT supports, each writing pyKT's 6-line ``data.txt``.

One reader per data set (:data:`~ktlab.data.pykt.raw.datasets.DATASETS`), each reading its file's own
column names (declared beside it), dropping the rows pyKT drops, keeping 0/1 answers and ordering each
learner's answers as pyKT does; every reader's docstring names the pyKT rule it follows and each
deliberate difference. Command line: ``python -m ktlab.data.pykt.raw DATASET PATH... --out DIR``.
"""

from ktlab.data.pykt.raw.datasets import DATASETS, RawDataset, prepare
from ktlab.data.pykt.raw.six_lines import Written, write_data_txt

__all__ = ["DATASETS", "RawDataset", "Written", "prepare", "write_data_txt"]
