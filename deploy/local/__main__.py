"""`make run`: the whole platform on this machine, with embedded PostgreSQL and broker unless
DATABASE_URL and KAFKA_BOOTSTRAP point elsewhere. A part that dies is started again; Ctrl-C stops everything."""

import asyncio
import os
import signal
import sys
import time

from backbone.settings import SERVICE_PORTS, Settings
from deploy.local.processes import PORTS, ROOT, ServiceProcesses, service_env
from deploy.local.servers import EmbeddedBroker, EmbeddedPostgres, create_database
from deploy.local.supervisor import Supervisor, stack_parts
from deploy.migrate import prepare

DATA = ROOT / ".data"


def main() -> int:
    postgres = broker = None
    services: ServiceProcesses | None = None
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        started = time.monotonic()
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            postgres = EmbeddedPostgres(DATA / "postgres")
            database_url = asyncio.run(create_database(postgres.start(), "fundwatch"))
            print(f"PostgreSQL   embedded, data in {DATA / 'postgres'}")
        kafka = os.environ.get("KAFKA_BOOTSTRAP")
        if not kafka:
            broker = EmbeddedBroker(9092, DATA / "logs" / "broker.log")
            kafka = broker.start()
            print(f"Kafka        embedded Tansu broker at {kafka} (memory storage)")
        env = service_env(database_url=database_url, kafka_bootstrap=kafka, ports=dict(SERVICE_PORTS))
        settings = Settings(_env_file=None, DATABASE_URL=database_url, KAFKA_BOOTSTRAP=kafka)  # type: ignore[call-arg]
        asyncio.run(prepare(settings))
        services = ServiceProcesses(env=env, log_dir=DATA / "logs",
                                    replicas={"alerting": settings.alerting_processes})
        services.start_all()
        services.wait_ready()
        settings = Settings()  # what the services see for the bootstrap account
        print(f"\nFundWatch is running ({time.monotonic() - started:.1f}s):")
        for name, port in SERVICE_PORTS.items():
            print(f"  {name:<12} http://127.0.0.1:{port}")
        for name in services.replicas:
            print(f"  {name:<12} {services.url(name)}  (another process of its consumer groups)")
        print(f"  {'province':<12} http://127.0.0.1:{PORTS['province']}  (the provincial platform's simulator)")
        print(f"  {'sms':<12} http://127.0.0.1:{PORTS['sms']}  (an SMS gateway's stand-in; notifications are off "
              "until FUNDWATCH_NOTIFY_SMTP_HOST or FUNDWATCH_NOTIFY_SMS_URL is set)")
        print(f"\n  API          http://127.0.0.1:{SERVICE_PORTS['gateway']}/api/v1/openapi.json")
        print(f"  admin        {settings.admin_user} / {settings.admin_password.get_secret_value()}"
              "  (FUNDWATCH_ADMIN_USER / FUNDWATCH_ADMIN_PASSWORD)")
        print(f"  treasury key {settings.treasury_api_key.get_secret_value()}  (FUNDWATCH_TREASURY_API_KEY)")
        print(f"  province key {settings.province_api_key.get_secret_value()}  (FUNDWATCH_PROVINCE_API_KEY)")
        print(f"  logs         {DATA / 'logs'}\n\nCtrl-C stops everything.")
        supervisor = Supervisor(stack_parts(services, broker, postgres), say=_say)
        while not stop:
            supervisor.check()
            time.sleep(0.5)
        return 0
    finally:
        print("\nstopping…")
        if services:
            services.stop_all()
        if broker:
            broker.stop()
        if postgres:
            postgres.stop()
        print("stopped.")


def _say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
