"""Every FundWatch service as its own uvicorn process, as the local stack and the e2e tests run them."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from backbone.settings import SERVICE_PORTS
from deploy.local.servers import free_port

APPS = {
    "ledger": "services.ledger.app:app",
    "payments": "services.payments.app:app",
    "performance": "services.performance.app:app",
    "alerting": "services.alerting.app:app",
    "sync": "services.sync.app:app",
    "gateway": "gateway.app:app",
    # Not part of the platform: the provincial platform's side of the exchange (deploy/local/province.py).
    "province": "deploy.local.province:app",
    # Nor is the SMS gateway's stand-in (deploy/local/sms.py), which notifications reach when configured to.
    "sms": "deploy.local.sms:app",
}
ROOT = Path(__file__).resolve().parents[2]
# The ports of `make run`; the e2e stack picks free ones, and FUNDWATCH_PROVINCE_URL tells sync the simulator's.
PORTS = {**SERVICE_PORTS, "province": 8199, "sms": 8198}


def service_env(*, database_url: str, kafka_bootstrap: str, ports: dict[str, int], extra: dict[str, str] | None = None
                ) -> dict[str, str]:
    """The environment every service process gets."""
    env = dict(os.environ)
    # The local stack and the tests may run on the built-in development secrets.
    env.setdefault("FUNDWATCH_ENV", "development")
    env.update({"DATABASE_URL": database_url, "KAFKA_BOOTSTRAP": kafka_bootstrap, "PYTHONUNBUFFERED": "1"})
    for name, port in ports.items():
        # The gateway's own address is for the simulator, which pushes the province's messages through it.
        env[f"FUNDWATCH_{name.upper()}_URL"] = f"http://127.0.0.1:{port}"
    env.update(extra or {})
    return env


def service_of(name: str) -> str:
    """The service a process runs: `alerting-2` is a second process of alerting."""
    return name.rpartition("-")[0] if name.rpartition("-")[2].isdigit() else name


class ServiceProcesses:
    """Start, kill, restart and stop the service processes; `replicas`: processes of a service beyond its first
    (`alerting-2`, …), each on a port of its own and in its service's consumer groups."""

    def __init__(self, *, env: dict[str, str], log_dir: Path, ports: dict[str, int] | None = None,
                 replicas: dict[str, int] | None = None) -> None:
        self.env = env
        self.ports = ports or dict(PORTS)
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.replicas = [f"{service}-{n}" for service, count in (replicas or {}).items() for n in range(2, count + 1)]

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self, name: str) -> None:
        if name not in self.ports:
            self.ports[name] = free_port()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", APPS[service_of(name)], "--host", "127.0.0.1", "--port",
             str(self.ports[name]),
             # The client address is the gateway's to judge (FUNDWATCH_TRUSTED_PROXIES), not uvicorn's.
             "--no-access-log", "--no-proxy-headers", "--timeout-graceful-shutdown", "5"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def start_all(self) -> None:
        for name in [*APPS, *self.replicas]:
            self.start(name)

    def wait_ready(self, names: list[str] | None = None, timeout: float = 90) -> None:
        """Wait until every named service answers /readyz; a process that dies is reported."""
        pending = list(names or self.procs)
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as client:
            while pending:
                for name in list(pending):
                    proc = self.procs[name]
                    if proc.poll() is not None:
                        raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.log_dir / name}.log")
                    try:
                        answer = client.get(f"{self.url(name)}/readyz")
                    except httpx.HTTPError:
                        continue
                    # Whoever answers must be the service itself: a process that lost its port to another one
                    # would otherwise look ready while the other answers in its place.
                    if answer.status_code == 200 and answer.json().get("service") == service_of(name):
                        pending.remove(name)
                if pending and time.monotonic() > deadline:
                    raise TimeoutError(f"not ready after {timeout}s: {pending}; see {self.log_dir}")
                time.sleep(0.2)

    def alive(self, name: str) -> bool:
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def kill(self, name: str) -> None:
        """SIGKILL: the process gets no chance to clean up."""
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop(self, name: str, timeout: float = 15) -> None:
        """SIGTERM, and SIGKILL after `timeout`: the process leaves its consumer groups on the way out."""
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop_all(self, timeout: float = 15) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
