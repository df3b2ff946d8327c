"""The one settings object of FundWatch, read from the environment (and `.env`).

Over 300 lines on purpose: every setting of every service is declared here once, with its environment name,
default and description, and checked at start-up; split by service it would be several settings objects."""

import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, IPvAnyNetwork, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SERVICE_PORTS = {
    "gateway": 8000,
    "ledger": 8101,
    "payments": 8102,
    "performance": 8103,
    "alerting": 8104,
    "sync": 8105,
}


class Settings(BaseSettings):
    """Environment of a FundWatch process; every service reads the same names."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/fundwatch",
        validation_alias="DATABASE_URL",
        description="PostgreSQL URL; each service keeps its tables in its own schema.",
    )
    kafka_bootstrap: str = Field("127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP")
    topic_partitions: int = Field(4, validation_alias="FUNDWATCH_TOPIC_PARTITIONS")
    topic_replication: int = Field(1, validation_alias="FUNDWATCH_TOPIC_REPLICATION")

    admin_user: str = Field("admin", validation_alias="FUNDWATCH_ADMIN_USER")
    admin_password: SecretStr = Field(
        SecretStr("FundWatch#2026"), validation_alias="FUNDWATCH_ADMIN_PASSWORD"
    )
    treasury_api_key: SecretStr = Field(
        SecretStr("fw-treasury-dev-key"), validation_alias="FUNDWATCH_TREASURY_API_KEY"
    )
    province_api_key: SecretStr = Field(
        SecretStr("fw-province-dev-key"), validation_alias="FUNDWATCH_PROVINCE_API_KEY",
        description="API key the provincial platform answers permission applications with: set by the deployment, "
                    "so that no administrator of this platform issued the key that answers for the province.")
    jwt_secret: SecretStr = Field(
        SecretStr("dev-only-jwt-secret-change-me-in-production"),
        validation_alias="FUNDWATCH_JWT_SECRET",
    )
    identity_private_key: SecretStr = Field(
        SecretStr("krR8q45djA1pwm+PmBif4r7J3EeDRf+R0IJ7MFzPTgE="),
        validation_alias="FUNDWATCH_IDENTITY_PRIVATE_KEY",
        description="The gateway's Ed25519 key (base64, 32 bytes) that signs the identity it forwards to the "
                    "services; only the gateway holds it (`python -m backbone.identity` makes a pair).")
    identity_public_key: str = Field(
        "/w+8TnByWLrKih6PnZpRSFAkdi7V4HJNcoms2uEQfV4=",
        validation_alias="FUNDWATCH_IDENTITY_PUBLIC_KEY",
        description="The public half of FUNDWATCH_IDENTITY_PRIVATE_KEY (base64): the services check the forwarded "
                    "identity with it.")
    record_digest_key: SecretStr = Field(
        SecretStr("dev-only-record-digest-key-change-me"),
        validation_alias="FUNDWATCH_RECORD_DIGEST_KEY",
        description="Keys the digests of submitted records (they may contain personal data).",
    )
    pii_keys: SecretStr = Field(
        SecretStr("k1:ZGV2LW9ubHktcGlpLWtleS0zMi1ieXRlcy1sb25nISE="), validation_alias="FUNDWATCH_PII_KEYS",
        description="Keys that encrypt ID numbers at rest: `k1:<base64 32 bytes>,k2:…`; all decrypt.")
    pii_current_key: str | None = Field(None, validation_alias="FUNDWATCH_PII_CURRENT_KEY",
                                        description="The key id that encrypts new data (default: the last).")
    blind_index_key: SecretStr = Field(
        SecretStr("dev-only-blind-index-key-change-me"), validation_alias="FUNDWATCH_BLIND_INDEX_KEY",
        description="Keys the blind index of ID numbers; changing it needs a re-index.")
    environment: str = Field(
        "production", validation_alias="FUNDWATCH_ENV",
        description="`development` allows the built-in development secrets; anything else refuses them.",
    )
    token_ttl_seconds: int = Field(3600, validation_alias="FUNDWATCH_TOKEN_TTL_SECONDS",
                                   description="Longest life of a person's access token, however busy.")
    session_idle_seconds: int = Field(1800, validation_alias="FUNDWATCH_SESSION_IDLE_SECONDS",
                                      description="A session unused this long ends (等级保护: idle timeout).")
    lockout_attempts: int = Field(5, validation_alias="FUNDWATCH_LOCKOUT_ATTEMPTS",
                                  description="Wrong passwords in a row that lock an account.")
    lockout_seconds: int = Field(900, validation_alias="FUNDWATCH_LOCKOUT_SECONDS")
    password_max_age_days: int = Field(90, validation_alias="FUNDWATCH_PASSWORD_MAX_AGE_DAYS",
                                       description="A password older than this must be changed at the next "
                                                   "sign-in (the bootstrap administrator's comes from the "
                                                   "environment and is exempt).")
    second_factor_roles: list[str] = Field(
        default_factory=lambda: ["admin"], validation_alias="FUNDWATCH_SECOND_FACTOR_ROLES",
        description="Roles whose people must sign in with a second factor (TOTP) too (JSON list); until they "
                    "have one, a session allows nothing but enrolling it. FUNDWATCH_ENV=development waives it.")
    rate_limit_sign_in: str = Field("30/minute", validation_alias="FUNDWATCH_RATE_LIMIT_SIGN_IN",
                                    description=("Sign-in attempts one client address may make, and as many requests "
                                                 "with an API key or token that does not hold."))
    rate_limit_sign_in_address: str = Field(
        "600/minute", validation_alias="FUNDWATCH_RATE_LIMIT_SIGN_IN_ADDRESS",
        description="Sign-in attempts from one client address, whatever the names: a ceiling against floods of "
                    "names. FUNDWATCH_RATE_LIMIT_SIGN_IN counts per address and name, so that a shared address "
                    "(an office's NAT, an ingress without trusted proxies) does not lock everyone out.")
    behind_proxy: bool = Field(
        False, validation_alias="FUNDWATCH_BEHIND_PROXY",
        description="The gateway is reached through a reverse proxy or ingress: FUNDWATCH_TRUSTED_PROXIES must "
                    "then name it (outside development), or every caller would have the proxy's address.")
    rate_limit_person: str = Field("600/minute", validation_alias="FUNDWATCH_RATE_LIMIT_PERSON",
                                   description="Requests a person may make at the gateway (`limits` notation).")
    rate_limit_machine: str = Field("6000/minute", validation_alias="FUNDWATCH_RATE_LIMIT_MACHINE",
                                    description="Requests a machine key may make, unless the key sets its own.")
    cors_origins: list[str] = Field(
        default_factory=list, validation_alias="FUNDWATCH_CORS_ORIGINS",
        description="Web origins other than the gateway's own that browsers may call it from (JSON list); "
                    "none by default.")
    console_dir: Path = Field(Path("web/dist"), validation_alias="FUNDWATCH_CONSOLE_DIR",
                              description="The built web console (`vite build` of web/) the gateway serves at `/`.")
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list, validation_alias="FUNDWATCH_TRUSTED_PROXIES",
        description="Reverse proxies in front of the gateway (addresses or CIDR networks, comma-separated): only "
                    "from them is X-Forwarded-For believed for the client address of the audit trail.")

    ledger_url: str = Field("http://127.0.0.1:8101", validation_alias="FUNDWATCH_LEDGER_URL")
    payments_url: str = Field("http://127.0.0.1:8102", validation_alias="FUNDWATCH_PAYMENTS_URL")
    performance_url: str = Field(
        "http://127.0.0.1:8103", validation_alias="FUNDWATCH_PERFORMANCE_URL"
    )
    alerting_url: str = Field("http://127.0.0.1:8104", validation_alias="FUNDWATCH_ALERTING_URL")
    sync_url: str = Field("http://127.0.0.1:8105", validation_alias="FUNDWATCH_SYNC_URL")

    document_dir: Path = Field(Path(".data/documents"), validation_alias="FUNDWATCH_DOCUMENT_DIR",
                               description="Where scanned documents are stored, by their SHA-256.")
    max_document_bytes: int = Field(20 * 1024 * 1024, validation_alias="FUNDWATCH_MAX_DOCUMENT_BYTES")
    document_s3_bucket: str | None = Field(
        None, validation_alias="FUNDWATCH_DOCUMENT_S3_BUCKET",
        description="Keep scanned documents in this S3-compatible bucket instead of FUNDWATCH_DOCUMENT_DIR.")
    document_s3_endpoint: str | None = Field(None, validation_alias="FUNDWATCH_DOCUMENT_S3_ENDPOINT",
                                             description="e.g. https://oss-cn-beijing.aliyuncs.com; unset for AWS.")
    document_s3_region: str = Field("us-east-1", validation_alias="FUNDWATCH_DOCUMENT_S3_REGION")
    document_s3_prefix: str = Field("documents", validation_alias="FUNDWATCH_DOCUMENT_S3_PREFIX")
    document_s3_access_key: SecretStr | None = Field(None, validation_alias="FUNDWATCH_DOCUMENT_S3_ACCESS_KEY")
    document_s3_secret_key: SecretStr | None = Field(None, validation_alias="FUNDWATCH_DOCUMENT_S3_SECRET_KEY")
    max_import_bytes: int = Field(
        256 * 1024 * 1024, validation_alias="FUNDWATCH_MAX_IMPORT_BYTES",
        description="The largest import file (a registry of 2,000,000 rows is about 170 MB of CSV).")
    max_request_bytes: int = Field(
        16 * 1024 * 1024, validation_alias="FUNDWATCH_MAX_REQUEST_BYTES",
        description="The largest request body the gateway accepts, uploads aside (a batch of 10,000 payments "
                    "is about 6 MB).")
    export_download_hours: int = Field(
        24, ge=1, validation_alias="FUNDWATCH_EXPORT_DOWNLOAD_HOURS",
        description="How long after the poverty office's co-signature the requester may download an export (once).")
    max_streams_per_person: int = Field(
        5, ge=1, validation_alias="FUNDWATCH_MAX_STREAMS_PER_PERSON",
        description="Alert streams one person (or machine) may hold open at once, per process.")
    max_streams: int = Field(
        100, ge=1, validation_alias="FUNDWATCH_MAX_STREAMS",
        description="Alert streams a process keeps open at once; the gateway streams on a client of its own.")
    parse_memory_mb: int = Field(
        2048, ge=256, validation_alias="FUNDWATCH_PARSE_MEMORY_MB",
        description="Memory a worker process reading an uploaded file may take; beyond it the file is a 422.")
    parse_seconds: float = Field(
        600.0, gt=0, validation_alias="FUNDWATCH_PARSE_SECONDS",
        description="Time reading an uploaded indicator file may take in its worker; beyond it the file is a 422.")
    max_batch_records: int = Field(10_000, validation_alias="FUNDWATCH_MAX_BATCH_RECORDS")
    idempotency_hours: float = Field(
        24.0, gt=0, validation_alias="FUNDWATCH_IDEMPOTENCY_HOURS",
        description="How long the answer to a request with an Idempotency-Key is kept for its retries.")
    relay_batch_size: int = Field(1000, validation_alias="FUNDWATCH_RELAY_BATCH_SIZE")
    relay_poll_seconds: float = Field(0.5, validation_alias="FUNDWATCH_RELAY_POLL_SECONDS")
    relay_check_seconds: float = Field(
        10.0, gt=0, validation_alias="FUNDWATCH_RELAY_CHECK_SECONDS",
        description="How often the relay asks the broker whether it still has what it was given.")
    ready_outbox_age_seconds: float = Field(
        120.0, gt=0, validation_alias="FUNDWATCH_READY_OUTBOX_AGE_SECONDS",
        description="A service whose oldest unpublished event is older than this is not ready (/readyz 503).")
    outbox_retention_hours: float = Field(
        168.0, gt=0, validation_alias="FUNDWATCH_OUTBOX_RETENTION_HOURS",
        description="How long published events stay in the outbox to be published again if the broker forgets "
                    "them; keep it at least as long as the topics' retention on Apache Kafka.")
    consumer_max_attempts: int = Field(3, validation_alias="FUNDWATCH_CONSUMER_MAX_ATTEMPTS")
    consumer_max_records: int = Field(
        2_000, ge=1, le=20_000, validation_alias="FUNDWATCH_CONSUMER_MAX_RECORDS",
        description="Records a consumer fetches at once, across the partitions it holds (2,000: measured on a quiet "
                    "2-core machine, alerting paced at 1,000 payments/s answered p99 299 ms against 648 ms at 500).")
    consumer_merge_partitions: bool = Field(
        False, validation_alias="FUNDWATCH_CONSUMER_MERGE_PARTITIONS",
        description="Apply a fetch's partitions in one transaction, each partition's records in their order, instead "
                    "of one transaction per partition side by side: longer runs for batched handlers, fewer commits.")
    consumer_stall_seconds: float = Field(
        30.0, gt=0, validation_alias="FUNDWATCH_CONSUMER_STALL_SECONDS",
        description="A consumer that fetched nothing this long while its partitions have records past its position "
                    "starts over (seen after a broker restart).")
    alerting_processes: int = Field(
        1, ge=1, le=4, validation_alias="FUNDWATCH_ALERTING_PROCESSES",
        description="Processes `make run` starts for alerting, one consumer group across them (the topics have "
                    "4 partitions); the deadline scheduler runs in one at a time.")
    scheduler_seconds: float = Field(5.0, validation_alias="FUNDWATCH_SCHEDULER_SECONDS",
                                     description="How often alerting looks for bells to ring and deadlines run out, "
                                                 "and sync for a day to roll up.")
    province_url: str = Field(
        "http://127.0.0.1:8199", validation_alias="FUNDWATCH_PROVINCE_URL",
        description="The provincial platform's exchange (数据交换); locally, its simulator.")
    exchange_signing_key: SecretStr = Field(
        SecretStr("zJxltskGiaPs1nAxnYc0AU0omxZc68iQNP75C+A7PEI="), validation_alias="FUNDWATCH_EXCHANGE_SIGNING_KEY",
        description="The city's Ed25519 key (base64, 32 bytes) that signs every message to the province; only sync "
                    "holds it (`python -m backbone.identity` makes a pair).")
    exchange_key_id: str = Field(
        "changchun-dev-1", validation_alias="FUNDWATCH_EXCHANGE_KEY_ID",
        description="The name the province knows FUNDWATCH_EXCHANGE_SIGNING_KEY's public half by; a new name with "
                    "each new key.")
    exchange_public_key: str = Field(
        "vG81jhmSz4+ydW/FH8+t2TiZ5cAjgIFQFeJu2bQHkBE=", validation_alias="FUNDWATCH_EXCHANGE_PUBLIC_KEY",
        description="The public half of FUNDWATCH_EXCHANGE_SIGNING_KEY (base64), as registered with the province: the "
                    "provincial platform simulator checks signatures with it.")
    province_public_key: str = Field(
        "ms8nr56YyVsd6dmoSYrON4pgGOe8ZZeT+TlJ2mv2HxE=", validation_alias="FUNDWATCH_PROVINCE_PUBLIC_KEY",
        description="The provincial platform's Ed25519 public key (base64), as it registered it with the city: sync "
                    "takes an inbound message only under its signature.")
    province_key_id: str = Field(
        "jilin-province-dev-1", validation_alias="FUNDWATCH_PROVINCE_KEY_ID",
        description="The name the province signs its messages under (FUNDWATCH_PROVINCE_PUBLIC_KEY's).")
    province_signing_key: SecretStr = Field(
        SecretStr("dH0B7LaO1QzrS8dJARPskiXvqkEkjTvoxxUMziJ3qa4="), validation_alias="FUNDWATCH_PROVINCE_SIGNING_KEY",
        description="The private half of FUNDWATCH_PROVINCE_PUBLIC_KEY: only the provincial platform simulator holds "
                    "it (the real province keeps its own); no service of the platform reads it.")
    exchange_poll_seconds: float = Field(
        1.0, gt=0, validation_alias="FUNDWATCH_EXCHANGE_POLL_SECONDS",
        description="How often sync looks for messages due to be sent to the province.")
    exchange_retry_seconds: float = Field(
        2.0, gt=0, validation_alias="FUNDWATCH_EXCHANGE_RETRY_SECONDS",
        description="The first wait before a message the province did not answer is sent again; it doubles with "
                    "each attempt up to FUNDWATCH_EXCHANGE_RETRY_MAX_SECONDS.")
    exchange_retry_max_seconds: float = Field(
        600.0, gt=0, validation_alias="FUNDWATCH_EXCHANGE_RETRY_MAX_SECONDS")
    exchange_max_attempts: int = Field(
        30, ge=1, validation_alias="FUNDWATCH_EXCHANGE_MAX_ATTEMPTS",
        description="Attempts before an unanswered message goes to the information center's queue as failed.")
    exchange_timeout_seconds: float = Field(
        10.0, gt=0, validation_alias="FUNDWATCH_EXCHANGE_TIMEOUT_SECONDS",
        description="How long one delivery waits for the province's receipt.")
    # Notifications (第二十一条): each channel is on only when configured, so `make run` sends nothing by default.
    notify_smtp_host: str | None = Field(
        None, validation_alias="FUNDWATCH_NOTIFY_SMTP_HOST",
        description="The SMTP server notifications are e-mailed through; unset: no e-mail.")
    notify_smtp_port: int = Field(25, ge=1, le=65535, validation_alias="FUNDWATCH_NOTIFY_SMTP_PORT")
    notify_smtp_starttls: bool = Field(False, validation_alias="FUNDWATCH_NOTIFY_SMTP_STARTTLS")
    notify_smtp_user: str | None = Field(None, validation_alias="FUNDWATCH_NOTIFY_SMTP_USER")
    notify_smtp_password: SecretStr | None = Field(None, validation_alias="FUNDWATCH_NOTIFY_SMTP_PASSWORD")
    notify_mail_from: str = Field("fundwatch@localhost", validation_alias="FUNDWATCH_NOTIFY_MAIL_FROM",
                                  description="The sender of notification e-mails.")
    notify_sms_url: str | None = Field(
        None, validation_alias="FUNDWATCH_NOTIFY_SMS_URL",
        description="The SMS gateway's send endpoint (POST {to, text}); unset: no SMS.")
    notify_sms_key: SecretStr | None = Field(None, validation_alias="FUNDWATCH_NOTIFY_SMS_KEY",
                                             description="Sent to the SMS gateway as X-Api-Key, when set.")
    notify_poll_seconds: float = Field(5.0, gt=0, validation_alias="FUNDWATCH_NOTIFY_POLL_SECONDS",
                                       description="How often alerting looks for notifications and digests due.")
    notify_retry_seconds: float = Field(
        30.0, gt=0, validation_alias="FUNDWATCH_NOTIFY_RETRY_SECONDS",
        description="The first wait before a failed notification is sent again; it doubles with each attempt up "
                    "to FUNDWATCH_NOTIFY_RETRY_MAX_SECONDS.")
    notify_retry_max_seconds: float = Field(3600.0, gt=0, validation_alias="FUNDWATCH_NOTIFY_RETRY_MAX_SECONDS")
    notify_max_attempts: int = Field(10, ge=1, validation_alias="FUNDWATCH_NOTIFY_MAX_ATTEMPTS",
                                     description="Attempts before a notification is recorded as failed.")
    notify_timeout_seconds: float = Field(10.0, gt=0, validation_alias="FUNDWATCH_NOTIFY_TIMEOUT_SECONDS")
    notify_max_age_hours: float = Field(
        24.0, gt=0, validation_alias="FUNDWATCH_NOTIFY_MAX_AGE_HOURS",
        description="Alert events older than this notify nobody: history read again (a new consumer group) is no "
                    "news.")
    notify_digest_hour: int = Field(8, ge=0, le=23, validation_alias="FUNDWATCH_NOTIFY_DIGEST_HOUR",
                                    description="The hour (Beijing) the yellow bells' digest of the day before "
                                                "goes out.")
    clock_offset_seconds: float = Field(
        0.0, validation_alias="FUNDWATCH_CLOCK_OFFSET_SECONDS",
        description="Shift the calendar clock (deadlines, dates, months) by this many seconds; development only, "
                    "so that the test stack lives on a fixed day.")
    run_background: bool = Field(
        True,
        validation_alias="FUNDWATCH_RUN_BACKGROUND",
        description="Run the outbox relay and the consumers inside the API process.",
    )

    log_level: str = Field("INFO", validation_alias="FUNDWATCH_LOG_LEVEL")
    otlp_endpoint: str | None = Field(None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    trace_file: str | None = Field(
        None,
        validation_alias="FUNDWATCH_TRACE_FILE",
        description="Append finished spans as JSON lines to this file; `{service}` is replaced by the "
        "service name (tests, local debugging).",
    )

    @field_validator("rate_limit_sign_in", "rate_limit_sign_in_address", "rate_limit_person", "rate_limit_machine")
    @classmethod
    def _rate(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError(f"expected a rate in `limits` notation such as 600/minute, got {value!r}") from None
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _clock_shift_only_in_development(self) -> "Settings":
        if self.clock_offset_seconds and self.environment != "development":
            raise ValueError("FUNDWATCH_CLOCK_OFFSET_SECONDS is for development only (FUNDWATCH_ENV=development)")
        return self

    @model_validator(mode="after")
    def _proxies_named_behind_a_proxy(self) -> "Settings":
        if self.behind_proxy and not self.trusted_proxies and self.environment != "development":
            raise ValueError("FUNDWATCH_TRUSTED_PROXIES must name the proxies when FUNDWATCH_BEHIND_PROXY=true")
        return self

    @model_validator(mode="after")
    def _machines_hold_keys_of_their_own(self) -> "Settings":
        if self.province_api_key.get_secret_value() == self.treasury_api_key.get_secret_value():
            raise ValueError("FUNDWATCH_PROVINCE_API_KEY and FUNDWATCH_TREASURY_API_KEY must differ: each key is one "
                             "machine's")
        return self

    def insecure_defaults(self, service: str) -> list[str]:
        """The secrets `service` uses that are still at their published development values (a secret a
        service does not hold may stay unset there: each pod gets only its own)."""
        defaults = Settings.model_fields
        return [
            defaults[name].validation_alias  # type: ignore[misc]
            for name in SECRETS_OF.get(service, SECRETS_OF["gateway"])
            if _plain(getattr(self, name)) == _plain(defaults[name].default)
        ]

    def body_limit(self, path: str) -> int:
        """The largest request body for a path, at the gateway and again at the service: uploads get their
        file's limit and room for the multipart envelope."""
        envelope = 1024 * 1024
        if path.rstrip("/").endswith("/import"):
            return self.max_import_bytes + envelope
        if path.rstrip("/").rsplit("/", 1)[-1] in ("documents", "library"):
            return self.max_document_bytes + envelope
        return self.max_request_bytes

    def service_url(self, service: str) -> str:
        """Base URL of a service the gateway routes to."""
        return getattr(self, f"{service}_url")


