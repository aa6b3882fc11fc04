"""Hostile TLS: untrusted, self-signed, wrong-name and expired certificates (made by trustme),
and the two mix-ups of TLS and plain HTTP. Each message names the cause and the way out."""

from __future__ import annotations

import datetime
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

from sockview.cli import main
from tests.core.hostile import (
    assert_one_line,
    failed,
    fetch,
    finished,
    server_context,
    tls_script,
)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def https(serve) -> Iterator[Callable[[trustme.LeafCert], str]]:  # type: ignore[no-untyped-def]
    """Start a TLS server with the given certificate; returns its https:// URL."""

    def start(cert: trustme.LeafCert) -> str:
        server = serve(tls_script(server_context(cert)), read_request=False)
        return str(server.url("/", scheme="https"))

    yield start


def test_trusted_certificate(https, ca: trustme.CA, ca_file: str) -> None:
    running = fetch(https(ca.issue_cert("127.0.0.1")), cafile=ca_file)
    finished(running)
    connected = running.events[0]
    assert connected.tls_version is not None and connected.tls_version.startswith("TLS")  # type: ignore[union-attr]
    assert running.fetch.body.read_all() == b"hello"  # type: ignore[attr-defined]


def test_the_run_has_the_tls_phase_cipher_and_certificate(
    https, ca: trustme.CA, ca_file: str
) -> None:
    running = fetch(
        https(ca.issue_cert("127.0.0.1", organization_name="Sockview Test")), cafile=ca_file
    )
    finished(running)
    run = running.fetch.run
    phases = run.phases
    assert phases.connect_ns is not None and phases.tls_ns is not None
    assert phases.request_ns is not None
    assert phases.connect_ns <= phases.tls_ns <= phases.request_ns
    assert " · tls —" not in phases.line()
    assert run.tls_cipher  # e.g. TLS_AES_256_GCM_SHA384
    assert run.cert_subject is not None and "O=Sockview Test" in run.cert_subject
    assert run.cert_issuer is not None and "O=trustme" in run.cert_issuer


def test_insecure_has_no_certificate_names(https, ca: trustme.CA) -> None:
    """Unverified, the certificate's names are not decoded: nothing vouches for them."""
    running = fetch(https(ca.issue_cert("127.0.0.1")), insecure=True)
    finished(running)
    run = running.fetch.run
    assert run.tls_version is not None and run.tls_cipher
    assert run.cert_subject is None and run.cert_issuer is None


def test_unknown_issuer(https, ca: trustme.CA) -> None:
    result = failed(fetch(https(ca.issue_cert("127.0.0.1"))))
    assert result.reason == (
        "the TLS certificate is signed by an unknown CA, so not trusted;"
        " --cacert PEM trusts its CA, --insecure skips the check"
    )


def test_self_signed_certificate(https, ca: trustme.CA) -> None:
    """A certificate that signs itself (here the CA's own) and is trusted by nobody."""
    self_signed = trustme.LeafCert(ca.private_key_pem.bytes(), ca.cert_pem.bytes(), [])
    result = failed(fetch(https(self_signed)))
    assert result.reason == (
        "the TLS certificate is self-signed, so not trusted;"
        " --cacert PEM trusts its CA, --insecure skips the check"
    )


def test_wrong_host_name(https, ca: trustme.CA, ca_file: str) -> None:
    result = failed(fetch(https(ca.issue_cert("www.example.test")), cafile=ca_file))
    assert result.reason == (
        "the TLS certificate is for another host, not '127.0.0.1'; --insecure skips the check"
    )


def test_expired_certificate(https, ca: trustme.CA, ca_file: str) -> None:
    now = datetime.datetime.now(datetime.UTC)
    cert = ca.issue_cert(
        "127.0.0.1",
        not_before=now - datetime.timedelta(days=30),
        not_after=now - datetime.timedelta(days=1),
    )
    result = failed(fetch(https(cert), cafile=ca_file))
    assert result.reason == "the TLS certificate has expired; --insecure skips the check"


def test_insecure_accepts_what_verification_refuses(https, ca: trustme.CA) -> None:
    now = datetime.datetime.now(datetime.UTC)
    expired_wrong_name = ca.issue_cert(
        "www.example.test",
        not_before=now - datetime.timedelta(days=30),
        not_after=now - datetime.timedelta(days=1),
    )
    finished(fetch(https(expired_wrong_name), insecure=True))


def test_a_cafile_that_cannot_be_read(https, ca: trustme.CA, tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    result = failed(fetch(https(ca.issue_cert("127.0.0.1")), cafile=str(missing)))
    assert result.reason == (
        f"cannot load CA certificates from {str(missing)!r} (--cacert): No such file or directory"
    )
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello\n")
    result = failed(fetch(https(ca.issue_cert("127.0.0.1")), cafile=str(not_pem)))
    assert result.reason.startswith(f"cannot load CA certificates from {str(not_pem)!r} (--cacert)")


def test_https_to_a_plain_http_server(serve) -> None:
    """The plain server answers the ClientHello with an HTTP error, as many do."""

    def script(conn: socket.socket) -> None:
        conn.recv(4096)  # the ClientHello
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    server = serve(script, read_request=False)
    result = failed(fetch(server.url("/", scheme="https")))
    assert result.reason == (
        f"the TLS handshake with 127.0.0.1:{server.port} failed:"
        " the server does not speak TLS (try http://)"
    )


def test_https_to_a_server_that_hangs_up(serve) -> None:
    server = serve(lambda conn: conn.recv(4096), read_request=False)
    result = failed(fetch(server.url("/", scheme="https")))
    assert result.reason == (
        f"127.0.0.1:{server.port} closed the connection during the TLS handshake"
        " (if it speaks plain HTTP, try http://)"
    )


def test_http_to_a_tls_server_that_hangs_up(serve, ca: trustme.CA) -> None:
    """A TLS server that gets plain HTTP fails its handshake and closes without a word."""
    server = serve(tls_script(server_context(ca.issue_cert("127.0.0.1"))), read_request=False)
    result = failed(fetch(server.url("/")))
    # It closes with our request unread, which the kernel turns into a reset.
    assert result.reason in (
        f"127.0.0.1:{server.port} closed the connection without answering"
        " (if it expects TLS, try https://)",
        f"the connection was reset by 127.0.0.1:{server.port} before any byte arrived"
        " (if it expects TLS, try https://)",
    )


def test_http_to_a_tls_server_that_sends_an_alert(serve) -> None:
    """Others answer with a TLS alert record: fail on its first byte, not after a wait."""

    def script(conn: socket.socket) -> None:
        conn.sendall(b"\x15\x03\x03\x00\x02\x02\x46")  # alert: fatal, protocol_version
        server.stopping.wait()

    server = serve(script)
    result = failed(fetch(server.url("/"), read_timeout=60))
    assert result.reason == "the server answered with TLS, not HTTP: try https://"


def test_tls_failures_in_plain_mode(https, ca: trustme.CA, ca_file: str, capsys) -> None:
    url = https(ca.issue_cert("127.0.0.1"))
    assert main([url, "--plain"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "--insecure" in captured.err
    assert_one_line(captured.err.rstrip("\n"))
    assert main([url, "--plain", "--insecure"]) == 0
    assert main([url, "--plain", "--cacert", ca_file]) == 0
    assert "Header length" in capsys.readouterr().out
