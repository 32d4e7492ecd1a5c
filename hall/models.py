"""The hall's tables (SQLAlchemy 2). The schema itself is made by the Alembic migrations."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite keeps naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    county: Mapped[str] = mapped_column(String(12))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    versions: Mapped[str] = mapped_column(Text, default="{}")
    enrolled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class EnrolmentCode(Base):
    __tablename__ = "enrolment_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    county: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    device_id: Mapped[str | None] = mapped_column(String(40), nullable=True)


class SeenNonce(Base):
    __tablename__ = "nonces"
    __table_args__ = (UniqueConstraint("device_id", "nonce", name="uq_nonces_device_nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(40), ForeignKey("devices.id"))
    nonce: Mapped[str] = mapped_column(String(64))
    ts: Mapped[int] = mapped_column(BigInteger, index=True)


class Upload(Base):
    __tablename__ = "uploads"
    __table_args__ = (UniqueConstraint("device_id", "sha256", name="uq_uploads_device_sha256"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(40), ForeignKey("devices.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column("received_bytes", BigInteger, default=0)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("device_id", "idempotency_key", name="uq_applications_device_key"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(40), ForeignKey("devices.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    provisional_number: Mapped[str] = mapped_column(String(64), index=True)
    # Given when a clerk accepts it (services/status.py); None until then. The villager's
    # receipt carries ``provisional_number``, which /track finds from the start.
    official_number: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    service_code: Mapped[str] = mapped_column(String(64))
    county: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    visits_needed: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(32), default="submitted")
    reason: Mapped[str] = mapped_column(Text, default="")
    sealed_document: Mapped[bytes] = mapped_column(LargeBinary)
    response_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # When a clerk accepted it: the promised and statutory limits count from here.
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    attachments: Mapped[list[ApplicationAttachment]] = relationship(
        back_populates="application", order_by="ApplicationAttachment.id"
    )

    @property
    def number(self) -> str:
        """The number people know it by: the official one once given, else the receipt's."""
        return self.official_number or self.provisional_number


