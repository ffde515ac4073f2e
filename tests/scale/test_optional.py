"""Without the ``dask`` extra nothing changes: every module imports and none imports Dask."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter where `import dask` / `import distributed` fail as if the
# packages were not installed.
SCRIPT = r"""
import importlib, importlib.abc, json, pkgutil, sys

class NoDask(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ImportError(f"No module named {name!r} (blocked by the test)")
        return None

sys.meta_path.insert(0, NoDask())
import toolkit
failed = {}
names = []
for info in pkgutil.walk_packages(toolkit.__path__, "toolkit."):
    if info.name.endswith("__main__"):
        continue
    names.append(info.name)
    try:
        importlib.import_module(info.name)
    except Exception as err:
        failed[info.name] = repr(err)
from toolkit.errors import DistributedError
from toolkit import scale
try:
    scale.load_corpus_distributed("corpus/examples", workers=1)
    message = ""
except DistributedError as err:
    message = str(err)
print(json.dumps({"names": names, "failed": failed, "message": message,
                  "dask": sorted(m for m in sys.modules
                                 if m.split(".")[0] in ("dask", "distributed"))}))
"""


def test_every_module_imports_without_dask_and_none_imports_it() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH",
                                                                               "")}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "toolkit.scale.dedupe" in out["names"] and len(out["names"]) > 60
    assert out["failed"] == {}
    assert out["dask"] == []
    assert out["message"].startswith("load_corpus_distributed: a distributed run needs Dask")
    assert 'pip install "slr-toolkit[dask]"' in out["message"]
