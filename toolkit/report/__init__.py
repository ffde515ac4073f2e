"""The report layer: tables in every format, figures, PRISMA counts and the HTML report.

It sits above the library rooms (corpus, codebook, coding, agreement, topics,
triangulation): it turns their tables into files a reader opens, and never computes an
analysis of its own.
"""

from toolkit.report.figures import (
    plot_cooccurrence,
    plot_corpus_counts,
    plot_heatmap,
    plot_prisma,
    plot_status,
    plot_topic_sizes,
    plot_topics_by,
    save_figure,
)
from toolkit.report.prisma import PRISMA_BOXES, compute_prisma
from toolkit.report.quotes import export_quotes
from toolkit.report.tables import FORMATS, export_table, to_latex, to_markdown

__all__ = [
    "FORMATS",
    "PRISMA_BOXES",
    "compute_prisma",
    "export_quotes",
    "export_table",
    "plot_cooccurrence",
    "plot_corpus_counts",
    "plot_heatmap",
    "plot_prisma",
    "plot_status",
    "plot_topic_sizes",
    "plot_topics_by",
    "save_figure",
    "to_latex",
    "to_markdown",
]
