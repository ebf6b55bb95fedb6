"""`python -m embedtune`: the same as the `embedtune` command."""

import sys

from embedtune.cli import main

sys.exit(main())
