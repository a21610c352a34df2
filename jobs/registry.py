"""Which function does the work of each kind of job.

Domain apps register their handlers in their ``tasks`` module (imported by
procrastinate's autodiscovery in every process, web and worker alike)::

    @registry.handler(JobKind.MEMOIR_INDEXING)
    def index(job, progress): ...

A handler raises ``JobFailed`` for a failure that trying again would not fix (the
message is shown to the user as it is); any other exception is retried, with backoff,
up to the job's ``max_attempts``. ``on_failure`` is called once a job has failed for
good, so that the domain object can show it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class JobFailed(Exception):
    """The job cannot succeed as asked: not retried; the message is for the user."""


@dataclass(frozen=True)
class Handler:
    run: Callable[..., dict | None]
    on_failure: Callable[[Any, str], None] | None = None


_HANDLERS: dict[str, Handler] = {}


def handler(kind: str, *, on_failure: Callable[[Any, str], None] | None = None):
    def register(run: Callable[..., dict | None]):
        _HANDLERS[str(kind)] = Handler(run, on_failure)
        return run

    return register


def get(kind: str) -> Handler:
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise LookupError(f"No handler registered for jobs of kind {kind!r}.") from None
