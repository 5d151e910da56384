"""The one I/O seam of verification: a GET that answers with a status code."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import Message
from typing import IO, Protocol
from urllib.parse import urlsplit


class Transport(Protocol):
    """Sends one GET and returns the HTTP status; raises when no answer arrives in ``timeout``."""

    def get(self, url: str, headers: Mapping[str, str], timeout: float) -> int: ...


class _RefuseRedirect(urllib.request.HTTPRedirectHandler):
    """Turns every redirect into its 3xx status: following one would carry the key elsewhere."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


class UrllibTransport:
    """``Transport`` on the standard library: TLS verified, redirects refused, body unread."""

    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(_RefuseRedirect())

    def get(self, url: str, headers: Mapping[str, str], timeout: float) -> int:
        if urlsplit(url).scheme not in ("https", "http"):
            raise ValueError("verification only speaks http(s)")
        request = urllib.request.Request(url, headers=dict(headers), method="GET")
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            error.close()
            return int(error.code)
