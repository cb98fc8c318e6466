"""The only module that makes HTTP requests.

Every outbound request goes through :func:`request`, over :mod:`requests`,
except the hub's deliveries, which go through :class:`Poster`, over
urllib3. Both set our User-Agent and a timeout, cap the size of response
bodies and map network failures to
:class:`~django_push.exceptions.RequestError`; :func:`request` also applies
``PUSH_CREDENTIALS`` where asked.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit
from urllib.request import getproxies

import certifi
import requests
import urllib3
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


@dataclass(frozen=True)
class Answer:
    """What a callback answered to :meth:`Poster.post`."""

    status: int
    #: At most the ``max_bytes`` asked for.
    body: bytes
    #: ``False`` when the answer was longer and the rest was not read.
    complete: bool


class Poster:
    """Sends many POSTs over one urllib3 connection pool: the hub's fan-out.

    A delivery is a single POST whose answer is ignored, so it skips
    requests entirely: no session settings, cookies, hooks or redirect
    handling per request, half of the CPU time of a delivery. Every POST
    still carries our User-Agent and a timeout, never follows a redirect and
    reads at most ``max_bytes`` of the answer; certificates are checked
    against the same CA bundle as requests uses. Neither the environment
    nor ``~/.netrc`` is read per request: the environment's proxies are
    read once, when the poster is made. Thread-safe.
    """

    def __init__(self, pool_size: int = 10) -> None:
        self.pool_size = pool_size
        self.pid = os.getpid()
        self.proxies = environment_proxies()
        self._managers: dict[str, urllib3.PoolManager] = {}
        self._lock = threading.Lock()

    def _manager(self, scheme: str) -> urllib3.PoolManager:
        proxy = self.proxies.get(scheme) or self.proxies.get("all") or ""
        manager = self._managers.get(proxy)
        if manager is None:
            with self._lock:
                manager = self._managers.get(proxy)
                if manager is None:
                    options: dict[str, Any] = {
                        "maxsize": self.pool_size,
                        "ca_certs": certifi.where(),
                    }
                    manager = (
                        urllib3.ProxyManager(proxy, **options)
                        if proxy
                        else urllib3.PoolManager(**options)
                    )
                    self._managers[proxy] = manager
        return manager

    def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        max_bytes: int,
        timeout: Timeout | None = None,
    ) -> Answer:
        """POST *body* to *url*; redirects are answers, never followed.

        Raises :class:`RequestError` on network failures and timeouts.
        """
        value = timeout if timeout is not None else settings.PUSH_TIMEOUT
        connect, read = value if isinstance(value, tuple) else (value, value)
        try:
            manager = self._manager(urlsplit(url).scheme)
            response = manager.urlopen(
                "POST",
                url,
                body=body,
                headers={"User-Agent": USER_AGENT, **headers},
                redirect=False,
                retries=False,
                timeout=urllib3.Timeout(connect=connect, read=read),
                preload_content=False,
            )
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            raise _failed("POST", url, exc) from exc
        declared = response.headers.get("Content-Length", "")
        too_long = declared.isdigit() and int(declared) > max_bytes
        try:
            content = b"" if too_long else response.read(max_bytes + 1)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            response.close()
            response.release_conn()
            raise _failed("POST", url, exc) from exc
        complete = not too_long and len(content) <= max_bytes
        if not complete:
            # The rest is not read: the connection cannot be reused.
            response.close()
        response.release_conn()
        return Answer(response.status, content[:max_bytes], complete)

    def close(self) -> None:
        with self._lock:
            for manager in self._managers.values():
                manager.clear()
            self._managers.clear()


def environment_proxies() -> dict[str, str]:
    """The environment's proxies by scheme (``no_proxy`` is not applied)."""
    return {scheme: url for scheme, url in getproxies().items() if scheme != "no"}


_poster_lock = threading.Lock()
_poster: Poster | None = None


def get_poster(pool_size: int) -> Poster:
    """A :class:`Poster` of *pool_size* shared by the process.

    Its connections stay open from one batch of deliveries to the next. A
    new one replaces it when the pool size or the environment's proxies
    change, and in a forked child, which must not share the parent's
    sockets.
    """
    global _poster
    proxies = environment_proxies()
    with _poster_lock:
        poster = _poster
        if (
            poster is None
            or poster.pid != os.getpid()
            or poster.pool_size != pool_size
            or poster.proxies != proxies
        ):
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
