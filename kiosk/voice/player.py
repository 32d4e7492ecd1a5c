"""Audio output: play a WAV with the first player the machine has, and kill it on demand.

Players, in order: ``paplay`` (PulseAudio / PipeWire), ``aplay`` (ALSA), ``play`` (sox).
A kiosk with no sound device must keep working: a player that fails is logged once
(its exit code, nothing else) and the prompt is dropped.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

# {wav} is the file, {volume} a factor 0..1, {pa_volume} PulseAudio's 0..65536
PLAYERS: tuple[tuple[str, ...], ...] = (
    ("paplay", "--volume={pa_volume}", "{wav}"),
    ("aplay", "-q", "{wav}"),  # no volume of its own: ALSA's mixer sets it
    ("play", "-q", "-v", "{volume}", "{wav}"),
)


def find_player() -> tuple[str, ...] | None:
    """The first player command template whose program is installed, or None."""
    for template in PLAYERS:
        if shutil.which(template[0]):
            return template
    return None


class AudioPlayer:
    """Plays one WAV at a time; ``start`` returns the process so the caller can wait or kill."""

    def __init__(self, template: Sequence[str] | None) -> None:
        self.template = tuple(template) if template else None
        self._failure_logged = False

    @property
    def available(self) -> bool:
        return self.template is not None

    def start(self, wav: Path, volume: float) -> subprocess.Popen[bytes] | None:
        if self.template is None:
            self._log_failure_once("no audio player installed (paplay, aplay or sox's play)")
            return None
        volume = min(max(volume, 0.0), 1.0)
        values = {"wav": str(wav), "volume": f"{volume:.2f}", "pa_volume": str(int(volume * 65536))}
        command = [part.format(**values) for part in self.template]
        try:
            return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            self._log_failure_once(f"audio player {command[0]} cannot start: {type(exc).__name__}")
            return None

    def finished(self, process: subprocess.Popen[bytes]) -> None:
        """Note how a process that ran to its end went (a failing device is logged once)."""
        if process.returncode not in (0, None) and process.returncode > 0:
            self._log_failure_once(f"audio player {self.template[0] if self.template else '?'} "
                                   f"failed (exit {process.returncode}): no sound device?")

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.kill()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:  # pragma: no cover - a process that ignores SIGKILL
            log.warning("audio player did not end after SIGKILL")

    def _log_failure_once(self, what: str) -> None:
        if not self._failure_logged:
            self._failure_logged = True
            log.warning("voice prompts are silent: %s; the kiosk carries on without sound", what)
