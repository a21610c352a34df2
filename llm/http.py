"""One JSON POST over HTTP(S) with a timeout, on the standard library.

Both provider APIs are a single JSON request and a JSON answer; ``urllib`` does that
with the system's certificates and proxy settings, without a client library per
provider. Network failures become the ``llm.errors`` the client knows how to retry.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from llm import errors

#: Answers larger than this are not read (a model answer is a few hundred KB at most).
MAX_RESPONSE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    data: Any  # the decoded JSON body, or the text when it is not JSON
    is_json: bool


def _read(handle) -> bytes:
    body = handle.read(MAX_RESPONSE_BYTES + 1)
    if len(body) > MAX_RESPONSE_BYTES:
        raise errors.LLMBadResponse(_("The provider's answer is too large to be read."))
    return body


def _decode(status: int, headers, body: bytes) -> Response:
    text = body.decode("utf-8", errors="replace")
    try:
        return Response(status, {k.lower(): v for k, v in headers.items()}, json.loads(text), True)
    except ValueError:
        return Response(status, {k.lower(): v for k, v in headers.items()}, text, False)


def post_json(url: str, payload: dict, headers: dict[str, str], timeout: float) -> Response:
    """POST ``payload`` as JSON; any HTTP status is returned (errors included), network
    failures raise ``LLMTimeout`` or ``LLMUnavailable``."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json", "Accept": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as handle:
            return _decode(handle.status, handle.headers, _read(handle))
    except urllib.error.HTTPError as exc:
        with exc:
            return _decode(exc.code, exc.headers or {}, _read(exc))
    except TimeoutError as exc:
        raise _timeout(timeout) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError | socket.timeout):
            raise _timeout(timeout) from exc
        raise errors.LLMUnavailable(
            _("The language model provider cannot be reached (%(reason)s).")
            % {"reason": exc.reason}
        ) from exc
    except (ConnectionError, OSError) as exc:
        raise errors.LLMUnavailable(
            _("The language model provider cannot be reached (%(reason)s).") % {"reason": exc}
        ) from exc


def _timeout(seconds: float) -> errors.LLMTimeout:
    return errors.LLMTimeout(
        _("The language model provider did not answer within %(seconds)s s (LLM_TIMEOUT_SECONDS).")
        % {"seconds": f"{seconds:g}"}
    )
