"""partita.__version__ is the version of the installed distribution and of CMakeLists.txt.

The version is written once, in CMakeLists.txt's project(partita VERSION ...): the
wheel's metadata reads it (pyproject.toml, scikit-build-core's regex provider) and the
extension module gets it from the generated C++ header <partita/version.hpp>.
"""
import importlib.metadata
import re
from pathlib import Path

import pytest

import partita

ROOT = Path(__file__).resolve().parents[2]


def test_version_is_the_distribution_metadata_version():
    assert partita.__version__ == importlib.metadata.version("partita")


def test_version_is_the_cmake_project_version():
    text = (ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    m = re.search(r"project\(\s*partita\s+VERSION\s+([0-9]+(?:\.[0-9]+)*)", text)
    assert m is not None, "no project(partita VERSION ...) in CMakeLists.txt"
    assert partita.__version__ == m.group(1)


def test_command_line_reports_the_version(capsys):
    from partita import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"partita {partita.__version__}"
