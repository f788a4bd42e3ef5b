"""A file in another layout, renamed to the answer record's column names at the reader's edge."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd


def rename_layout(
    frame: pd.DataFrame, file_to_record: Mapping[str, str]
) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """``frame`` with the columns ``file_to_record`` names renamed to the record's names.

    Returns:
        The renamed frame; the file's name of each renamed column (record name -> file name, for
        messages); and the columns the file names both ways, as ``"<file name> and <record name>"``
        (the caller refuses such a file in its own words).
    """
    given = {old: new for old, new in file_to_record.items() if old in frame.columns}
    both = [f"{old} and {new}" for old, new in given.items() if new in frame.columns]
    return frame.rename(columns=given), {new: old for old, new in given.items()}, both
