"""``load_corpus`` on a Dask cluster: one task per export file, records as a Dask DataFrame.

Each file is read by a worker with the same reader :func:`toolkit.corpus.load_corpus` uses;
BibTeX files read together (``bibtex_together=True``, the default) share ``@string`` macros
and ``crossref`` targets, so they are read by one task as one database, as BibTeX reads
``\\bibliography{a,b}``; pass ``bibtex_together=False`` for one task per BibTeX file. The
client plans the files (format detection, skipped files), gathers only the small results
(failures with file and line, warnings, per-file accounting, and the record ids with where
they start, to rename ids repeated across files exactly as the one-process loader does)
and never the records: they stay on the workers, one partition per file.

The files must be readable at the same paths from every worker (a shared file system when
the workers run on other machines).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.corpus._schema import LoadResult, LoadWarning, SkippedFile
from toolkit.corpus.bibtex import read_bibtex, read_bibtex_files
from toolkit.corpus.load import FORMATS, _plan, unique_record_ids
from toolkit.errors import CorpusFormatError, CorpusInputError
from toolkit.scale._client import dask_client, dataframe_config

__all__ = ["DistributedLoad", "load_corpus_distributed"]


@dataclass(frozen=True)
class DistributedLoad:
    """A :class:`~toolkit.corpus.LoadResult` whose records stay on the cluster.

    Attributes
    ----------
    records : dask.dataframe.DataFrame
        One partition per file (in the order the files were given, sorted within a
        folder), the columns and dtypes :func:`toolkit.corpus.load_corpus` gives; the index
        runs on across partitions (0 to ``n - 1``) so ``records.compute()`` equals the
        one-process table.
    failures, warnings, blocks, generated_ids, skipped
        As in :class:`~toolkit.corpus.LoadResult`, gathered from every file.
    """

    records: Any
    failures: tuple[Any, ...] = ()
    warnings: tuple[LoadWarning, ...] = ()
    blocks: pd.DataFrame = field(default_factory=pd.DataFrame)
    generated_ids: frozenset[str] = frozenset()
    skipped: tuple[SkippedFile, ...] = ()

    def compute(self) -> LoadResult:
        """Gather the records on the client and return the one-process :class:`LoadResult`."""
        with dataframe_config():
            records = self.records.compute().reset_index(drop=True)
        return LoadResult(records, self.failures, self.warnings, self.blocks,
                          self.generated_ids, self.skipped)

    def __repr__(self) -> str:
        skipped = f", skipped={len(self.skipped)}" if self.skipped else ""
        return (f"DistributedLoad(partitions={self.records.npartitions}, "
                f"failures={len(self.failures)}, warnings={len(self.warnings)}{skipped})")


# ----------------------------------------------------------------------- worker side

def _read(files: list[str], kind: str, encoding: str | None
          ) -> tuple[LoadResult, list[tuple[str, type[Warning]]]]:
    """Read one file (or the BibTeX files read together) on a worker, on one process.

    Returns the result and the Python warnings the reader issued, for the client to
    issue again (a worker's warnings would otherwise never reach the user).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if kind == "bibtex-together":
            result = read_bibtex_files(files, encoding=encoding, workers=1)
        elif kind == "bibtex":
            result = read_bibtex(files[0], encoding=encoding, workers=1)
        else:
            options = {"workers": 1} if kind in ("ris", "wos", "medline") else {}
            result = FORMATS[kind](files[0], encoding=encoding, **options)
    return result, [(str(w.message), w.category) for w in caught]


def _summary(read: tuple[LoadResult, list[tuple[str, type[Warning]]]]) -> dict[str, Any]:
    """Return the small part of a result the client needs (all but the records)."""
    result, issued = read
    records = result.records
    return {
        "issued": issued,
        "failures": result.failures, "warnings": result.warnings, "blocks": result.blocks,
        "empty": records.iloc[:0],
        "ids": records["record_id"].tolist(),
        "generated": [r in result.generated_ids for r in records["record_id"]],
        "files": records["source_file"].tolist(),
        "lines": records["source_line"].tolist(),
    }


def _partition(read: tuple[LoadResult, Any], source_file: str, ids: list[str], start: int,
               meta: pd.DataFrame) -> pd.DataFrame:
    """Return the records of one file, with their final ids, conformed to ``meta``."""
    records = read[0].records
    part = records[records["source_file"] == source_file].copy()
    part["record_id"] = pd.array(ids, dtype="string")
    part = part.reindex(columns=meta.columns)
    part = part.astype(meta.dtypes.to_dict())
    part.index = pd.RangeIndex(start, start + len(part))
    return part


# ----------------------------------------------------------------------- client side

def load_corpus_distributed(
    path_or_paths: str | Path | Iterable[str | Path],
    *,
    client: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    encoding: str | None = None,
    bibtex_together: bool = True,
) -> DistributedLoad:
    """Load reference exports on a Dask cluster; see :func:`toolkit.corpus.load_corpus`.

    Parameters
    ----------
    path_or_paths : str, Path or iterable of them
        Files or folders, as for :func:`~toolkit.corpus.load_corpus`.
    client : distributed.Client, optional
        The cluster to use (left open). Else ``scheduler`` (an address), else a
        ``LocalCluster`` of ``workers`` processes that lives for this call only, in which
        case the records are gathered before it closes (see Returns).
    strict, encoding, bibtex_together
        As for :func:`~toolkit.corpus.load_corpus`.

    Returns
    -------
    DistributedLoad
        ``records`` is a Dask DataFrame on ``client``'s cluster. Without a client the
        cluster ends with the call, so the records come back computed, as a one-partition
        Dask DataFrame of the gathered table.

    Raises
    ------
    CorpusInputError, CorpusFormatError
        As :func:`~toolkit.corpus.load_corpus` does.
    DistributedError
        When Dask is not installed or the cluster cannot be reached.

    Examples
    --------
    >>> from distributed import Client  # doctest: +SKIP
    >>> with Client(n_workers=2, threads_per_worker=1) as client:  # doctest: +SKIP
    ...     loaded = load_corpus_distributed("corpus/examples", client=client)
    ...     loaded.compute().records.equals(tk.load_corpus("corpus/examples").records)
    True
    """
    if isinstance(path_or_paths, (str, Path)):
        path_or_paths = [path_or_paths]
    plan, skipped = _plan(list(path_or_paths))
    if not plan:
        raise CorpusInputError("(no paths)", "no files given; pass a file or a directory")
    with dask_client(client, scheduler=scheduler, workers=workers,
                     where="load_corpus_distributed") as own:
        loaded = _load(own, plan, skipped, strict=strict, encoding=encoding,
                       bibtex_together=bibtex_together)
        if client is None:  # the cluster closes with this call: bring the records home
            import dask.dataframe as dd

            with dataframe_config():
                records = loaded.records.compute()
                loaded = replace(loaded, records=dd.from_pandas(records, npartitions=1,
                                                                sort=False))
        return loaded


def _load(client: Any, plan: list[tuple[Path, str]], skipped: list[SkippedFile], *,
          strict: bool, encoding: str | None, bibtex_together: bool) -> DistributedLoad:
    import dask.dataframe as dd

    order = [str(path) for path, _ in plan]
    bib_files = [str(path) for path, kind in plan if kind == "bibtex"]
    together = bibtex_together and len(bib_files) > 1
    # the tasks, in the order load_corpus puts their results together
    jobs: list[tuple[list[str], str]] = []
    if together:
        jobs.append((bib_files, "bibtex-together"))
    for path, kind in plan:
        if kind == "bibtex" and together:
            continue
        jobs.append(([str(path)], kind))
    futures = [client.submit(_read, files, kind, encoding, pure=False) for files, kind in jobs]
    summaries = client.gather([client.submit(_summary, f) for f in futures])
    for summary in summaries:  # what the readers warned about on the workers, in order
        for message, category in summary["issued"]:
            warnings.warn(message, category, stacklevel=4)

    position = {name: i for i, name in enumerate(order)}
    warns = [w for s in summaries for w in s["warnings"]]
    # records in the final order: by file in plan order, in reader order within a file
    which = {src: k for k, (files, _) in enumerate(jobs) for src in files}
    ids: list[str] = []
    generated: list[bool] = []
    files: list[Any] = []
    lines: list[Any] = []
    spans: list[tuple[str, int, int]] = []  # (file, start, end) in the final order
    for src in order:
        summary = summaries[which[src]]
        start = len(ids)
        for k, name in enumerate(summary["files"]):
            if name == src:
                ids.append(summary["ids"][k])
                generated.append(summary["generated"][k])
                files.append(name)
                lines.append(summary["lines"][k])
        spans.append((src, start, len(ids)))
    final_ids, renamed = unique_record_ids(ids, generated, files, lines)
    warns.extend(renamed)
    failures = sorted((f for s in summaries for f in s["failures"]),
                      key=lambda f: (position.get(f.source_file, 0), f.line or 0))
    blocks = pd.concat([s["blocks"] for s in summaries], ignore_index=True)
    blocks["_order"] = blocks["source_file"].map(position)
    blocks = blocks.sort_values("_order", kind="stable").drop(columns="_order")
    blocks = blocks.reset_index(drop=True)
    with dataframe_config():
        meta = pd.concat([s["empty"] for s in summaries], ignore_index=True)
        meta["record_id"] = pd.array([], dtype="string")
        parts = [client.submit(_partition, futures[which[src]], src, final_ids[start:end],
                               start, meta, pure=False)
                 for src, start, end in spans]
        records = dd.from_delayed(parts, meta=meta, verify_meta=False)
    if strict and failures:
        raise CorpusFormatError(failures)
    return DistributedLoad(
        records, tuple(failures), tuple(warns), blocks,
        frozenset(i for i, g in zip(final_ids, generated, strict=True) if g), tuple(skipped))
