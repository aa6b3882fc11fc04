"""One-line messages for what can go wrong on the network.

Each names the cause precisely and, where it helps, what to try next. Each stage has its
own describer (name lookup and TCP connect, TLS handshake, receive), so that the same
errno reads differently where it means something different.
"""

from __future__ import annotations

import errno
import socket
import ssl
import tempfile

_INSECURE = "--insecure skips the check"
_CACERT = "--cacert PEM trusts its CA, " + _INSECURE

# OpenSSL's X509_V_ERR_* codes (stable across versions); the texts changed in OpenSSL 3.
_NOT_YET_VALID = 9
_EXPIRED = 10
_SELF_SIGNED = 18
_SELF_SIGNED_IN_CHAIN = 19
_UNKNOWN_ISSUER = (20, 21)
_HOSTNAME_MISMATCH = 62
_IP_MISMATCH = 64

# What OpenSSL says when the bytes back are not a TLS record: plain HTTP, most often.
_NOT_TLS = (
    "WRONG_VERSION_NUMBER",
    "RECORD_LAYER_FAILURE",
    "UNKNOWN_PROTOCOL",
    "HTTP_REQUEST",
    "PACKET_LENGTH_TOO_LONG",
)


class LookupTimeout(TimeoutError):
    """The host name lookup did not finish within the connect time limit."""


def describe_connect_error(
    exc: BaseException, host: str, peer: str, timeout: float, limit: str = "--connect-timeout"
) -> str:
    """Why the name lookup or the TCP connection failed; `limit` is the option that timed out."""
    if isinstance(exc, socket.gaierror):
        return describe_lookup_error(exc, host)
    if isinstance(exc, LookupTimeout):
        return (
            f"cannot resolve the host name {host!r}: no answer within {timeout:g} s"
            f" ({limit}; is the network down?)"
        )
    if isinstance(exc, UnicodeError):
        # Python encodes the host name with IDNA before the lookup; a label of more than
        # 63 characters, for one, fails there.
        return f"the host name {host!r} is not valid: {exc}"
    if isinstance(exc, ssl.SSLError):
        return describe_handshake_error(exc, host, peer, timeout, limit)
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {peer}: nothing is listening there (is the server running?)"
    if isinstance(exc, TimeoutError):
        return f"connecting to {peer} timed out after {timeout:g} s ({limit})"
    if isinstance(exc, OSError):
        if exc.errno == errno.ENETUNREACH:
            return f"network unreachable: cannot reach {peer}"
        if exc.errno == errno.EHOSTUNREACH:
            return f"no route to host {peer}"
        if exc.errno == errno.EADDRNOTAVAIL:
            return f"cannot connect to {peer}: address not available on this machine"
        return f"cannot connect to {peer}: {exc.strerror or exc}"
    return f"cannot connect to {peer}: {exc}"


def describe_lookup_error(exc: socket.gaierror, host: str) -> str:
    """Why the host name did not resolve: no such name, or no answer at all."""
    code = exc.errno
    if code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
        return f"cannot resolve the host name {host!r}: no such name (check the spelling)"
    if code == socket.EAI_AGAIN:
        return (
            f"cannot resolve the host name {host!r}: the name server did not answer"
            " (is the network down?)"
        )
    return f"cannot resolve the host name {host!r}: {exc.strerror or exc}"


