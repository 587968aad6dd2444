"""Every command the README shows is one the program accepts, and the quick ones run as shown.

A learner copies commands from the README after its first set-up command;
each must parse with tumorsim's own parser, and those that finish in seconds
are run here (in a temporary folder, so written files go nowhere).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from sim.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _commands() -> list[str]:
    """`tumorsim ...` lines of the README's console blocks and of its set-up commands."""
    text = README.read_text(encoding="utf-8")
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("$ tumorsim "):
            found.append(line[2:].split("  #")[0].strip())
        found += [m.strip() for m in re.findall(r"\.venv/bin/(tumorsim [^&\n`]+)", line)]
    return found


COMMANDS = _commands()
QUICK = ("list", "show", "run", "compare", "export", "equilibria")


def test_the_readme_shows_commands():
    assert len(COMMANDS) >= 20
    assert any(c.startswith("tumorsim compare irf7-silenced irf7-restored ifn-dosed --plot comparison.png") for c in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_readme_command_parses(command):
    words = shlex.split(command)
    assert words[0] == "tumorsim"
    build_parser().parse_args(words[1:])


@pytest.mark.parametrize("command", [c for c in COMMANDS if shlex.split(c)[1] in QUICK and ".toml" not in c])
def test_the_quick_readme_commands_run(command, cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outcome = cli(*shlex.split(command)[1:])
    assert outcome.code == 0, (command, outcome.err)
    assert "Traceback" not in outcome.err and not re.search(r"\bnan\b", outcome.out)
