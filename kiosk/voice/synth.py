"""Text to a WAV file with espeak-ng (Debian package ``espeak-ng``).

The text goes in on standard input, never on the command line (no quoting, and it
does not show in ``ps``). Rendered prompts are cached by a hash of voice, speed and
text, so a prompt is synthesised once per kiosk; the cache holds fixed prompt texts
only, never personal data.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from kiosk.errors import KioskError

RENDER_TIMEOUT_S = 20


class VoiceUnavailable(KioskError):
    """espeak-ng is missing or failed: the kiosk goes on without the spoken prompt."""

    message_key = "voice.unavailable"


class EspeakSynth:
    def __init__(self, cache_dir: Path, *, speed_wpm: int = 140, program: str = "espeak-ng") -> None:
        found = shutil.which(program)
        if not found:
            raise VoiceUnavailable(f"{program} not found (Debian package espeak-ng)")
        self.program = found
        self.cache_dir = Path(cache_dir)
        self.speed_wpm = speed_wpm

    def render(self, text: str, voice: str) -> Path:
        """The WAV of ``text`` in ``voice``, from the cache or synthesised now."""
        digest = hashlib.sha256(f"{voice}\0{self.speed_wpm}\0{text}".encode()).hexdigest()[:32]
        target = self.cache_dir / f"{voice}-{digest}.wav"
        if target.is_file() and target.stat().st_size > 44:
            return target
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=self.cache_dir, suffix=".wav.tmp")
        os.close(fd)
        try:
            done = subprocess.run(
                [self.program, "-v", voice, "-s", str(self.speed_wpm), "-w", temp_name, "--stdin"],
                input=text.encode("utf-8"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                timeout=RENDER_TIMEOUT_S, check=False)
            if done.returncode != 0 or os.path.getsize(temp_name) <= 44:
                raise VoiceUnavailable(f"espeak-ng voice {voice} failed (exit {done.returncode})")
            os.replace(temp_name, target)
        except subprocess.TimeoutExpired as exc:
            raise VoiceUnavailable(f"espeak-ng voice {voice} timed out") from exc
        finally:
            if os.path.exists(temp_name):
                os.unlink(temp_name)
        return target
