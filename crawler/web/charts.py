"""Small inline SVG charts, computed here and drawn by the `trend` macro (no script, no library)."""

from __future__ import annotations

from dataclasses import dataclass

BANDS = ((88.0, "A"), (78.0, "B"), (54.0, "C"), (32.0, "D"))


@dataclass(frozen=True)
class Point:
    """One point of a trend: its position, value and label."""

    x: float
    y: float
    value: float
    label: str


@dataclass(frozen=True)
class Trend:
    """A score trend (0–100) drawn in a ``width`` × ``height`` box."""

    width: int
    height: int
    points: list[Point]
    bands: list[tuple[float, str]]

    @property
    def polyline(self) -> str:
        """The ``points`` attribute of the SVG polyline (numbers only)."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def trend(series: list[tuple[str, float]], width: int = 320, height: int = 96, pad: int = 8, left: int = 22) -> Trend:
    """Lay out ``series`` ((label, score), oldest first) on a 0–100 scale."""
    n = len(series)
    inner_w, inner_h = width - pad - left, height - 2 * pad

    def y_of(value: float) -> float:
        return pad + inner_h * (1 - max(0.0, min(100.0, value)) / 100)

    points = []
    for i, (label, value) in enumerate(series):
        x = left + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)
        points.append(Point(x=x, y=y_of(value), value=value, label=label))
    return Trend(width=width, height=height, points=points, bands=[(y_of(v), g) for v, g in BANDS])


__all__ = ["Point", "Trend", "trend"]
