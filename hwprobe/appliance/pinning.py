"""Certificate pinning for the web driver (trust on first use).

``fetch_fingerprint`` reads the SHA-256 of the certificate a server presents
(without verifying anything: it only reads it); ``PinnedAdapter`` is a requests
adapter whose every HTTPS connection must present that exact certificate.
Inside ``answer_deadline(seconds)`` a connection of that adapter waits for
the status line and headers no longer than the time left: an appliance that
drips its headers one byte at a time (each byte inside the idle timeout)
is cut off, and the wait ends with urllib3's ReadTimeoutError.
"""
from __future__ import annotations

import hashlib
import socket
import ssl
import threading
import time
from contextlib import contextmanager

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.exceptions import ReadTimeoutError

from hwprobe.errors import Unreachable

def normalize_fingerprint(text: str) -> str:
    """A fingerprint as lower-case hex without separators (for comparing)."""
    return text.replace(":", "").replace(" ", "").strip().lower()


def format_fingerprint(text: str) -> str:
    """A fingerprint as technicians read it: ``AB:CD:...`` (upper case)."""
    h = normalize_fingerprint(text).upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


_SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)


def _bound(device: str) -> list[tuple[int, int, object]]:
    """Socket options that keep a connection on ``device`` whatever the
    routing table says (another port of the laptop on the same network)."""
    return [(socket.SOL_SOCKET, _SO_BINDTODEVICE, device.encode())]


def _connect(address: str, port: int, timeout: float, device: str | None) -> socket.socket:
    if device is None:
        return socket.create_connection((address, port), timeout=timeout)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        for level, name, value in _bound(device):
            sock.setsockopt(level, name, value)
        sock.settimeout(timeout)
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


