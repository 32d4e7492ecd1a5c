"""`python -m kiosk ...` is the `kiosk` command."""

import os
import sys

# as deploy/kiosk.service: NumPy's BLAS threads spin while they wait, and the kiosk's products are small
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from kiosk.cli import main  # noqa: E402

sys.exit(main())
