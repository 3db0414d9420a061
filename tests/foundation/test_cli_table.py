"""The lazy command table names every command each CLI module defines, and no other."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from grader.cli import COMMAND_MODULES
from grader.cli import load_command


def test_every_module_command_is_in_the_table_and_loads():
    defined = {}
    for module_name in sorted(set(COMMAND_MODULES.values())):
        module = importlib.import_module(module_name)
        for command in module.COMMANDS:
            defined[command.name] = module_name
    assert defined == COMMAND_MODULES
    for name in COMMAND_MODULES:
        assert load_command(name).name == name


def test_check_expr_starts_without_the_app_or_the_exercise_library():
    """check-expr judges through the answer kinds, without the families, NumPy or SymPy."""
    code = (
        "import sys; from grader.cli import main\n"
        "try:\n    main(['check-expr', '--expected', '2*x', '--answer', 'x+x', '--vars', 'x'])\n"
        "except SystemExit:\n    pass\n"
        "heavy = ('grader.exercises.families', 'grader.exercises.spec', 'numpy', 'sympy')\n"
        "print('LOADED', any(m in sys.modules for m in heavy), 'grader.models' in sys.modules)\n"
        "print('KINDS', 'grader.exercises.kinds' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert '"status": "correct"' in result.stdout, result.stderr
    assert "LOADED False False" in result.stdout
    assert "KINDS True" in result.stdout
