"""What in this machine's numeric environment can change a floating-point result.

Recorded in ``manifest.json`` by ``slr reproduce`` so that a difference between two runs
can be traced to its cause: the BLAS library and the kernel it picked for this CPU (via
threadpoolctl), the CPU features that select NumPy's and OpenBLAS's code paths, the CPU
numba compiles for, and the environment variables that override any of these.
"""

from __future__ import annotations

import os
import platform
from typing import Any

__all__ = ["numeric_environment"]

#: CPU features that change which vector code NumPy, OpenBLAS and numba run.
_FEATURES = ("SSE42", "AVX", "F16C", "FMA3", "AVX2", "AVX512F", "AVX512_SKX", "AVX512_SPR",
             "ASIMD", "ASIMDHP", "SVE", "VSX", "VX")
#: Environment variables that override those choices.
_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
              "MKL_NUM_THREADS", "MKL_CBWR", "NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES",
              "NUMBA_NUM_THREADS", "NPY_DISABLE_CPU_FEATURES", "ATEN_CPU_CAPABILITY")


def _cpu_features() -> list[str]:
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # pragma: no cover - NumPy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as features
    return [name for name in _FEATURES if features.get(name)]


def _blas() -> list[dict[str, Any]]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - comes with scikit-learn
        return []
    keep = ("user_api", "internal_api", "version", "architecture", "threading_layer",
            "num_threads")
    return [{key: info[key] for key in keep if key in info} | {
        "library": os.path.basename(str(info.get("filepath", "")))}
        for info in threadpool_info()]


def _numba() -> dict[str, str]:
    try:
        import numba
        from llvmlite import binding
    except ImportError:  # pragma: no cover - comes with umap-learn
        return {}
    target = numba.config.CPU_NAME or binding.get_host_cpu_name()
    return {"version": numba.__version__, "target_cpu": str(target),
            "host_cpu": str(binding.get_host_cpu_name())}


def numeric_environment() -> dict[str, Any]:
    """Describe what decides floating-point results on this machine.

    Returns
    -------
    dict
        ``machine``, ``cpu_features`` (those present that select vector code paths),
        ``blas`` (one
        entry per BLAS/OpenMP library loaded, with the kernel ``architecture`` OpenBLAS
        chose), ``numba`` (the CPU it compiles for) and the overriding ``variables`` that
        are set.

    Examples
    --------
    >>> env = numeric_environment()
    >>> sorted(env)
    ['blas', 'cpu_features', 'machine', 'numba', 'variables']
    """
    return {"machine": platform.machine(), "cpu_features": _cpu_features(),
            "blas": _blas(), "numba": _numba(),
            "variables": {name: os.environ[name] for name in _VARIABLES if name in os.environ}}
