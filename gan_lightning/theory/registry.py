"""The table of theory checks: :class:`CheckResult` and the :func:`register_check` decorator.

A check is a function ``(full: bool = False, out: Path | None = None) -> CheckResult`` in a family module of
:mod:`gan_lightning.theory`. ``@register_check(key, claim)`` adds it to :data:`CHECKS`, which is kept sorted
by claim number (``1 < 2 < ... < 7a < 7b < 8 < ... < 10``) whatever the order the modules are imported in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class CheckResult:
    """One row of the theory table.

    Args:
        name: the check's name (``--only`` takes it; its figure is ``<out>/<name>.png``).
        claim: the claim, in one line.
        closed_form: the formula and its value.
        measured: what the library's code gave.
        tolerance: the allowed gap (justified in the check's docstring).
        passed: whether every assertion of the check held.
        figures: paths of the figures written.
        details: further measured lines (one per sub-case).
        values: the raw numbers, for tests.
        seconds: wall time of the check.
    """

    name: str
    claim: str
    closed_form: str
    measured: str
    tolerance: str
    passed: bool
    figures: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


#: A check: ``check(full=False, out=None)``; ``full=True`` is its ``gan-lightning theory --all`` version.
Check = Callable[..., CheckResult]


_CLAIM = re.compile(r"(\d+)([a-z]*)")


def claim_order(claim: int | str) -> tuple[int, str]:
    """The sort key of a claim number: ``7`` -> (7, ""), ``"7b"`` -> (7, "b"); anything else is an error."""
    match = _CLAIM.fullmatch(str(claim))
    if match is None:
        raise ValueError(
            f"a claim number is digits and an optional lower-case suffix (1, '7b'); got {claim!r}"
        )
    return int(match[1]), match[2]


class CheckRegistry:
    """Checks by key, ordered by claim number; :attr:`checks` and :attr:`claims` are kept in that order.

    Both are plain dicts updated in place, so a reference taken before a registration stays current.
    """

    def __init__(self) -> None:
        self.checks: dict[str, Check] = {}
        self.claims: dict[str, str] = {}  # key -> claim number, e.g. "7b"

    def register(self, key: str, claim: int | str) -> Callable[[Check], Check]:
        """The decorator of :func:`register_check` for this registry."""
        order = claim_order(claim)

        def add(check: Check) -> Check:
            if key in self.checks:
                raise ValueError(
                    f"a theory check named {key!r} is already registered (claim {self.claims[key]})"
                )
            taken = [k for k, c in self.claims.items() if claim_order(c) == order]
            if taken:
                raise ValueError(f"claim {claim} is already registered, by {taken[0]!r}")
            checks, claims = {**self.checks, key: check}, {**self.claims, key: str(claim)}
            self.checks.clear()
            self.claims.clear()
            for k in sorted(checks, key=lambda k: claim_order(claims[k])):
                self.checks[k], self.claims[k] = checks[k], claims[k]
            return check

        return add


#: The library's registry, filled when :mod:`gan_lightning.theory` imports its family modules.
REGISTRY = CheckRegistry()
#: key -> check, in claim order: the rows of ``gan-lightning theory`` and the names ``--only`` takes.
CHECKS = REGISTRY.checks


def register_check(key: str, claim: int | str) -> Callable[[Check], Check]:
    """Add the decorated check to :data:`CHECKS` under ``key``, at the place of its claim number.

    ``claim`` is the number the check's table row starts with (``1``, ``"7a"``); the table is sorted by it, so
    a new claim is one decorated function in a family module, wherever that module is imported. A key or a
    claim number registered twice raises ``ValueError``.
    """
    return REGISTRY.register(key, claim)
