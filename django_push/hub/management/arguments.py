"""Argument types shared by the hub's management commands."""

from __future__ import annotations

from argparse import ArgumentTypeError


def not_negative(value: str) -> int:
    """An integer of zero or more."""
    number = int(value)
    if number < 0:
        raise ArgumentTypeError("must be zero or more")
    return number


def positive(value: str) -> int:
    """An integer of one or more."""
    number = int(value)
    if number < 1:
        raise ArgumentTypeError("must be one or more")
    return number
