"""Real `admit serve` processes on one database, and a real nginx with TLS in front of them.

nginx runs with a prefix of its own in a temporary directory (pid, logs, temporary files there), and
its site is deploy/nginx/admit.conf with only the addresses, ports and certificate paths replaced, so
that the documented configuration is the tested one. The certificate is self-signed, made per run.

A cluster takes extra environment for every node (`env`) and any number of nodes, so that tests of
shared state (Redis, trusted proxies, caches) can start the one they need.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import DEFAULT_NOW, PG_SERVER, TEST_SECRET

ROOT = Path(__file__).resolve().parents[1]
ADMIT = Path(sys.executable).with_name("admit")
NGINX = Path(os.environ.get("ADMIT_NGINX", "/usr/sbin/nginx"))
NGINX_SITE = ROOT / "deploy" / "nginx" / "admit.conf"
START_TIMEOUT = 60  # a ceiling against a hang, not a cost: a loaded machine starts slowly
# Settings a developer may have exported; nodes get only what the test gives them.
OUR_VARIABLES = ("DATABASE_URL", "REDIS_URL")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_ready(base_url: str, *, seconds: float = 30) -> None:
    """Until a server started in a subprocess answers /readyz with 200."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base_url} did not become ready")


def require_nginx() -> None:
    """Skip without nginx on a developer's machine; in CI a missing nginx is a failure."""
    if not NGINX.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{NGINX} is missing: scripts/system-packages installs Debian's nginx-light")
        pytest.skip(f"no nginx at {NGINX} (apt-get install nginx-light, or set ADMIT_NGINX)")


@contextmanager
def fresh_postgresql() -> Iterator[str]:
    """A new, empty (unmigrated) PostgreSQL database for one cluster, dropped at the end."""
    name = f"admit_nodes_{os.getpid()}_{secrets.token_hex(4)}"
    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@dataclass
class Node:
    """One `admit serve` process."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def node_environment(database_url: str, data_dir: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """What a node is given: the shared database and key, the pinned clock, limits off, then `extra`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ADMIT_") and name not in OUR_VARIABLES
    }
    return env | {
        "DATABASE_URL": database_url,
        "ADMIT_SECRET_KEY": TEST_SECRET,
        "ADMIT_FROZEN_NOW": DEFAULT_NOW.isoformat(),
        "ADMIT_RATE_LIMIT_RESERVATIONS": "off",
        "ADMIT_RATE_LIMIT_VALIDATION": "off",
        "ADMIT_DATA_DIR": str(data_dir),
        **extra,
    }


def start_node(
    *, name: str, database_url: str, workdir: Path, env: Mapping[str, str] = {}, args: Sequence[str] = ()
) -> Node:
    """Start `admit serve` on a free port (not yet ready: see wait_until_ready)."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(ADMIT), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=workdir,
            env=node_environment(database_url, workdir / "data", env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Node(name, port, process, log)


def wait_until_ready(node: Node) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            pytest.fail(f"{node.name} exited with {node.process.returncode}:\n{node.log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{node.url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{node.name} was not ready within {START_TIMEOUT} s:\n{node.log.read_text()[-3000:]}")


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost that is its own authority; (certificate, key) files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "admit.pem", directory / "admit.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _replace(text: str, pattern: str, replacement: str, *, count: int = 1) -> str:
    """Replace a line of the example; the example changing under the test is a loud failure."""
    changed, found = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert found == count, (
        f"deploy/nginx/admit.conf: expected {count} line(s) matching {pattern!r}, found {found}"
    )
    return changed


def render_site(
    example: str, *, upstreams: Sequence[str], https_port: int, http_port: int, cert: Path, key: Path
) -> str:
    """The shipped site with this machine's addresses: the nodes, loopback ports, the test certificate."""
    servers = "".join(f"    server {address} max_fails=3 fail_timeout=10s;\n" for address in upstreams)
    site = _replace(example, r"^    server 10\.0\.0\.\d+:8000 .*\n", "", count=2)
    site = _replace(site, r"^(    keepalive \d+;)$", servers.rstrip("\n") + "\n" + r"\1")
    site = _replace(site, r"^    listen \[::\]:.*\n", "", count=2)  # loopback IPv4 only here
    site = _replace(site, r"^    listen 80;$", f"    listen 127.0.0.1:{http_port};")
    site = _replace(site, r"^    listen 443 ssl", f"    listen 127.0.0.1:{https_port} ssl")
    site = _replace(site, r"^    ssl_certificate .*;$", f"    ssl_certificate {cert};")
    return _replace(site, r"^    ssl_certificate_key .*;$", f"    ssl_certificate_key {key};")


