"""Analysis for the participation platform, in plain Python.

This package takes plain data (texts, dataclasses, CSV files) and returns plain
data. It never imports Flask, SQLAlchemy or the `beteiligung` application, so it
runs the same from the command line, a scheduled job, a notebook or a test.
"""

__version__ = "0.2.0"

from .pipeline import (DEFAULT_SECTORS, AnalysisResult, ClassifierReport, Cluster, Document,  # noqa: E402
                       DuplicateGroup, MeasureMatch, MeasureSpec, SectorSpec, SectorSuggestion, analyse, extend)

__all__ = [
    "Document", "SectorSpec", "DEFAULT_SECTORS", "MeasureSpec", "SectorSuggestion", "MeasureMatch", "Cluster",
    "ClassifierReport", "DuplicateGroup", "AnalysisResult", "analyse", "extend", "__version__",
]