def describe_handshake_error(
    exc: BaseException, host: str, peer: str, timeout: float, limit: str = "--connect-timeout"
) -> str:
    """Why the TLS handshake failed, once the TCP connection was up."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return describe_certificate_error(exc, host)
    if isinstance(exc, TimeoutError):
        return (
            f"the TLS handshake with {peer} timed out after {timeout:g} s ({limit}):"
            " the server may not speak TLS (try http://)"
        )
    if isinstance(exc, ssl.SSLEOFError | ConnectionResetError | BrokenPipeError):
        return (
            f"{peer} closed the connection during the TLS handshake"
            " (if it speaks plain HTTP, try http://)"
        )
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "reason", None) or str(exc)
        if reason in _NOT_TLS:
            return (
                f"the TLS handshake with {peer} failed: the server does not speak TLS (try http://)"
            )
        return f"the TLS handshake with {peer} failed: {reason}"
    if isinstance(exc, OSError):
        return f"the TLS handshake with {peer} failed: {exc.strerror or exc}"
    return f"the TLS handshake with {peer} failed: {exc}"


def describe_certificate_error(exc: ssl.SSLCertVerificationError, host: str) -> str:
    """Why the certificate was refused, in words (OpenSSL's own words only when unexpected)."""
    code = getattr(exc, "verify_code", None)
    detail = getattr(exc, "verify_message", None) or str(exc)
    if code in (_HOSTNAME_MISMATCH, _IP_MISMATCH) or "mismatch" in detail.lower():
        return f"the TLS certificate is for another host, not {host!r}; {_INSECURE}"
    if code == _EXPIRED or "expired" in detail:
        return f"the TLS certificate has expired; {_INSECURE}"
    if code == _NOT_YET_VALID:
        return f"the TLS certificate is not valid yet (check the clock); {_INSECURE}"
    if code == _SELF_SIGNED:
        return f"the TLS certificate is self-signed, so not trusted; {_CACERT}"
    if code == _SELF_SIGNED_IN_CHAIN or code in _UNKNOWN_ISSUER:
        return f"the TLS certificate is signed by an unknown CA, so not trusted; {_CACERT}"
    return f"the TLS certificate was not accepted ({detail}); {_INSECURE}"


def describe_cafile_error(exc: BaseException, cafile: str | None) -> str:
    """Why the extra CA certificates could not be loaded."""
    if isinstance(exc, ssl.SSLError):
        why = getattr(exc, "reason", None) or str(exc)
    elif isinstance(exc, OSError):
        why = exc.strerror or str(exc)
    else:
        why = str(exc)
    return f"cannot load CA certificates from {cafile!r} (--cacert): {why}"


def counted(count: int, noun: str, *, grouped: bool = False) -> str:
    """`1 recv`, `2 recvs`; `grouped` writes `12,345`."""
    number = f"{count:,}" if grouped else str(count)
    return f"{number} {noun}" if count == 1 else f"{number} {noun}s"


def count_bytes(count: int, *, grouped: bool = False) -> str:
    """`1 byte`, `2 bytes`."""
    return counted(count, "byte", grouped=grouped)


def so_far(total: int) -> str:
    """Where in the stream something happened: `after 42 bytes`, `before any byte arrived`."""
    return f"after {count_bytes(total)}" if total else "before any byte arrived"


def describe_store_error(exc: OSError, kept: int, store: str) -> str:
    """Why the body could not be kept while it arrived in `store` (a folder, described)."""
    where = f"after {count_bytes(kept)}" if kept else "at its first byte"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        why = f"no space left in {store}"
    else:
        why = exc.strerror or str(exc)
    return f"cannot keep the body {where}: {why}"


def describe_log_error(exc: OSError, rows: int) -> str:
    """Why the older recv records could not be moved to their temporary file."""
    store = f"the temporary folder ({tempfile.gettempdir()})"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        why = f"no space left in {store}"
    else:
        why = exc.strerror or str(exc)
    return f"cannot keep the recv log after {counted(rows, 'recv')}: {why}"


def describe_receive_error(exc: BaseException, peer: str, total: int) -> str:
    """Why the connection broke while receiving."""
    where = so_far(total)
    if isinstance(exc, ConnectionResetError):
        return f"the connection was reset by {peer} {where}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error from {peer} {where}: {getattr(exc, 'reason', None) or exc}"
    if isinstance(exc, OSError):
        return f"receive from {peer} failed {where}: {exc.strerror or exc}"
    return f"receive from {peer} failed {where}: {exc}"


def describe_send_error(exc: BaseException, peer: str) -> str:
    """Why the request could not be sent."""
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return f"{peer} closed the connection before the request was sent"
    if isinstance(exc, OSError):
        return f"sending the request to {peer} failed: {exc.strerror or exc}"
    return f"sending the request to {peer} failed: {exc}"
