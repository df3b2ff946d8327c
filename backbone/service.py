"""The service factory: every FundWatch service is a FastAPI app wired the same way — engine,
event store, outbox relay, consumers, health probes, problem details, tracing.

Why it is long (over 300 lines): it is the one place that wiring is written, so that no service
wires itself differently. The spec and the running service (`ServiceSpec`, `Runtime`), the
lifespan that starts and stops the loops, the OpenAPI made valid for clients, and the routes
every service has (health, readiness, metrics, dead letters) all read the same spec and runtime;
the operations routes need `RuntimeDep` from here, so moving them out would make a cycle."""

import asyncio
import contextlib
import time
from datetime import timedelta
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine
from tenacity import AsyncRetrying, stop_after_delay, wait_exponential

import structlog

from backbone.access import authorize
from backbone.bus import create_producer, end_offsets, ensure_topics
from backbone.consumer import Batched, ConsumerRunner, Handler
from backbone.db import create_engine, wait_for_database
from backbone.dead_letters import DeadLetter, replay
from backbone.errors import DATABASE_RETRY_AFTER, NotFound, document_problems, install_problem_handlers
from backbone.eventstore import EventStore, InlineProjection
from backbone.idempotency import IdempotencyMiddleware
from backbone.metrics import LOOP_CRASHES, RequestMetrics, exposition
from backbone.notify import Notifier
from backbone.outbox import OutboxRelay
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.settings import Settings, get_settings
from backbone.storable_text import StorableTextMiddleware
from backbone.tables import PlumbingTables, plumbing_tables
from backbone.telemetry import configure_logging, configure_tracing, instrument_app, shutdown_tracing
from contracts.catalog import ALL_TOPICS, topic_of_event

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ConsumerSpec:
    """A consumer group of a service: the topics it reads and a handler per event type,
    built from the running service (handlers may append to its event store)."""

    name: str
    topics: tuple[str, ...]
    handlers: Callable[["Runtime"], Mapping[str, Handler | Batched]]


@dataclass
class Runtime:
    """What a running service holds: reached from routes through `RuntimeDep`."""

    name: str
    settings: Settings
    engine: AsyncEngine
    tables: PlumbingTables
    store: EventStore
    producer: AIOKafkaProducer
    notifier: Notifier
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    crashes: dict[str, float] = field(default_factory=dict)
    relay: OutboxRelay | None = None
    runners: list[ConsumerRunner] = field(default_factory=list)


@dataclass
class ServiceSpec:
    """What makes one service: its schema, routes, inline projections and consumers."""

    name: str
    title: str
    metadata: MetaData
    routers: list[APIRouter]
    inline_projections: list[InlineProjection] = field(default_factory=list)
    consumers: list[ConsumerSpec] = field(default_factory=list)
    on_startup: list[Callable[[Runtime], Awaitable[None]]] = field(default_factory=list)
    on_shutdown: list[Callable[[Runtime], Awaitable[None]]] = field(default_factory=list)
    # Background loops besides the relay and consumers (e.g. alerting's deadline scheduler), supervised alike.
    workers: dict[str, Callable[[Runtime], Awaitable[None]]] = field(default_factory=dict)
    openapi_url: str = "/api/v1/openapi.json"
    idempotency_keys: bool = True
    # Runs before every /api/v1 route: the access table's check (the gateway brings its own, which also
    # authenticates the caller).
    guard: Callable[..., Awaitable[None]] = authorize
    # Paths the app only forwards to another service, which checks their bodies (the gateway's proxy).
    forwards: Callable[[str], bool] | None = None
    tables: PlumbingTables = field(init=False)

    def __post_init__(self) -> None:
        self.tables = plumbing_tables(self.metadata)


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def _start_producer(producer: AIOKafkaProducer) -> None:
    async for attempt in AsyncRetrying(wait=wait_exponential(multiplier=0.2, max=2), stop=stop_after_delay(60),
                                       reraise=True):
        with attempt:
            await producer.start()


CRASH_GRACE_SECONDS = 30.0
PROBE_SECONDS = 1.0  # each; the kubelet gives the whole probe 3 s


