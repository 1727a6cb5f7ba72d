"""Domain errors. Each carries the HTTP status it maps to, so the API has one handler for all.

WijkenError                     500
├── UserError                   400  bad input from a user (a parameter, a query)
│   ├── QuerySyntaxError        400  a SPARQL query or update that does not parse
│   └── ForbiddenQueryError     400  SERVICE, LOAD or anything that fetches a URL
├── UnauthorizedError           401  an update without the right bearer token
├── NotFoundError               404  an unknown id or IRI
├── PayloadTooLargeError        413  a request body over the limit
├── IngestError                 422  invalid input files (carries every problem)
├── StoreBusyError              409  the data directory is locked by another process
├── SearchIndexError            409  the search index does not fit the model or the graph
├── NotAcceptableError          406  no format the client accepts can carry the result
├── UnsupportedMediaTypeError   415  a POST body of a content type the protocol does not define
├── UpdatesDisabledError        403  a SPARQL update while no update token is configured
├── TooManyRequestsError        429  a client already runs as many queries as it may at once
├── QueryTimeoutError           503  a query ran out of time
└── ServiceBusyError            503  every SPARQL worker stayed busy
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.xmlchars import escape_xml_forbidden


class WijkenError(Exception):
    """Base of every error wijken reports to a user."""

    status: int = 500
    code: str = "internal-error"


class UserError(WijkenError):
    """Bad input from a user: a parameter, a query, a file name."""

    status = 400
    code = "bad-request"


class QuerySyntaxError(UserError):
    """A SPARQL query or update that does not parse; the message is the parser's."""

    code = "query-syntax"


class ForbiddenQueryError(UserError):
    """A query the service refuses to run: SERVICE, LOAD or anything that fetches a URL."""

    code = "query-forbidden"


class UnauthorizedError(WijkenError):
    """An operation that needs a token that was missing or wrong."""

    status = 401
    code = "unauthorized"


class NotFoundError(WijkenError):
    """An unknown id or IRI."""

    status = 404
    code = "not-found"


class PayloadTooLargeError(WijkenError):
    """A request body over the configured limit."""

    status = 413
    code = "payload-too-large"


class StoreBusyError(WijkenError):
    """The data directory is locked by another process."""

    status = 409
    code = "store-busy"


class SearchIndexError(WijkenError):
    """The search index does not fit the configured model or the current graph state."""

    status = 409
    code = "index-mismatch"


class QueryTimeoutError(WijkenError):
    """A query ran out of its time limit."""

    status = 503
    code = "query-timeout"


class ServiceBusyError(WijkenError):
    """Every SPARQL worker stayed busy for a whole time limit (or none could start)."""

    status = 503
    code = "busy"


class TooManyRequestsError(WijkenError):
    """A client that already runs its share of the SPARQL workers asks for another query."""

    status = 429
    code = "too-many-requests"


class NotAcceptableError(WijkenError):
    """No result format the client accepts fits the query form."""

    status = 406
    code = "not-acceptable"


class UnsupportedMediaTypeError(WijkenError):
    """A POST body whose content type the protocol does not define."""

    status = 415
    code = "unsupported-media-type"


class ForbiddenError(WijkenError):
    """A token that is valid in form but not the right one, or a write path that is off."""

    status = 403
    code = "forbidden"


class ConflictError(WijkenError):
    """An operation that the current state does not allow (a contribution already reviewed)."""

    status = 409
    code = "conflict"


class UpdatesDisabledError(WijkenError):
    """A SPARQL update while updates are switched off (no `update_token` configured)."""

    status = 403
    code = "updates-disabled"


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in an input file: where it is and what is wrong."""

    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        text = f"{where}: {self.field}: {self.message}" if self.field else \
            f"{where}: {self.message}"
        # A file name or a quoted value may hold control characters (a NUL, a terminal escape):
        # they are shown as \uXXXX, never written to the terminal or a log as they are.
        return escape_xml_forbidden(text)


class IngestError(WijkenError):
    """An ingest run refused because of problems in its input; nothing was written."""

    status = 422
    code = "invalid-input"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.field or ""))
        n = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} found; nothing was written:\n{lines}")
