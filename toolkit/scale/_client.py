"""Finding Dask and a client: the one place :mod:`toolkit.scale` imports ``distributed``.

Nothing here imports Dask at module import time, so ``import toolkit.scale`` works without
the ``dask`` extra; the first call that needs Dask raises a
:class:`~toolkit.errors.DistributedError` saying how to install it.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

from toolkit.errors import DistributedError

__all__ = ["require_dask", "dask_client", "dataframe_config"]

_INSTALL = 'pip install "slr-toolkit[dask]" (or: pip install "dask[dataframe]" distributed)'


def require_dask(where: str) -> tuple[Any, Any]:
    """Return ``(dask.dataframe, distributed)``, or raise a clear error naming ``where``.

    Raises
    ------
    DistributedError
        When ``dask[dataframe]`` or ``distributed`` cannot be imported.
    """
    try:
        dd = importlib.import_module("dask.dataframe")
        distributed = importlib.import_module("distributed")
    except ImportError as err:
        raise DistributedError(
            f"{where}: a distributed run needs Dask, which is not installed ({err}); "
            f"install the optional extra: {_INSTALL}") from None
    return dd, distributed


@contextlib.contextmanager
def dataframe_config() -> Iterator[None]:
    """Keep pandas dtypes as they are (Dask would turn text columns into pyarrow strings)."""
    import dask

    with dask.config.set({"dataframe.convert-string": False}):
        yield


@contextlib.contextmanager
def dask_client(client: Any = None, *, scheduler: str | None = None,
                workers: int | None = None, where: str = "toolkit.scale") -> Iterator[Any]:
    """Yield a ``dask.distributed.Client``: the one given, one connected, or a local cluster.

    Parameters
    ----------
    client : distributed.Client, optional
        Used as it is and left open.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); the client is closed after.
    workers : int, optional
        Start a ``LocalCluster`` of this many single-threaded worker processes, closed
        after. The default, with neither ``client`` nor ``scheduler``, is one worker per
        core.

    Raises
    ------
    DistributedError
        When Dask is not installed, more than one of the three is given, ``workers`` is
        below 1, or the scheduler cannot be reached.
    """
    _, distributed = require_dask(where)
    given = [name for name, value in (("client", client), ("scheduler", scheduler),
                                      ("workers", workers)) if value is not None]
    if len(given) > 1:
        raise DistributedError(f"{where}: {' and '.join(given)} given together; pass one: a "
                               "client, a scheduler address, or a number of local workers")
    if client is not None:
        yield client
        return
    if scheduler is not None:
        try:
            own = distributed.Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as err:
            raise DistributedError(f"{where}: cannot reach the Dask scheduler at {scheduler!r} "
                                   f"({err}); start it with `dask scheduler` and its workers "
                                   "with `dask worker ADDRESS`, or use --workers N for a "
                                   "local cluster") from None
        with own:
            yield own
        return
    if workers is not None and workers < 1:
        raise DistributedError(f"{where}: workers={workers}; give 1 or more local workers")
    import os

    n = workers or os.cpu_count() or 1
    with distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as own:
        yield own
