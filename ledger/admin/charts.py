"""Bar charts drawn as SVG on the server: no script, no CDN, readable without
JavaScript and in a printed report."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ledger.admin.display import amount

WIDTH, HEIGHT = 640, 260
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_SIDE = 24, 56, 16


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    x: float
    y: float
    width: float
    height: float

    @property
    def negative(self) -> bool:
        return self.value < 0


def layout(values: list[tuple[str, Decimal]]) -> tuple[list[Bar], float]:
    """Bars scaled to the chart, and the y of the zero line. Negative values (unapplied
    cash) hang below the line."""
    top = max([v for _, v in values if v > 0], default=Decimal(0))
    bottom = -min([v for _, v in values if v < 0], default=Decimal(0))
    span = (top + bottom) or Decimal(1)
    plot = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    zero_y = MARGIN_TOP + float(top / span) * plot
    slot = (WIDTH - 2 * MARGIN_SIDE) / max(len(values), 1)
    bars = []
    for index, (label, value) in enumerate(values):
        height = float(abs(value) / span) * plot
        bars.append(
            Bar(
                label=label,
                value=value,
                x=MARGIN_SIDE + index * slot + slot * 0.15,
                y=zero_y - height if value >= 0 else zero_y,
                width=slot * 0.7,
                height=height,
            )
        )
    return bars, zero_y


def bar_chart(values: list[tuple[str, Decimal]], *, currency: str, title: str) -> SafeString:
    bars, zero_y = layout(values)
    shapes = format_html_join(
        "",
        '<g class="bar-group" data-label="{}" data-value="{}">'
        '<rect class="bar{}" x="{}" y="{}" width="{}" height="{}"><title>{}: {} {}</title></rect>'
        '<text x="{}" y="{}" text-anchor="middle">{}</text>'
        '<text x="{}" y="{}" text-anchor="middle">{}</text></g>',
        (
            (
                bar.label,
                bar.value,
                " negative" if bar.negative else "",
                _px(bar.x),
                _px(bar.y),
                _px(bar.width),
                _px(bar.height),
                bar.label,
                amount(bar.value, currency),
                currency,
                _px(bar.x + bar.width / 2),
                _px((bar.y - 4) if not bar.negative else (bar.y + bar.height + 14)),
                amount(bar.value, currency),
                _px(bar.x + bar.width / 2),
                HEIGHT - 8,
                bar.label,
            )
            for bar in bars
        ),
    )
    return format_html(
        '<svg class="bar-chart" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}">'
        "<title>{}</title>"
        '<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"></line>{}</svg>',
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        title,
        title,
        MARGIN_SIDE,
        WIDTH - MARGIN_SIDE,
        _px(zero_y),
        _px(zero_y),
        shapes,
    )


def _px(value: float) -> str:
    return f"{value:.1f}"
