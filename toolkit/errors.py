"""Exceptions raised on purpose by :mod:`toolkit`.

Bad *records* are data (see :class:`toolkit.corpus.LoadFailure`); bad *calls* raise one of
the classes below. Every message has the shape ``where: what is wrong; what to do``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "ToolkitError",
    "CorpusInputError",
    "CorpusFormatError",
    "DedupReviewError",
    "CitationAuditError",
    "CodebookError",
    "CodingError",
    "AgreementError",
    "NotFittedError",
    "TopicModelError",
    "DistributedError",
]


class ToolkitError(Exception):
    """Base class for every error toolkit raises on purpose."""


class CorpusInputError(ToolkitError, ValueError):
    """A corpus path cannot be read at all (missing, empty, unknown kind).

    Parameters
    ----------
    path : str or Path
        The path the caller gave.
    problem : str
        What is wrong and what to do, in one sentence.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class CorpusFormatError(ToolkitError, ValueError):
    """Raised by ``strict=True`` loaders when any block or record could not be read.

    Parameters
    ----------
    failures : sequence of LoadFailure
        Every failure, in file and line order.
    """

    def __init__(self, failures: Sequence[object]) -> None:
        self.failures = tuple(failures)
        lines = [str(f) for f in self.failures]
        super().__init__(
            f"{len(lines)} block(s) could not be read; fix them or load with strict=False "
            "to get them back as data:\n- " + "\n- ".join(lines)
        )


class DedupReviewError(ToolkitError, ValueError):
    """A de-duplication review sheet cannot be read or applied; ``problems`` lists each.

    Parameters
    ----------
    path : str or Path
        The sheet.
    problems : sequence of str
        One message per problem: the sheet row, what is wrong, what to write instead.
    """

    def __init__(self, path: str | Path, problems: Sequence[str]) -> None:
        self.path, self.problems = str(path), tuple(problems)
        super().__init__(f"{self.path}: {len(self.problems)} problem(s):\n- "
                         + "\n- ".join(self.problems))


class CitationAuditError(ToolkitError, ValueError):
    """A citation audit was called with unusable input."""


class CodebookError(ToolkitError, ValueError):
    """A codebook file or mapping is invalid; ``problems`` lists every problem found.

    Parameters
    ----------
    path : str or Path
        The codebook file (or a label for an in-memory codebook).
    problems : sequence of str
        One message per problem: where it is, what is wrong, what is valid.
    """

    def __init__(self, path: str | Path, problems: Sequence[str]) -> None:
        self.path, self.problems = str(path), tuple(problems)
        super().__init__(f"{self.path}: {len(self.problems)} problem(s):\n- "
                         + "\n- ".join(self.problems))


class CodingError(ToolkitError, ValueError):
    """Codings or a coding sheet do not fit the codebook or the segments."""


class AgreementError(ToolkitError, ValueError):
    """Agreement statistics were asked for data that cannot support them."""


class NotFittedError(ToolkitError, ValueError, AttributeError):
    """An estimator was used before ``fit`` (scikit-learn's wording)."""


class TopicModelError(ToolkitError, ValueError):
    """A topic model cannot be built or fitted as asked."""


class DistributedError(ToolkitError, RuntimeError):
    """A distributed run (:mod:`toolkit.scale`) cannot start or was asked the impossible.

    Raised, among others, when a Dask option is used and the ``dask`` extra is not
    installed, or when the scheduler cannot be reached.
    """
