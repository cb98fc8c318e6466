"""The only module that talks to :mod:`requests`.

Every outbound request goes through :func:`request`: it sets our
User-Agent and a timeout, applies ``PUSH_CREDENTIALS`` where asked, caps the
size of response bodies and maps network failures to
:class:`~django_push.exceptions.RequestError`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, cast
from urllib.parse import urlsplit
from urllib.request import getproxies

import requests
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from requests.adapters import HTTPAdapter

from . import USER_AGENT
from .conf import settings
from .exceptions import RequestError, ResponseTooLarge

logger = logging.getLogger(__name__)

Timeout = float | tuple[float, float]

_local = threading.local()


def new_session(pool_size: int = 10) -> requests.Session:
    """A :class:`requests.Session` with our User-Agent and a pool of *pool_size*."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def get_session() -> requests.Session:
    """A session reused by the current thread, so connections are pooled."""
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        session = new_session()
        _local.session = session
    return session


class Poster:
    """Sends many POSTs over one connection pool, for the hub's fan-out.

    The per-request work of a :class:`requests.Session` (merging settings,
    cookies and hooks, and looking for redirects) is skipped: each POST is
    prepared and given to the pool's transport adapter directly, with our
    User-Agent, a timeout and no redirects. Neither the environment nor
    ``~/.netrc`` is read per request; the environment's proxies are read
    once, when the poster is made. Thread-safe.
    """

    def __init__(self, pool_size: int = 10) -> None:
        self.pool_size = pool_size
        self.adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        self.proxies = {
            scheme: url for scheme, url in getproxies().items() if scheme != "no"
        }

    def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        max_bytes: int,
        timeout: Timeout | None = None,
    ) -> requests.Response:
        """POST *body* to *url* and return the response, its body read.

        Raises :class:`RequestError` and :class:`ResponseTooLarge` like
        :func:`request`; redirects are returned, never followed.
        """
        # No auth, cookies or hooks to prepare: a delivery carries none.
        prepared = requests.PreparedRequest()
        prepared.prepare_method("POST")
        prepared.prepare_url(url, None)
        prepared.prepare_headers({"User-Agent": USER_AGENT, **headers})
        prepared.prepare_body(body, None)
        try:
            response = self.adapter.send(
                prepared,
                stream=True,
                timeout=timeout if timeout is not None else settings.PUSH_TIMEOUT,
                proxies=self.proxies,
            )
        except requests.RequestException as exc:
            raise _failed("POST", url, exc) from exc
        read_capped(response, max_bytes)
        return response

    def close(self) -> None:
        self.adapter.close()


_poster_lock = threading.Lock()
_poster: Poster | None = None


def get_poster(pool_size: int) -> Poster:
    """A :class:`Poster` of *pool_size* shared by the process.

    Its connections stay open from one batch of deliveries to the next. A
    new one replaces it when the pool size or the environment's proxies
    change.
    """
    global _poster
    proxies = {scheme: url for scheme, url in getproxies().items() if scheme != "no"}
    with _poster_lock:
        poster = _poster
        if poster is None or poster.pool_size != pool_size or poster.proxies != proxies:
            poster = _poster = Poster(pool_size)
        return poster


def get_credentials(url: str) -> tuple[str, str] | None:
    """Resolve ``PUSH_CREDENTIALS`` for *url*: ``None`` or ``(user, password)``."""
    value = settings.PUSH_CREDENTIALS
    if value is None:
        return None
    func: Callable[[str], Any]
    if isinstance(value, str):
        try:
            func = import_string(value)
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"PUSH_CREDENTIALS {value!r} cannot be imported."
            ) from exc
    else:
        func = value
    credentials = func(url)
    if credentials is None:
        return None
    return cast(tuple[str, str], tuple(credentials))


def request(
    method: str,
    url: str,
    *,
    data: Mapping[str, Any] | list[tuple[str, str]] | bytes | None = None,
    params: Mapping[str, str] | list[tuple[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: Timeout | None = None,
    allow_redirects: bool = True,
    max_bytes: int | None = None,
    use_credentials: bool = False,
    session: requests.Session | None = None,
) -> requests.Response:
    """Send one request and return the response with its body read.

    Raises :class:`RequestError` on network failures and timeouts, and
    :class:`ResponseTooLarge` when *max_bytes* is set and exceeded. HTTP error
    statuses are returned, not raised: each caller decides what they mean.
    """
    session = session or get_session()
    auth = get_credentials(url) if use_credentials else None
    try:
        response = session.request(
            method,
            url,
            data=data,
            params=params,
            headers=headers,
            timeout=timeout if timeout is not None else settings.PUSH_TIMEOUT,
            allow_redirects=allow_redirects,
            auth=auth,
            stream=max_bytes is not None,
        )
    except requests.RequestException as exc:
        raise _failed(method, url, exc) from exc
    if max_bytes is not None:
        read_capped(response, max_bytes)
    return response


def _failed(method: str, url: str, exc: Exception) -> RequestError:
    # Callback URLs are capabilities (WebSub 5.1.1): log where, not the
    # query or path that may carry a token.
    logger.info(
        "request_failed method=%s host=%s error=%s",
        method,
        urlsplit(url).netloc,
        exc.__class__.__name__,
    )
    return RequestError(f"{method} {url} failed: {exc.__class__.__name__}", url)


def read_capped(response: requests.Response, max_bytes: int) -> bytes:
    """Read a streamed body, refusing more than *max_bytes*."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        response.close()
        raise ResponseTooLarge(
            f"{response.url} declared {declared} bytes, more than {max_bytes}",
            response.url,
            response,
        )
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise ResponseTooLarge(
                    f"{response.url} sent more than {max_bytes} bytes",
                    response.url,
                    response,
                )
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise RequestError(
            f"reading {response.url} failed: {exc.__class__.__name__}", response.url
        ) from exc
    finally:
        response.close()
    body = b"".join(chunks)
    response._content = body
    return body
