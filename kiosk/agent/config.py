"""Signed configuration from the hall: checked, kept as the last good one, applied as a layer.

The hall signs ``{version, device_id, settings, issued_at}`` (``settings``: nested tables
like a TOML file) with the context ``hall-config-v1``. The kiosk takes it only when the
signature verifies with the pinned hall key, it is for this kiosk, its version is newer
than the one applied, it sets no forbidden key (``kiosk.data_dir``, ``hall.url``) and the
settings models accept it over the defaults (``kiosk.settings.check_layer``, the same
check the hall made before signing). Otherwise the kiosk keeps the last good one and
reports ``config_refused:<reason>:v<version>`` in the next heartbeat.

The last good document is ``<data_dir>/hall-config.json`` (mode 0600, written
atomically) and is verified again each time it is read: a file an intruder edited is
ignored, not obeyed.

Layering: defaults < hall configuration < ``device.toml`` < ``--config FILE``.
``kiosk.settings.load_settings`` does not take a hall layer yet (another engineer's
file), so ``with_hall_layer`` puts the hall's values in through ``with_overrides`` for
exactly the keys that neither ``device.toml`` nor the ``--config`` file sets.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.agent.documents import CONFIG_CONTEXT, CONFIG_FIELDS, CONFIG_FORBIDDEN_KEYS, verify_document

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from kiosk.settings import Layer, Settings

CONFIG_FILE = "hall-config.json"
DEVICE_FILE = "device.toml"


class ConfigRefused(Exception):
    def __init__(self, reason: str, version: object = "?") -> None:
        super().__init__(reason)
        self.reason = reason
        self.version = version

    @property
    def problem(self) -> str:
        return f"config_refused:{self.reason}:v{self.version}"


@dataclass(frozen=True)
class HallConfig:
    version: int
    values: dict[str, Any]  # dotted keys


def _flat(delivery_settings: Mapping[str, Any]) -> Layer:
    from kiosk.settings import check_layer, layer_from_tree

    layer = layer_from_tree(delivery_settings, "hall configuration")  # ConfigError: unknown key
    check_layer(layer)  # ConfigError: wrong type or out of range
    return layer


def check_config(delivery: object, hall_key: Ed25519PublicKey, device_id: str,
                 current_version: int) -> HallConfig:
    """The configuration to apply, or raise ``ConfigRefused`` with a stable reason code."""
    from kiosk.errors import ConfigError

    if not isinstance(delivery, Mapping) or not isinstance(delivery.get("document"), Mapping):
        raise ConfigRefused("malformed")
    document = delivery["document"]
    version = document.get("version")
    if set(document) != set(CONFIG_FIELDS) or not isinstance(version, int) or isinstance(version, bool):
        raise ConfigRefused("malformed")
    if not verify_document(hall_key, CONFIG_CONTEXT, document, delivery.get("signature")):
        raise ConfigRefused("bad_signature", version)
    if document["device_id"] != device_id:
        raise ConfigRefused("other_device", version)
    if version <= current_version:
        raise ConfigRefused("not_newer", version)
    if not isinstance(document["settings"], Mapping):
        raise ConfigRefused("malformed", version)
    try:
        layer = _flat(document["settings"])
    except ConfigError as exc:
        raise ConfigRefused(f"invalid:{exc.key}" if getattr(exc, "key", "") else "invalid", version) from exc
    forbidden = sorted(CONFIG_FORBIDDEN_KEYS & set(layer.values))
    if forbidden:
        raise ConfigRefused(f"forbidden:{forbidden[0]}", version)
    return HallConfig(version, dict(layer.values))


def save_config(data_dir: Path, delivery: Mapping[str, Any]) -> None:
    folder = Path(data_dir)
    tmp = folder / f".{CONFIG_FILE}.{secrets.token_hex(4)}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"document": delivery["document"], "signature": delivery["signature"]}, fh,
                      ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / CONFIG_FILE)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def load_config(data_dir: Path, hall_key: Ed25519PublicKey, device_id: str) -> HallConfig | None:
    """The last good configuration on disk, verified again; None when there is none (or it fails)."""
    try:
        delivery = json.loads((Path(data_dir) / CONFIG_FILE).read_text(encoding="utf-8"))
        return check_config(delivery, hall_key, device_id, current_version=0)
    except (OSError, ValueError, ConfigRefused):
        return None


def applied_version(data_dir: Path, hall_key: Ed25519PublicKey, device_id: str) -> int:
    config = load_config(data_dir, hall_key, device_id)
    return config.version if config is not None else 0


def with_hall_layer(settings: Settings, config_file: Path | None = None) -> Settings:
    """``settings`` with the last good hall configuration under ``device.toml`` and ``--config``."""
    from kiosk.errors import ConfigError
    from kiosk.settings import read_layer
    from offline_queue.errors import StorageError
    from offline_queue.identity import DeviceIdentity

    data_dir = settings.data_dir
    if not (Path(data_dir) / CONFIG_FILE).is_file() or not DeviceIdentity.is_enrolled(data_dir):
        return settings
    try:
        identity = DeviceIdentity.load(data_dir)
        config = load_config(data_dir, Ed25519PublicKey.from_public_bytes(identity.hall_sign_public_key),
                             identity.device_id)
        if config is None:
            return settings
        above: set[str] = set()
        for path in (Path(data_dir) / DEVICE_FILE, config_file):
            if path is not None and Path(path).is_file():
                above |= set(read_layer(Path(path)).values)
        overrides = {key: value for key, value in config.values.items() if key not in above}
        return settings.with_overrides(overrides) if overrides else settings
    except (StorageError, ConfigError, ValueError) as exc:
        # The kiosk still starts on its own settings; the agent reports the trouble.
        log.warning("hall configuration not applied: %s", type(exc).__name__)
        return settings
