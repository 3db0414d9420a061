"""``wsgi:app`` plus one test-only fault hook: grading that waits while a flag file exists.

With ``GRADER_FAULTS_DIR`` set and a file ``slow`` in it (holding seconds), each judge
call first writes ``judging-<pid>`` (the answer is stored as ``pending`` by then) and then
sleeps, so a test can kill exactly the worker that is grading. Without the file, grading
is untouched. Nothing in ``grader/`` knows about this.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from grader import create_app
from grader.services import grading

app = create_app()

_faults = os.environ.get("GRADER_FAULTS_DIR")
_real_judge = grading.judge


def _judge(variant: Any, part_id: str, raw: str) -> Any:
    if _faults:
        flag = Path(_faults) / "slow"
        if flag.exists():
            (Path(_faults) / f"judging-{os.getpid()}").write_text(raw, encoding="utf-8")
            time.sleep(float(flag.read_text(encoding="utf-8").strip() or "30"))
    return _real_judge(variant, part_id, raw)


grading.judge = _judge  # type: ignore[assignment]
