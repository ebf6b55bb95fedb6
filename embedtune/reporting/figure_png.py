"""A matplotlib figure as PNG bytes (the charts embed them in reports and ZenML artifacts)."""

from __future__ import annotations

import io

from matplotlib.figure import Figure


def figure_png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
