"""``python -m hall`` == ``county-hall``."""

from hall.cli import main

raise SystemExit(main())