# The secrets each service holds (deploy/k8s gives each pod only these): the gateway signs identities, keeps
# accounts and keys, and reads ID numbers on application forms; payments encrypts and indexes ID numbers;
# every service keys its idempotency digests and checks forwarded identities with the public key.
_EVERY_SERVICE = ("record_digest_key", "identity_public_key")
SECRETS_OF: dict[str, tuple[str, ...]] = {
    "gateway": (*_EVERY_SERVICE, "identity_private_key", "jwt_secret", "admin_password", "treasury_api_key",
                "province_api_key", "pii_keys", "blind_index_key"),
    "payments": (*_EVERY_SERVICE, "pii_keys", "blind_index_key"),
    "ledger": _EVERY_SERVICE, "performance": _EVERY_SERVICE, "alerting": _EVERY_SERVICE,
    "sync": (*_EVERY_SERVICE, "exchange_signing_key", "province_public_key"),
}


def _plain(value: object) -> object:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def faults_of(error: ValidationError) -> list[str]:
    """One line per wrong variable: its name, and what was expected."""
    lines = []
    for fault in error.errors():
        name = str(fault["loc"][0]) if fault["loc"] else ""
        field = Settings.model_fields.get(name)
        variable = field.validation_alias if field is not None and field.validation_alias else name.upper()
        message = fault["msg"].removeprefix("Value error, ")
        lines.append(f"{variable}: {message}" if variable else message)
    return lines


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once; wrong ones stop the process with a line for each."""
    try:
        return Settings()
    except ValidationError as error:
        for line in faults_of(error):
            print(f"fundwatch: bad setting {line}", file=sys.stderr)
        raise SystemExit(2) from None
