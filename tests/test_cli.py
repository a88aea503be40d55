"""The CLI is documented: every command has help with an example, and both entry points work."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from pipeline.cli import main

COMMANDS = sorted(main.commands)


def test_the_design_commands_exist():
    assert {"build", "ingest", "transcribe"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(name):
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example: wijk " + name.split()[0] in result.output


def test_python_dash_m_pipeline():
    result = subprocess.run([sys.executable, "-m", "pipeline", "--help"], capture_output=True,
                            text=True, check=True)
    assert "Wijkarchief" in result.stdout and "build" in result.stdout


def test_missing_archive_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["build", "--archive", str(tmp_path)])
    assert result.exit_code != 0
    assert "no archive.yaml here" in result.output
    assert "Traceback" not in result.output


def test_unknown_transcribe_format(tmp_path, data_dir):
    result = CliRunner().invoke(main, ["transcribe", str(data_dir / "media" / "speech.mp3"),
                                       "--format", "vtt,docx", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown format docx" in result.output
