"""What a harvest may reach: files only in the import folders, and public internet addresses.

A librarian types a source's path or URL in the web admin, and the server
reads it. Without limits that reads any file the server can (`/etc/passwd`,
the session key) and fetches any URL, loopback and the cloud metadata
address included (SSRF). So:

* a file path must lie inside one of the import folders (`reach.import_dirs`,
  default `<data_dir>/imports`) once symlinks and `..` are resolved; the check
  runs before anything is read, and its message quotes only the path;
* a URL must be http(s), and every address it connects to must be public,
  unless the configuration or the source allows private networks. The check
  runs when the connection is made, on the address actually dialled (so DNS
  rebinding can't slip past), and again for every redirect.

`Reach` (what one source may reach) is built by `Settings.policy_for` and
travels in `HarvestPolicy.reach`; docs/security.md says who may set what.
"""

from __future__ import annotations

import functools
import glob
import ipaddress
import os
import socket
import ssl
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpcore
import httpx

from fedsearch.config import Reach
from fedsearch.errors import FedsearchError

SCHEMES = ("http", "https")
HOW_TO_ALLOW_PRIVATE = (
    "an admin can allow it for this source (allow_private_networks) "
    "or in the configuration (reach.allow_private_networks)"
)


class ReachRefused(FedsearchError):
    """A path or address this source may not reach; the message says which and why, never what is there."""

    error_code = "partner.reach_refused"


# -- files -------------------------------------------------------------------------------------------


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _folders(reach: Reach) -> list[Path]:
    return [Path(os.path.realpath(d)) for d in reach.import_dirs]


def _refuse_path(spec: str, reach: Reach) -> ReachRefused:
    where = ", ".join(str(d) for d in reach.import_dirs) or "none is configured"
    return ReachRefused(
        f"the path {spec!r} is outside the import folders ({where}); put the file in an import "
        "folder, or ask an admin to add its folder to reach.import_dirs"
    )


def allowed_path(path: str | os.PathLike[str], reach: Reach) -> Path | None:
    """The path with symlinks and `..` resolved, if it lies inside an import folder; else None."""
    real = Path(os.path.realpath(path))
    return real if any(_inside(real, folder) for folder in _folders(reach)) else None


def resolve_files(spec: str, reach: Reach) -> list[Path] | str:
    """The files a path or glob names, each resolved and inside an import folder, sorted.

    Raises ReachRefused for a path (or a glob's folder, or a match's symlink) outside
    the import folders, before anything there is read; returns a message (str) when
    the path is allowed but names no file. Relative paths start at the first import folder.
    """
    if not reach.import_dirs:
        raise _refuse_path(spec, reach)
    expanded = os.path.expanduser(spec)
    if not os.path.isabs(expanded):
        expanded = os.path.join(reach.import_dirs[0], expanded)
    if glob.has_magic(expanded):
        fixed = Path(expanded)
        while glob.has_magic(str(fixed)):
            fixed = fixed.parent
        if allowed_path(fixed, reach) is None:
            raise _refuse_path(spec, reach)
        paths = []
        for match in sorted(glob.glob(expanded, recursive=True)):
            real = allowed_path(match, reach)
            if real is None:
                raise _refuse_path(match, reach)  # a symlink out of the folder
            if real.is_file():
                paths.append(real)
        return paths or f"no file matches {spec!r} in {reach.import_dirs[0]}"
    real = allowed_path(expanded, reach)
    if real is None:
        raise _refuse_path(spec, reach)
    if not real.is_file():
        return f"the file {spec!r} does not exist in the import folders"
    return [real]


# -- network -----------------------------------------------------------------------------------------


def public_address(ip: str) -> bool:
    """True for an address on the public internet (not loopback, private, link-local, reserved, multicast)."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_global and not addr.is_multicast


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise httpcore.ConnectError(f"cannot resolve {host}: {err.strerror or err}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def allowed_addresses(host: str, port: int, reach: Reach) -> list[str]:
    """The addresses of `host` this source may connect to; ReachRefused when there is none."""
    addresses = _resolve(host, port)
    if reach.allow_private_networks:
        return addresses
    public = [a for a in addresses if public_address(a)]
    if not public:
        shown = host if addresses == [host] else f"{host} ({', '.join(addresses)})"
        raise ReachRefused(
            f"{shown} is a loopback, link-local or private address; harvesting from private "
            f"networks is off for this source ({HOW_TO_ALLOW_PRIVATE})"
        )
    return public


def check_url(url: str | httpx.URL, reach: Reach, *, resolve: bool = True) -> None:
    """Refuse a URL that is not http(s) or (with `resolve`) whose host has no address this source may reach."""
    parsed = httpx.URL(str(url))
    if parsed.scheme not in SCHEMES:
        raise ReachRefused(f"only http and https URLs can be harvested, not {parsed.scheme or 'this'}: {url}")
    if not parsed.host:
        raise ReachRefused(f"the URL {url} names no host")
    if resolve and not reach.allow_private_networks:
        try:
            allowed_addresses(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80), reach)
        except httpcore.ConnectError:
            pass  # unresolvable: the connection attempt says so, with the usual retries


class _GuardedBackend(httpcore.SyncBackend):
    """Connects only to addresses the reach allows, checked on the address actually dialled."""

    def __init__(self, reach: Reach):
        self.reach = reach

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in allowed_addresses(host, port, self.reach):
            try:
                # TLS still verifies (and SNI names) the URL's host: httpcore passes it to start_tls.
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                last = err
        assert last is not None
        raise last


def through_proxy() -> bool:
    """True when the environment names an HTTP proxy: connections go to it, so check names before asking it."""
    return bool({"http", "https", "all"} & set(urllib.request.getproxies()))


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default TLS context, built once: loading the CA bundle costs ~0.1 s per client otherwise."""
    return httpx.create_ssl_context()


def guarded_transport(reach: Reach) -> httpx.HTTPTransport:
    """An httpx transport whose every connection passes `allowed_addresses`."""
    transport = httpx.HTTPTransport(verify=_tls_context())
    transport._pool._network_backend = _GuardedBackend(reach)  # httpx has no public hook for this
    return transport