class ApplicationAttachment(Base):
    __tablename__ = "application_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(36), ForeignKey("applications.id"), index=True)
    # Indexed (migration 0014): an upload's create counts the kiosk's uploads no attachment names.
    upload_id: Mapped[str] = mapped_column(String(40), ForeignKey("uploads.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    material: Mapped[str] = mapped_column(String(64), default="")
    pages: Mapped[int] = mapped_column(Integer, default=1)
    # Set on pages a supplement added (a correction's answer): the clerk sees what changed.
    supplement_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("supplements.id"), nullable=True)

    application: Mapped[Application] = relationship(back_populates="attachments")
    upload: Mapped[Upload] = relationship()


class StatusChange(Base):
    """The log the kiosks pull; its autoincrement ``id`` is the cursor."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(36), ForeignKey("applications.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100), default="")
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The full history: the status it left, and (corrections) the material ids named, as JSON.
    from_status: Mapped[str] = mapped_column(String(32), default="", server_default="")
    materials_json: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")


class NumberSequence(Base):
    """Last official-number sequence used per county and local day."""

    __tablename__ = "number_sequences"

    county: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class ConsoleUser(Base):
    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # In every session cookie; logout and a password reset add one, which ends every session.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # county_admin | technician | clerk | viewer (hall/services/roles.py), the county the
    # user works for, and a clerk's department (a key of config/departments.toml).
    role: Mapped[str] = mapped_column(String(20), default="county_admin", server_default="county_admin")
    county: Mapped[str] = mapped_column(String(12), default="", server_default="")
    department: Mapped[str] = mapped_column(String(40), default="", server_default="")


class RateLimit(Base):
    """One fixed-window counter per key (``login-user:…``, ``login-addr:…``, ``track-addr:…``).

    In the database, not in memory, so that every hall process (workers, hosts) counts
    the same attempts. See ``hall/services/ratelimit.py``.
    """

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, index=True)
    count: Mapped[int] = mapped_column(Integer)


# -- the fleet: heartbeats, commands, the audit log ---------------------------------


class DeviceState(Base):
    """The latest heartbeat of each kiosk (one row per device, replaced at each beat)."""

    __tablename__ = "device_states"

    device_id: Mapped[str] = mapped_column(String(40), ForeignKey("devices.id"), primary_key=True)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    health_state: Mapped[str] = mapped_column(String(16), default="")
    queue_depth: Mapped[int] = mapped_column(Integer, default=0)
    oldest_unsent_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    free_disk_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    software_version: Mapped[str] = mapped_column(String(40), default="")
    config_version: Mapped[int] = mapped_column(Integer, default=0)
    uptime_s: Mapped[int] = mapped_column(BigInteger, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    report_json: Mapped[str] = mapped_column(Text, default="{}")


class Heartbeat(Base):
    """Bounded history of heartbeats per device (the timeline and the queue-depth chart)."""

    __tablename__ = "heartbeats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(40), ForeignKey("devices.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    health_state: Mapped[str] = mapped_column(String(16), default="")
    queue_depth: Mapped[int] = mapped_column(Integer, default=0)
    oldest_unsent_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    report_json: Mapped[str] = mapped_column(Text, default="{}")


class DeviceCommand(Base):
    """A signed command for one kiosk: ``pending`` until acknowledged (``done`` / ``failed`` /
    ``refused``) or past ``not_after`` (``expired``). ``document`` is the exact signed JSON."""

    __tablename__ = "device_commands"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(40), ForeignKey("devices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    document: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(200))
    issued_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    not_after: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    result_json: Mapped[str] = mapped_column(Text, default="{}")


class AuditEntry(Base):
    """Every staff action: who, when, what, on which device."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class ConfigVersion(Base):
    """A configuration layer staff wrote (nested tables like a TOML file), validated by the
    kiosk's own settings models before it is stored; ``id`` is its version number."""

    __tablename__ = "config_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(200), default="")
    settings_json: Mapped[str] = mapped_column(Text)


class DeviceConfig(Base):
    """Which configuration version each kiosk should run (the one delivered until it reports it)."""

    __tablename__ = "device_configs"

    device_id: Mapped[str] = mapped_column(String(40), ForeignKey("devices.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, ForeignKey("config_versions.id"))
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    assigned_by: Mapped[str] = mapped_column(String(100))


class DiagnosticsUpload(Base):
    """A kiosk's diagnostics (masked logs, device report, queue summary), as the sealed box it
    sent: opened only when county staff look at it in the console."""

    __tablename__ = "diagnostics_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(40), ForeignKey("devices.id"), index=True)
    command_id: Mapped[str] = mapped_column(String(36), default="")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # None: the box is in the blob store (hall/services/fleet_diagnostics.py); rows from
    # before migration 0007 keep theirs here.
    box: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class Release(Base):
    """A kiosk software release: a signed manifest of wheel files kept under
    ``<data dir>/releases/<version>/``, and how far it is rolled out.

    ``stage``: ``pilot`` (only the kiosks in ``pilot_json``), ``percent`` (and ``percent`` % of
    the others, chosen by a hash of the kiosk id), ``all``, ``halted`` (no kiosk newly offered
    it) or ``rolled_back`` (kiosks are offered the release before it again)."""

    __tablename__ = "releases"

    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)  # publication order (newest wins)
    manifest_json: Mapped[str] = mapped_column(Text)  # the exact signed JSON
    signature: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    stage: Mapped[str] = mapped_column(String(16), default="pilot")
    percent: Mapped[int] = mapped_column(Integer, default=0)
    pilot_json: Mapped[str] = mapped_column(Text, default="[]")


# -- the county's work: results of completed applications --------------------------------


class ApplicationResult(Base):
    """A result a clerk attached at completion (a decision letter as PDF, an image of the
    certificate). The bytes are sealed to the hall's own key and kept as a file named by
    the SHA-256 of the sealed box (``hall/services/results.py``), like kiosk attachments."""

    __tablename__ = "application_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(36), ForeignKey("applications.id"), index=True)
    box_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    # Page images kept beside it for the kiosks' printers and screens: a PDF's pages rendered
    # once on attaching (``services/result_pages.py``); an image is its own one page.
    pages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Supplement(Base):
    """New pages for the materials a correction named, sent by the kiosk exactly once
    (``Idempotency-Key`` = its id) and joined to the same application."""

    __tablename__ = "supplements"
    __table_args__ = (UniqueConstraint("device_id", "idempotency_key", name="uq_supplements_device_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(String(36), ForeignKey("applications.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(40), ForeignKey("devices.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    sealed_document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    response_json: Mapped[str] = mapped_column(Text)


class Rating(Base):
    """A villager's 好差评 of one finished application, sent by the kiosk as its own record.

    No personal data: the application's provisional number, the item, the score and a
    reason code. ``id`` is the kiosk's UUID for the rating: a repeat is the same row.
    """

    __tablename__ = "ratings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(40), ForeignKey("devices.id"), index=True)
    county: Mapped[str] = mapped_column(String(12))
    application_ref: Mapped[str] = mapped_column(String(64), index=True)
    service_code: Mapped[str] = mapped_column(String(64))
    score: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32), default="")
    rated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


# -- the work plan's figures: applications made elsewhere than at a kiosk ----------------------


class CounterApplication(Base):
    """Applications a clerk records that did not come from a kiosk (at the county window, on
    the web hall, on a phone): the denominators of the work plan's rates. One row per entry
    (item, local day, channel, how many); ``hall/services/figures.py`` sums them."""

    __tablename__ = "counter_applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    county: Mapped[str] = mapped_column(String(12))
    service_code: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)  # the county's local date
    channel: Mapped[str] = mapped_column(String(16))  # counter | web | mobile
    count: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ECertificate(Base):
    """An e-certificate (电子证照) of the county's store (``hall/services/certificates.py``).

    ``id`` is the opaque reference a kiosk gets and a sealed application names. The holder
    is only ``holder_key`` (an HMAC of the ID number under the hall's own secret); the
    document is sealed to the hall's key in ``<data-dir>/certificates/<box_sha256>``."""

    __tablename__ = "e_certificates"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder_key: Mapped[str] = mapped_column(String(64), index=True)
    county: Mapped[str] = mapped_column(String(12))
    cert_type: Mapped[str] = mapped_column(String(40))
    issuer: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    trust_level: Mapped[int] = mapped_column(Integer)
    box_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApplicationCertificate(Base):
    """An e-certificate an application uses instead of a photographed material."""

    __tablename__ = "application_certificates"
    __table_args__ = (
        UniqueConstraint("application_id", "certificate_id", name="uq_application_certificate"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(36), ForeignKey("applications.id"), index=True)
    certificate_id: Mapped[str] = mapped_column(String(40), ForeignKey("e_certificates.id"))
    cert_type: Mapped[str] = mapped_column(String(40))
    material: Mapped[str] = mapped_column(String(64), default="")


# -- the work plan's figures: the monthly summary the figures page reads -------------------------


# the score columns of every figures table, one per score of 好差评 (1 very unhappy … 5 very satisfied)
FIGURE_SCORES = ("score1", "score2", "score3", "score4", "score5")


class FigureCounts:
    """The counts the figures summary and its two roll-ups share (each table adds its own)."""

    applications: Mapped[int] = mapped_column(Integer, default=0)  # kiosk: rows; counter: summed counts
    le1: Mapped[int] = mapped_column(Integer, default=0)  # visits_needed <= 1 (kiosk only)
    zero: Mapped[int] = mapped_column(Integer, default=0)  # visits_needed == 0 (kiosk only)
    ecert: Mapped[int] = mapped_column(Integer, default=0)  # naming at least one e-certificate
    # the villagers' ratings (好差评) rated in the month, by score
    score1: Mapped[int] = mapped_column(Integer, default=0)
    score2: Mapped[int] = mapped_column(Integer, default=0)
    score3: Mapped[int] = mapped_column(Integer, default=0)
    score4: Mapped[int] = mapped_column(Integer, default=0)
    score5: Mapped[int] = mapped_column(Integer, default=0)


class FiguresMonthly(FigureCounts, Base):
    """The figures' counts per county, local month, kiosk, item and channel, kept by the intake,
    the status changes, the ratings and the counter entries in the same transaction as the change
    (``hall/services/figures_summary.py``), so that the figures page reads a few hundred rows
    instead of scanning every application of the period. ``channel`` is ``kiosk`` for a kiosk's
    applications and ratings (``device_id`` the kiosk) or a counter entry's channel (``device_id``
    empty).
    ``county-hall figures rebuild`` recomputes it from the rows."""

    __tablename__ = "figures_monthly"
    # channel before month: the page reads the kiosks' rows and the counter entries' few rows
    # as two ranges instead of filtering one
    __table_args__ = (PrimaryKeyConstraint("county", "channel", "month", "device_id", "service_code"),)

    county: Mapped[str] = mapped_column(String(12), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # local "YYYY-MM"
    device_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    service_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    completed: Mapped[int] = mapped_column(Integer, default=0)  # status completed (kiosk only)


class FiguresSummaryState(Base):
    """One row: the UTC offset whose local months the summary counts in. The figures page
    reads the summary only when it matches the hall's ``utc_offset_hours``."""

    __tablename__ = "figures_summary_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    utc_offset_hours: Mapped[int] = mapped_column(Integer)
    rebuilt_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FleetGeneration(Base):
    """One row: a number every write to what a heartbeat answer depends on adds one to (a
    device, its commands, its configuration, a release; hall/services/fleet_generation.py).
    The heartbeat writer reads it once per batch and drops its cache when it has changed."""

    __tablename__ = "fleet_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# -- the figures' roll-ups: what the county's figures page reads (migration 0013_figures_rollups) --


class FiguresKioskMonth(FigureCounts, Base):
    """The kiosk applications' counts per county, local month and kiosk (every item summed), with
    "finished online" counted at write time from the items in ``figures_rollup_items``: the
    county-wide figures page reads one row per kiosk and month instead of one per kiosk, item
    and month (``hall/services/figures_rollups.py``)."""

    __tablename__ = "figures_kiosk_month"
    __table_args__ = (PrimaryKeyConstraint("county", "month", "device_id"),)

    county: Mapped[str] = mapped_column(String(12), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # local "YYYY-MM"
    device_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    finished_online: Mapped[int] = mapped_column(Integer, default=0)  # completed, item fully online


class FiguresItemMonth(FigureCounts, Base):
    """``figures_monthly`` without the kiosk: the counts per county, local month, item and
    channel (the per-item ratings and the counter entries of the county-wide page)."""

    __tablename__ = "figures_item_month"
    __table_args__ = (PrimaryKeyConstraint("county", "month", "service_code", "channel"),)

    county: Mapped[str] = mapped_column(String(12), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    service_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    completed: Mapped[int] = mapped_column(Integer, default=0)


class FiguresRollupItem(Base):
    """The items ``figures_kiosk_month`` counts as fully online (the catalog's ``fully_online``
    when it was last rebuilt). While they differ from the hall's catalog the page does not read
    that roll-up (``county-hall figures rebuild`` brings it in step)."""

    __tablename__ = "figures_rollup_items"

    service_code: Mapped[str] = mapped_column(String(64), primary_key=True)
