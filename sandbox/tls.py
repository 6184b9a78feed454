"""A self-signed TLS certificate for the sites that only speak HTTPS to their clients (the token endpoint
azure-identity asks, Microsoft Graph): made at start for 127.0.0.1/localhost, written to a temporary folder
so a client can trust it (REQUESTS_CA_BUNDLE), gone when the sandbox stops."""
from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# Valid on any day: the clients check it against the machine's clock, which tests may move far ahead (and the
# sandbox's own clock may read another day); it lives only as long as the sandbox, in a temporary folder.
VALID_FROM = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
VALID_UNTIL = dt.datetime(2099, 12, 31, tzinfo=dt.timezone.utc)


class Certificate:
    def __init__(self, host: str):
        self._dir = tempfile.TemporaryDirectory(prefix="vcs-robot-sandbox-tls-")
        self.ca_file = str(Path(self._dir.name) / "sandbox-ca.pem")
        key_file = Path(self._dir.name) / "sandbox-key.pem"
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vcs-robot sandbox")])
        names: list[x509.GeneralName] = [x509.DNSName("localhost")]
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(VALID_FROM).not_valid_after(VALID_UNTIL)
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        Path(self.ca_file).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(self.ca_file, str(key_file))

    def remove(self) -> None:
        self._dir.cleanup()
