"""Errors at the GraphQL boundary: each carries `extensions.code`.

Raise `BadUserInput` for input the gateway refuses before any write and
`NotFoundError` for an id no provider has. Input with several problems is
checked to the end with `InputErrors`, which raises `BadUserInputs`: every
problem becomes its own error in the response (up to `MAX_INPUT_ERRORS`, then
one saying how many more there were), each with its `extensions.field`.

A provider's failure is not raised: resolvers record it with `Context.report`,
and `extensions.settle` turns it into an error with `extensions.provider`, beside
the data the other providers gave.
Anything else that escapes a resolver is masked by `extensions.settle`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Problems reported for one request's input; past this the rest are only counted.
MAX_INPUT_ERRORS = 100


class GatewayError(Exception):
    """An error whose message is safe to show and whose code tells what to do."""

    code = "GATEWAY_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class BadUserInput(GatewayError):
    """The request cannot be carried out as given; nothing was written."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None, **extensions: Any) -> None:
        if field is not None:
            extensions["field"] = field
        super().__init__(message, **extensions)


class BadUserInputs(BadUserInput):
    """Several problems with the input, each reported as an error of its own.

    Args:
        problems: what is wrong, in the order found, at most `MAX_INPUT_ERRORS`.
        omitted: how many more problems there were.
        field: the argument they were found in (`inputs`), named by the summary
            error when some were omitted.
    """

    def __init__(self, problems: Sequence[BadUserInput], *, omitted: int, field: str) -> None:
        self.problems = tuple(problems)
        self.omitted = omitted
        total = len(self.problems) + omitted
        super().__init__(f"{field}: {total} problems; nothing was written", field=field)

    def errors(self) -> list[BadUserInput]:
        """One error per problem, and one counting those left out, if any were."""
        if not self.omitted:
            return list(self.problems)
        more = BadUserInput(
            f"{self.omitted} more problems with {self.extensions['field']} are not listed "
            f"(at most {len(self.problems)} are)",
            field=self.extensions["field"],
            omitted=self.omitted,
        )
        return [*self.problems, more]


class InputErrors:
    """Every problem found while checking one request's input.

    Check all of it, `add` each problem, then `raise_any`: nothing is raised when
    the input is good, the problem itself when there is one, `BadUserInputs` when
    there are several.
    """

    def __init__(self, field: str, *, limit: int = MAX_INPUT_ERRORS) -> None:
        self.field = field
        self.limit = limit
        self.found: list[BadUserInput] = []
        self.omitted = 0

    def __bool__(self) -> bool:
        return bool(self.found)

    @property
    def count(self) -> int:
        """Problems found so far, listed or not."""
        return len(self.found) + self.omitted

    def add(self, error: BadUserInput) -> None:
        """Keep `error` (each of its problems, when it is `BadUserInputs`)."""
        problems = error.problems if isinstance(error, BadUserInputs) else (error,)
        room = max(self.limit - len(self.found), 0)
        self.found.extend(problems[:room])
        self.omitted += len(problems) - min(room, len(problems))
        if isinstance(error, BadUserInputs):
            self.omitted += error.omitted

    def refuse(self, message: str, *, field: str) -> None:
        """Keep a problem with `field`."""
        self.add(BadUserInput(message, field=field))

    def raise_any(self) -> None:
        """Raise what was found, if anything was."""
        if len(self.found) == 1 and not self.omitted:
            raise self.found[0]
        if self.found:
            raise BadUserInputs(self.found, omitted=self.omitted, field=self.field)


class NotFoundError(GatewayError):
    code = "NOT_FOUND"


class StoreError(GatewayError):
    """The identity store is needed and cannot be used."""

    code = "STORE_UNAVAILABLE"
