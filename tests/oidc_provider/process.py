"""Start and stop the test identity provider in a second process: a fresh RSA signing key, its
own SQLite database in a temporary directory, migrated and seeded, then served by Django's
development server on a free port of 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "tests.oidc_provider.settings"


class ProviderDidNotStart(RuntimeError):
    pass


@dataclass
class Provider:
    url: str  # e.g. http://127.0.0.1:53211
    client_id: str
    client_secret: str
    process: subprocess.Popen[bytes]
    log: Path
    people: dict[str, str] = field(default_factory=dict)  # e-mail -> password

    @property
    def discovery(self) -> str:
        return f"{self.url}/o/.well-known/openid-configuration"

    def levelset_settings(self) -> dict[str, str]:
        """What Levelset's OIDC_* settings would say for this provider."""
        return {
            "OIDC_RP_CLIENT_ID": self.client_id,
            "OIDC_RP_CLIENT_SECRET": self.client_secret,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.url}/o/authorize/",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.url}/o/token/",
            "OIDC_OP_USER_ENDPOINT": f"{self.url}/o/userinfo/",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.url}/o/.well-known/jwks.json",
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise ProviderDidNotStart(f"`django {args[0]}` failed:\n{done.stdout}\n{done.stderr}")


def start(
    workdir: Path,
    *,
    redirect_uris: list[str],
    people: dict[str, str],
    unverified: frozenset[str] = frozenset(),
) -> Provider:
    """A running provider that knows Levelset (at `redirect_uris`) and `people`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = workdir / "signing-key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "OP_DATABASE": str(workdir / "provider.sqlite3"),
        "OP_SIGNING_KEY_FILE": str(key_file),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    _manage(env, "migrate", "--no-input", "-v", "0")
    client_id, client_secret = "levelset", "levelset-client-secret-for-tests-only"
    seed = ["seed_oidc_provider", "--client-id", client_id, "--client-secret", client_secret]
    for uri in redirect_uris:
        seed += ["--redirect-uri", uri]
    for email, password in people.items():
        seed += ["--person", f"{email}:{password}" + (":unverified" if email in unverified else "")]
    _manage(env, *seed)

    port = free_port()
    log = workdir / "provider.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    provider = Provider(
        url=f"http://127.0.0.1:{port}",
        client_id=client_id,
        client_secret=client_secret,
        process=process,
        log=log,
        people=dict(people),
    )
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise ProviderDidNotStart(f"The provider exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(provider.discovery, timeout=2) as answer:
                if answer.status == 200:
                    return provider
        except OSError:
            pass
        if time.monotonic() > deadline:
            provider.stop()
            raise ProviderDidNotStart(f"The provider did not answer in time:\n{log.read_text()}")
        time.sleep(0.2)
