"""The one place families import the engine from.

Families use ``grader.engine``'s public API (issue 3). Keeping the imports here means a
change of the engine's layout touches one file.
"""

from __future__ import annotations

from grader.engine.activations import ACTIVATIONS
from grader.engine.mlp import MLP

__all__ = ["ACTIVATIONS", "MLP"]
