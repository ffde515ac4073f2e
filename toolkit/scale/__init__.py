"""The toolkit's functions on a Dask cluster, for corpora past one machine.

This layer sits beside the library rooms, which stay pandas: each function here takes a
``client`` (a ``dask.distributed.Client``), a ``scheduler`` address or a number of local
``workers``, runs the rooms' own code on partitions, and returns what the one-process
function returns on the same input (the tests check this on a two-worker ``LocalCluster``).

- :func:`load_corpus_distributed`: one task per export file; records as a Dask DataFrame.
- :func:`deduplicate_distributed`: the six sorted passes of blocking as one distributed
  sample sort; candidate pairs compared where their blocks land; the groups of records
  linked by merges joined into works on the workers; the kept records, merge log, pairs
  and sources left on the cluster (:class:`DistributedDedup`), equal to
  :func:`toolkit.corpus.deduplicate`'s once computed.
- :func:`code_distributed`: :meth:`toolkit.coding.RuleCoder.transform` per partition, one
  matcher per worker built once.
- :func:`embed_distributed` and :func:`fit_topics_distributed`: embeddings per partition
  with the offline backends, written to the embedding cache; a topic model fitted on a
  sample assigns every document per partition.
- :func:`reduce_codings`, :func:`compute_code_frequencies_distributed`,
  :func:`compute_cooccurrence_distributed`: distributed codings reduced to the small tables
  agreement, triangulation and the reports read.

Dask is an optional extra (``pip install "slr-toolkit[dask]"``); nothing here imports it
until a function is called, and then a missing Dask is one
:class:`~toolkit.errors.DistributedError` saying what to install.
"""

from toolkit.scale._client import dask_client, dataframe_config, require_dask
from toolkit.scale.coding import (
    code_distributed,
    compute_code_frequencies_distributed,
    compute_cooccurrence_distributed,
    reduce_codings,
)
from toolkit.scale.dedupe import DistributedDedup, deduplicate_distributed
from toolkit.scale.load import DistributedLoad, load_corpus_distributed
from toolkit.scale.topics import embed_distributed, fit_topics_distributed

__all__ = [
    "DistributedDedup",
    "DistributedLoad",
    "code_distributed",
    "compute_code_frequencies_distributed",
    "compute_cooccurrence_distributed",
    "dask_client",
    "dataframe_config",
    "deduplicate_distributed",
    "embed_distributed",
    "fit_topics_distributed",
    "load_corpus_distributed",
    "reduce_codings",
    "require_dask",
]
