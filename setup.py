"""With TROTH_COMPILE=1, the modules listed under [tool.troth] compiled in pyproject.toml are
compiled to C extension modules by mypyc; otherwise Troth is plain Python.

The compiled build is for running Troth, not for working on it: mypyc reads the types of
Troth's dependencies, so it builds in an environment that has them, mypy and setuptools 77 or
later (the development extra has all three):

    TROTH_COMPILE=1 pip install --no-build-isolation .

Keep editable installs plain: an extension module is imported before the source file beside
it, so a compiled module would hide every later edit of its source. Everything else about the
package is declared in pyproject.toml.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from setuptools import setup

HERE = Path(__file__).parent


def compiled_modules() -> list[str]:
    with (HERE / "pyproject.toml").open("rb") as file:
        names: list[str] = tomllib.load(file)["tool"]["troth"]["compiled"]
    return [f"src/{name.replace('.', '/')}.py" for name in names]


def extensions() -> dict[str, Any]:
    if os.environ.get("TROTH_COMPILE") != "1":
        return {}
    from mypyc.build import mypycify

    return {"ext_modules": mypycify(compiled_modules(), opt_level="3")}


setup(**extensions())