def _supervise(coro_factory: Callable[[], Awaitable[None]], name: str, crashes: dict[str, float]
               ) -> asyncio.Task[None]:
    """Run a background loop; if it ever dies of a bug, log it, note when, and start it again. A CancelledError
    while nobody cancels this task (a client library's own teardown) is such a death too: let through, it
    ended a consumer for good and left its service unready."""

    async def _loop() -> None:
        while True:
            try:
                await coro_factory()
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is None or task.cancelling():
                    raise
                log.warning("background.cancelled_from_inside", task=name)
                LOOP_CRASHES.labels(name).inc()
                crashes[name] = time.monotonic()
                await asyncio.sleep(1)
            except Exception:  # noqa: BLE001 - keep the loop alive, loudly
                log.exception("background.crashed", task=name)
                LOOP_CRASHES.labels(name).inc()
                crashes[name] = time.monotonic()
                await asyncio.sleep(1)

    return asyncio.create_task(_loop(), name=name)


def create_service(spec: ServiceSpec) -> FastAPI:
    """A FastAPI app for a service spec; everything starts in the lifespan."""
    settings = get_settings()
    configure_logging(settings.log_level)
    configure_tracing(spec.name, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        insecure = settings.insecure_defaults(spec.name)
        if insecure and settings.environment != "development":
            raise RuntimeError(f"refusing to start with development secrets: set {', '.join(insecure)} "
                               "(or FUNDWATCH_ENV=development on a developer machine)")
        engine = create_engine(settings.database_url, name=f"fundwatch-{spec.name}")
        await wait_for_database(engine)
        store = EventStore(spec.tables, source=spec.name, inline_projections=list(spec.inline_projections))
        producer = create_producer(settings)
        await _start_producer(producer)
        notifier = Notifier(settings.database_url, store.notify_channel)
        notifier.start()
        runtime = Runtime(spec.name, settings, engine, spec.tables, store, producer, notifier)
        app.state.runtime = runtime
        for hook in spec.on_startup:
            await hook(runtime)
        if settings.run_background:
            relay = OutboxRelay(
                engine=engine, store=store, producer=producer, topic_of=topic_of_event, notifier=notifier,
                batch_size=settings.relay_batch_size, poll_seconds=settings.relay_poll_seconds,
                ensure_topic=lambda: ensure_topics(settings, ALL_TOPICS, seconds=5),
                end_offsets=lambda topics: end_offsets(settings, topics), check_seconds=settings.relay_check_seconds,
                retention=timedelta(hours=settings.outbox_retention_hours),
            )
            runtime.relay = relay
            runtime.tasks.append(_supervise(relay.run, f"relay:{spec.name}", runtime.crashes))
            for cs in spec.consumers:
                runner = ConsumerRunner(
                    name=cs.name, topics=cs.topics, handlers=cs.handlers(runtime), engine=engine, tables=spec.tables,
                    bootstrap=settings.kafka_bootstrap, producer=producer, max_attempts=settings.consumer_max_attempts,
                    max_records=settings.consumer_max_records, merge_partitions=settings.consumer_merge_partitions,
                    stall_seconds=settings.consumer_stall_seconds,
                )
                runtime.runners.append(runner)
                runtime.tasks.append(_supervise(runner.run, f"consumer:{cs.name}", runtime.crashes))
            for worker_name, worker in spec.workers.items():
                runtime.tasks.append(_supervise(lambda w=worker: w(runtime), worker_name, runtime.crashes))
        log.info("service.started", service=spec.name)
        try:
            yield
        finally:
            for hook in spec.on_shutdown:
                with contextlib.suppress(Exception):
                    await hook(runtime)
            for task in runtime.tasks:
                task.cancel()
            for task in runtime.tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await notifier.stop()
            with contextlib.suppress(Exception):
                await producer.stop()
            await engine.dispose()
            shutdown_tracing()
            log.info("service.stopped", service=spec.name)

    app = FastAPI(title=spec.title, version="1.0.0", lifespan=lifespan, openapi_url=spec.openapi_url,
                  docs_url=None, redoc_url=None)
    app.state.service = spec.name  # the audience of the identities forwarded to it
    install_problem_handlers(app)
    _describe_errors_as_problems(app)
    app.add_middleware(RequestMetrics, service=spec.name)
    app.add_middleware(StorableTextMiddleware, limit=settings.body_limit, json_limit=settings.max_request_bytes,
                       forwards=spec.forwards)
    if spec.idempotency_keys:
        app.add_middleware(IdempotencyMiddleware, engine_factory=lambda: app.state.runtime.engine, tables=spec.tables)
    app.include_router(_ops_router(spec))
    for router in spec.routers:
        app.include_router(router, dependencies=[Depends(spec.guard)])
    instrument_app(app)
    return app


def _describe_errors_as_problems(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = valid_for_clients(document_problems(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def valid_for_clients(doc: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.1 document a client generator takes: the definitions of a hand-documented body (`$defs`
    of a model's own schema) moved into the components its references point at, and an event stream's
    item schema (OpenAPI 3.2's `itemSchema`) kept as an extension beside a 3.1 string schema."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, schema in node.pop("$defs", {}).items():
                schemas.setdefault(name, schema)
            if "itemSchema" in node:
                node["x-itemSchema"] = node.pop("itemSchema")
                node["schema"] = {"type": "string", "description": "A stream of Server-Sent Events; the data of "
                                                                   "each is described by x-itemSchema."}
            for value in list(node.values()):
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc.get("paths", {}))
    walk(schemas)
    return doc


async def readiness(runtime: Runtime) -> dict[str, Any]:
    """What /readyz checks: the database, the broker, the background loops, the outbox and the consumers."""
    faults: list[str] = []
    checks: dict[str, Any] = {}
    try:
        async with asyncio.timeout(PROBE_SECONDS):
            async with runtime.engine.connect() as conn:
                await conn.exec_driver_sql("select 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        checks["database"] = "unreachable"
        faults.append(f"database: {type(exc).__name__}")
    try:
        async with asyncio.timeout(PROBE_SECONDS):
            await runtime.producer.client.fetch_all_metadata()
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = "unreachable"
        faults.append(f"broker: {type(exc).__name__}")
    now = time.monotonic()
    failing = [t.get_name() for t in runtime.tasks if t.done()]
    failing += [name for name, at in runtime.crashes.items() if now - at < CRASH_GRACE_SECONDS]
    if failing:
        faults.append(f"background loops failing: {', '.join(failing)}")
    if runtime.relay is not None and checks["database"] == "ok":
        pending, oldest = await runtime.relay.backlog()
        checks["outbox"] = {"pending": pending, "oldest_age_seconds": oldest}
        if oldest is not None and oldest > runtime.settings.ready_outbox_age_seconds:
            faults.append(f"outbox: the oldest event has waited {oldest:.0f}s to be published")
    checks["consumers"] = {runner.name: {f"{topic}/{partition}": behind for (topic, partition), behind
                                         in sorted(runner.lag().items())} for runner in runtime.runners}
    return {"checks": checks, "faults": faults}


def _ops_router(spec: ServiceSpec) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": spec.name}

    @router.get("/readyz", include_in_schema=False)
    async def readyz(runtime: RuntimeDep) -> JSONResponse:
        """Ready when the database and the broker answer, no background loop is failing and the outbox moves;
        the body says what was checked (consumer lag is reported, not judged: catching up is no fault)."""
        report = await readiness(runtime)
        ready = not report["faults"]
        return JSONResponse({"status": "ready" if ready else "not_ready", "service": spec.name, **report},
                            status_code=200 if ready else 503,
                            headers=None if ready else {"Retry-After": str(DATABASE_RETRY_AFTER)})

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus scrapes each pod directly; what came through the ingress (X-Forwarded-For) is not shown it."""
        if "x-forwarded-for" in request.headers:
            raise NotFound("no such page")
        body, media_type = exposition()
        return Response(body, media_type=media_type)

    @router.get("/api/v1/admin/dead-letters/" + spec.name, tags=["operations"], dependencies=[Depends(spec.guard)])
    async def dead_letters(runtime: RuntimeDep, asked: PagingDep) -> Page[DeadLetter]:
        """Events this service's consumers could not apply (operators' view), replayed ones included; newest first
        by (failed_at, id)."""
        t = runtime.tables.dead_letters
        async with runtime.engine.connect() as conn:
            rows, next_cursor = await newest_first(
                conn, select(t.c.id, t.c.consumer, t.c.topic, t.c.partition, t.c.offset, t.c.event_id, t.c.event_type,
                             t.c.error, t.c.attempts, t.c.failed_at, t.c.replayed_at, t.c.replayed_by),
                t.c.failed_at, t.c.id, asked.cursor, asked.limit, integer_key=True)
        return Page[DeadLetter](items=[DeadLetter.model_validate(dict(r._mapping)) for r in rows],
                                next_cursor=next_cursor)

    @router.post("/api/v1/admin/dead-letters/" + spec.name + "/{letter_id}/replay", tags=["operations"],
                 dependencies=[Depends(spec.guard)])
    async def replay_dead_letter(request: Request, runtime: RuntimeDep,
                                 letter_id: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> dict[str, object]:
        """Apply a dead letter's event again, once its cause is fixed; a 409 says why it failed again."""
        handlers = {cs.name: cs.handlers(runtime) for cs in spec.consumers}
        return await replay(runtime.engine, runtime.tables, letter_id, handlers,
                            actor=request.state.principal.subject)

    return router
