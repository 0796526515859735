"""Shared by the unit tests that run real servers on loopback ports.

- ``cert``: a self-signed certificate for 127.0.0.1 and localhost (the FTPS and nginx
  servers of ``sources/`` and the store transport's HTTPS tests in ``platforms/``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# -- TLS certificate -------------------------------------------------------------------


@dataclass
class Cert:
    cert_file: str  # certificate + key, as pyftpdlib and nginx take them
    ca_file: str  # the certificate alone, to trust it


@pytest.fixture(scope="session")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    """A self-signed certificate for 127.0.0.1 (IP SAN) and localhost."""
    base = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "feedsync test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (base / "server.pem").write_bytes(cert_pem + key_pem)
    (base / "ca.pem").write_bytes(cert_pem)
    return Cert(str(base / "server.pem"), str(base / "ca.pem"))
