"""The registry of built-in families (trusted Python that uses the engine).

A spec names a family by its key here; no instructor code is ever loaded.
"""

from __future__ import annotations

from grader.exercises.families.base import Family
from grader.exercises.families.chain import ChainNumeric
from grader.exercises.families.chain_symbolic import ChainSymbolic
from grader.exercises.families.delta_rule import DeltaRule

FAMILIES: dict[str, Family] = {f.name: f for f in (DeltaRule(), ChainNumeric(), ChainSymbolic())}

__all__ = ["FAMILIES", "Family"]
