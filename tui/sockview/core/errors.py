"""One-line messages for what can go wrong on the network.

Each names the cause precisely and, where it helps, what to try next.
"""

from __future__ import annotations

import errno
import socket
import ssl


def describe_connect_error(exc: BaseException, host: str, peer: str, timeout: float) -> str:
    """Why the TCP connection (or TLS handshake) could not be made."""
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name {host!r}: check the spelling (or the network)"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return describe_certificate_error(exc, host)
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "reason", None) or str(exc)
        if reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL"):
            return f"TLS handshake with {peer} failed: the server does not speak TLS (try http://)"
        return f"TLS handshake with {peer} failed: {reason}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {peer}: nothing is listening there (is the server running?)"
    if isinstance(exc, TimeoutError):
        return f"connecting to {peer} timed out after {timeout:g} s (--connect-timeout)"
    if isinstance(exc, ConnectionResetError):
        return f"the connection to {peer} was reset during the handshake"
    if isinstance(exc, OSError):
        if exc.errno == errno.ENETUNREACH:
            return f"network unreachable: cannot reach {peer}"
        if exc.errno == errno.EHOSTUNREACH:
            return f"no route to host {peer}"
        if exc.errno == errno.EADDRNOTAVAIL:
            return f"cannot connect to {peer}: address not available on this machine"
        return f"cannot connect to {peer}: {exc.strerror or exc}"
    return f"cannot connect to {peer}: {exc}"


def describe_certificate_error(exc: ssl.SSLCertVerificationError, host: str) -> str:
    code = getattr(exc, "verify_code", None)
    detail = getattr(exc, "verify_message", None) or str(exc)
    hint = "; --insecure skips the check"
    if code == 62 or "hostname mismatch" in detail.lower() or "IP address mismatch" in detail:
        return f"TLS certificate is not valid for {host!r} ({detail}){hint}"
    if code == 10 or "expired" in detail:
        return f"TLS certificate has expired ({detail}){hint}"
    if code in (18, 19, 20, 21) or "self-signed" in detail or "issuer" in detail:
        return f"TLS certificate is not trusted ({detail}){hint}"
    return f"TLS certificate verification failed ({detail}){hint}"


def describe_receive_error(exc: BaseException, peer: str, total: int) -> str:
    """Why the connection broke while receiving."""
    where = f"after {total} bytes" if total else "before any byte arrived"
    if isinstance(exc, ConnectionResetError):
        return f"the connection was reset by {peer} {where}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error from {peer} {where}: {getattr(exc, 'reason', None) or exc}"
    if isinstance(exc, OSError):
        return f"receive from {peer} failed {where}: {exc.strerror or exc}"
    return f"receive from {peer} failed {where}: {exc}"
