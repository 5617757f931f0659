"""A stand-in for every other web site, so that the browser tests never touch the network.

Chromium is launched with `--host-resolver-rules=MAP * 127.0.0.1:<port>, EXCLUDE 127.0.0.1`:
every host name (google.com, stanford.edu, ...) resolves to this one local server,
which answers any GET with a small stub page, over plain HTTP or over TLS (a
self-signed certificate made at start; the browser context ignores HTTPS errors).
The address bar still shows the real URL, so a test can assert where the app sent
the browser.

Why not Playwright's `route()`: it does not route the target of a redirect (the
redirect is continued as part of the original, unrouted request; compare
microsoft/playwright#39480), so a 302 to https://google.com/ would really go out.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

STUB_PAGE = (b"<!DOCTYPE html><html><head><title>Stub site</title></head>"
             b"<body><h1>External site (stub)</h1></body></html>")
_TLS_HANDSHAKE = b"\x16"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "outside.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=7))
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "outside-cert.pem", folder / "outside-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class _StubHandler(BaseHTTPRequestHandler):
    server: OutsideServer

    def do_GET(self) -> None:
        scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
        # Pages only: a favicon asks for image/*; Sec-Fetch-Dest is not sent over plain http.
        if "text/html" in self.headers.get("Accept", ""):
            self.server.pages.append(f"{scheme}://{self.headers.get('Host', '')}{self.path}")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(STUB_PAGE)))
        self.end_headers()
        self.wfile.write(STUB_PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        return None


class OutsideServer(ThreadingHTTPServer):
    """One port for all other sites: TLS when the client starts a TLS handshake, else plain HTTP."""

    daemon_threads = True

    def __init__(self, tls_folder: Path) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        cert_file, key_file = _self_signed(tls_folder)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(cert_file, key_file)
        self.pages: list[str] = []  # documents the browser opened, as "scheme://host/path"
        self._thread = threading.Thread(target=self.serve_forever, name="outside-stub", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def resolver_rules(self) -> str:
        return f"MAP * 127.0.0.1:{self.port}, EXCLUDE 127.0.0.1"

    def start(self) -> OutsideServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            if request.recv(1, socket.MSG_PEEK) == _TLS_HANDSHAKE:
                request = self.tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):  # e.g. a handshake the stub cannot complete
            return
        try:
            super().finish_request(request, client_address)
        finally:
            if isinstance(request, ssl.SSLSocket):
                request.close()