def fetch_fingerprint(address: str, port: int = 443, timeout: float = 3.0,
                      device: str | None = None, server_name: str | None = None) -> str:
    """The SHA-256 fingerprint (``AB:CD:...``) of the certificate the server at
    ``address:port`` presents. Nothing is verified: this only reads it.
    ``device``: connect through that laptop port only (an IPv4 ``address``);
    ``server_name``: the host name the handshake names (SNI), as a client of
    the site names it (none: what a client connecting by address gets).

    Raises Unreachable when no TLS connection can be made."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with _connect(address, port, timeout, device) as sock:
            with context.wrap_socket(sock, server_hostname=server_name) as tls:
                der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        raise Unreachable(
            f"the appliance at {where(address, port)} did not answer HTTPS "
            f"({why(exc)}): check the cable, the address and that the appliance is powered"
        ) from None
    return format_fingerprint(hashlib.sha256(der).hexdigest())


_DEADLINE = threading.local()     # per calling thread: when the current answer must be in


@contextmanager
def answer_deadline(seconds: float):
    """Requests made inside (on this thread) get their status line and
    headers within ``seconds`` of entering, whatever the idle timeout."""
    _DEADLINE.at = time.monotonic() + seconds
    try:
        yield
    finally:
        _DEADLINE.at = None


class _DeadlineConnection(HTTPSConnection):
    """An HTTPS connection whose wait for the answer's head ends at the
    thread's ``answer_deadline``: a watchdog shuts the socket down then (a
    blocked read cannot be given a shorter timeout from outside)."""

    def getresponse(self, *args, **kwargs):
        at = getattr(_DEADLINE, "at", None)
        if at is None:
            return super().getresponse(*args, **kwargs)
        fired = threading.Event()

        def cut() -> None:
            fired.set()
            try:
                if self.sock is not None:
                    self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        watchdog = threading.Timer(max(0.0, at - time.monotonic()), cut)
        watchdog.daemon = True
        watchdog.start()
        try:
            return super().getresponse(*args, **kwargs)
        except Exception as exc:
            if fired.is_set():
                raise ReadTimeoutError(None, None, "the answer's head took too long") from exc
            raise
        finally:
            watchdog.cancel()


def read_bounded(resp: requests.Response, *, limit: int, seconds: float, what: str) -> None:
    """Read a ``stream=True`` answer into ``resp`` (``resp.content`` then
    works), at most ``limit`` bytes and for at most ``seconds`` from now.
    Raises Unreachable naming ``what``: too large, too slow, cut short or
    not valid in its encoding. The response is closed either way."""
    import urllib3

    chunks, size, until = [], 0, time.monotonic() + seconds
    try:
        while True:
            chunk = resp.raw.read1(65536, decode_content=True)
            if not chunk and (resp.raw.closed or resp.raw.isclosed()):
                break
            size += len(chunk)
            if size > limit:
                raise Unreachable(f"the answer on {what} is larger than {limit // 1024} KB; "
                                  f"it was not read further")
            if time.monotonic() > until:
                raise Unreachable(f"the answer on {what} took longer than {seconds:.0f} s; "
                                  f"it was not read further")
            chunks.append(chunk)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise Unreachable(f"the answer on {what} was cut short or is not valid "
                          f"({why(exc)})") from None
    finally:
        resp.close()
    resp._content = b"".join(chunks)


class _DeadlinePool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineConnection


class PinnedAdapter(HTTPAdapter):
    """An HTTPS adapter whose every connection must present the certificate
    with this SHA-256 fingerprint (urllib3 checks it during the handshake).
    CA verification is replaced by the pin, not switched off: urllib3 counts
    a pinned connection as verified, so no InsecureRequestWarning."""

    def __init__(self, fingerprint: str, device: str | None = None, **kwargs):
        self.fingerprint = normalize_fingerprint(fingerprint)
        self.device = device
        kwargs.setdefault("max_retries", 0)
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        if self.device is not None:     # every connection through that laptop port only
            from urllib3.connection import HTTPConnection

            kwargs["socket_options"] = [*HTTPConnection.default_socket_options,
                                        *_bound(self.device)]
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            **self.poolmanager.pool_classes_by_scheme, "https": _DeadlinePool}

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        pool_kwargs.pop("ca_certs", None)
        pool_kwargs.pop("ca_cert_dir", None)
        pool_kwargs["cert_reqs"] = "CERT_NONE"
        pool_kwargs["assert_fingerprint"] = self.fingerprint
        return host_params, pool_kwargs

    def cert_verify(self, conn, url, verify, cert):
        super().cert_verify(conn, url, False, cert)
        conn.assert_fingerprint = self.fingerprint


class _OwnRedirects(requests.Session):
    """A session that never looks behind a redirect itself. Even with
    ``allow_redirects=False`` requests reads a redirect's whole body (to
    prepare ``Response.next``): a 302 with an endless body would grow
    bringup without end. Its callers follow redirects themselves."""

    def get_redirect_target(self, resp):
        return None


def pinned_session(fingerprint: str, device: str | None = None) -> requests.Session:
    """A requests session whose every HTTPS connection must present the
    certificate with this fingerprint, never going through a proxy from the
    environment, and never following (or reading) a redirect by itself;
    with ``device``, every connection goes through that laptop port only."""
    session = _OwnRedirects()
    session.trust_env = False
    session.headers["User-Agent"] = "bringup"
    session.mount("https://", PinnedAdapter(fingerprint, device))
    return session


def journal_pins():
    """(get, set) of the pin store (``hwprobe.appliance.pins``)."""
    from hwprobe.appliance import pins
    return pins.pinned_fingerprint, pins.pin_fingerprint


def where(address: str, port: int) -> str:
    return address if port == 443 else f"{address}:{port}"


def why(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    low = text.lower()
    if isinstance(exc, requests.exceptions.ConnectTimeout) or "connecttimeout" in low:
        return "no answer to the connection"
    if isinstance(exc, (requests.exceptions.ReadTimeout, socket.timeout)) or "timed out" in low:
        return "it stopped answering"
    if "refused" in low:
        return "connection refused"
    if "reset" in low or "remotedisconnected" in low or "aborted" in low or "closed" in low:
        return "the connection was dropped"
    if "no route" in low or "unreachable" in low:
        return "no route to it"
    return type(exc).__name__
