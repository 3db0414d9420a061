"""The registry of families: each family module registers its class with a decorator.

A spec names a family by its key (the class's ``name``), and stored exercise YAML keeps
using it, so keys never change. :mod:`grader.exercises.families` imports every family
module by name (a test checks that list against the files), so nothing is discovered.
"""

from __future__ import annotations

from typing import TypeVar

from grader.exercises.families.base import Family

F = TypeVar("F", bound=type[Family])

#: family key -> the one instance the generator uses, in registration order
FAMILIES: dict[str, Family] = {}


def register_family(cls: F) -> F:
    """Class decorator: add one instance of ``cls`` to :data:`FAMILIES` under its ``name``.

    Raises:
        ValueError: the class has no ``name``, or another class already has it.
    """
    name = cls.name
    if not name:
        raise ValueError(f"{cls.__name__} has no family name")
    known = FAMILIES.get(name)
    if known is not None and type(known) is not cls:
        raise ValueError(f"family {name!r} is already {type(known).__name__}")
    FAMILIES[name] = cls()
    return cls
