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


@pytest.mark.whisper
def test_transcribe_labels_who_speaks_like_a_build(tmp_path, repo_dir):
    """`wijk transcribe --speakers 2` on a two-person conversation: voice spans in the VTT,
    names at each turn in the TXT and SRT, as the build's own files have them."""
    episode = repo_dir / "episodes" / "2021-09-16-kijk-in-de-kernen.mp3"
    done = subprocess.run([sys.executable, "-m", "pipeline", "transcribe", str(episode),
                           "--speakers", "2", "--format", "vtt,txt,srt", "-o", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    stem = episode.stem
    vtt = (tmp_path / f"{stem}.vtt").read_text(encoding="utf-8")
    txt = (tmp_path / f"{stem}.txt").read_text(encoding="utf-8")
    srt = (tmp_path / f"{stem}.srt").read_text(encoding="utf-8")
    for name in ("Spreker 1", "Spreker 2"):
        assert f"<v {name}>" in vtt
        assert f"] {name}: " in txt
        assert f"{name}: " in srt
