"""The models are plain Python: importing every module of insights.ml loads no Django."""

import pkgutil
import subprocess
import sys

import rapport.insights.ml as ml_package

CHECK = """
import importlib, pkgutil, sys
import rapport.insights.ml as ml
names = [m.name for m in pkgutil.walk_packages(ml.__path__, "rapport.insights.ml.")
         if ".tests" not in m.name]
for name in names:
    importlib.import_module(name)
loaded = sorted(m for m in sys.modules if m == "django" or m.startswith(("django.", "ninja")))
print(len(names), loaded)
"""


def test_importing_every_model_module_loads_no_django():
    expected = [m.name for m in pkgutil.walk_packages(ml_package.__path__,
                                                      "rapport.insights.ml.")
                if ".tests" not in m.name]
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                            check=True, env={"PATH": "/usr/bin:/bin"})
    assert result.stdout.strip() == f"{len(expected)} []"
    assert len(expected) >= 10
