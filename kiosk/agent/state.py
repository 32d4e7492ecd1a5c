"""What the agent must remember across restarts, in ``<data_dir>/agent.json`` (mode 0600).

- ``locked`` and ``notice``: a locked kiosk stays locked after a power cut;
- ``seen``: the ids of commands already carried out or refused, with the answer sent,
  so a replayed command is refused and a lost acknowledgement is sent again;
- ``problems``: short codes to report in the next heartbeat (then cleared).

Written atomically (temporary file, fsync, rename). No personal data is ever in it.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "agent.json"
MAX_SEEN = 2000  # oldest forgotten first; a command's not_after is far shorter than 2000 commands
MAX_PROBLEMS = 20


@dataclass
class SeenCommand:
    status: str
    reason: str
    result: dict[str, Any]
    acked: bool = False


@dataclass
class AgentState:
    locked: bool = False
    notice: str = ""
    seen: dict[str, SeenCommand] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, data_dir: Path) -> AgentState:
        """The saved state; a missing file is a fresh state, a damaged one keeps the kiosk locked."""
        path = Path(data_dir) / STATE_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            seen = {str(k): SeenCommand(**v) for k, v in dict(raw.get("seen", {})).items()}
            return cls(bool(raw.get("locked", False)), str(raw.get("notice", "")), seen,
                       [str(p) for p in raw.get("problems", [])][:MAX_PROBLEMS])
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, TypeError, AttributeError):
            # Fail closed: a kiosk whose lock state cannot be read does not open by itself.
            return cls(locked=True, problems=["agent_state_damaged"])

    def remember(self, command_id: str, status: str, reason: str, result: dict[str, Any]) -> None:
        self.seen[command_id] = SeenCommand(status, reason, result)
        while len(self.seen) > MAX_SEEN:
            self.seen.pop(next(iter(self.seen)))

    def add_problem(self, code: str) -> None:
        if code not in self.problems:
            self.problems = (self.problems + [code[:200]])[-MAX_PROBLEMS:]

    def save(self, data_dir: Path) -> None:
        folder = Path(data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        body = {"locked": self.locked, "notice": self.notice, "problems": self.problems,
                "seen": {k: asdict(v) for k, v in self.seen.items()}}
        tmp = folder / f".{STATE_FILE}.{secrets.token_hex(4)}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(body, fh, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, folder / STATE_FILE)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