def main_config(prefix: Path, site: Path) -> str:
    """nginx's own part, which a distribution ships: everything under the prefix, in the foreground."""
    temp = {kind: prefix / "temp" / kind for kind in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(parents=True, exist_ok=True)
    return f"""daemon off;
worker_processes 2;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} info;
events {{ worker_connections 512; }}
http {{
    access_log {prefix / "access.log"};
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {site};
}}
"""


@dataclass
class Cluster:
    """Nodes on one database behind nginx; `url` is the public HTTPS address."""

    url: str
    nodes: list[Node]
    database_url: str
    certificate: Path
    nginx_prefix: Path

    def tls(self) -> ssl.SSLContext:
        """Trusts the cluster's own certificate (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.certificate))

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=self.tls(), timeout=30, **kwargs)  # type: ignore[arg-type]


def _start_nginx(prefix: Path, site_text: str) -> subprocess.Popen[bytes]:
    site = prefix / "admit.conf"
    site.write_text(site_text)
    config = prefix / "nginx.conf"
    config.write_text(main_config(prefix, site))
    command = [str(NGINX), "-p", str(prefix), "-c", str(config), "-e", str(prefix / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, f"nginx refuses the rendered example:\n{checked.stderr}"
    with (prefix / "nginx.out").open("wb") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)


def _wait_for_proxy(cluster: Cluster, nginx: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with cluster.client() as http:
        while time.monotonic() < deadline:
            if nginx.poll() is not None:
                pytest.fail(f"nginx exited:\n{(cluster.nginx_prefix / 'error.log').read_text()[-3000:]}")
            try:
                if http.get("/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    pytest.fail(f"nginx did not answer within {START_TIMEOUT} s")


@contextmanager
def running_cluster(
    *,
    database_url: str,
    workdir: Path,
    nodes: int = 2,
    env: Mapping[str, str] = {},
    args: Sequence[str] = (),
) -> Iterator[Cluster]:
    """`nodes` servers started at once on `database_url`, behind nginx over HTTPS, stopped at the end.

    Each node's log is in `workdir`/node-N/node-N.log; nginx's in `workdir`/nginx.
    """
    require_nginx()
    https_port = free_port()
    url = f"https://127.0.0.1:{https_port}"
    prefix = workdir / "nginx"
    prefix.mkdir(parents=True)
    cert, key = self_signed_certificate(prefix)
    with ExitStack() as stack:
        started = []
        for number in range(1, nodes + 1):
            node = start_node(
                name=f"node-{number}",
                database_url=database_url,
                workdir=workdir / f"node-{number}",
                env={"ADMIT_PUBLIC_URL": url, **env},
                args=args,
            )
            stack.callback(node.stop)
            started.append(node)
        for node in started:  # started together, as a deployment does: they migrate at the same time
            wait_until_ready(node)
        site = render_site(
            NGINX_SITE.read_text(),
            upstreams=[f"127.0.0.1:{node.port}" for node in started],
            https_port=https_port,
            http_port=free_port(),
            cert=cert,
            key=key,
        )
        nginx = _start_nginx(prefix, site)
        stack.callback(_stop, nginx)
        cluster = Cluster(url, started, database_url, cert, prefix)
        _wait_for_proxy(cluster, nginx)
        yield cluster


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()  # nginx: fast shutdown
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
