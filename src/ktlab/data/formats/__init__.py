"""Readers and sources for the data formats the field releases: 3-line, AKT's 4-line, raw ASSISTments."""

from ktlab.data.formats.assistments import read_assistments_csv
from ktlab.data.formats.lines import read_lines
from ktlab.data.formats.sources import AssistmentsCSVSource, KTLinesSource

__all__ = ["AssistmentsCSVSource", "KTLinesSource", "read_assistments_csv", "read_lines"]
