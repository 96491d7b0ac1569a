from django import template

register = template.Library()


@register.filter
def percent(value) -> str:
    """0.8571 → "85.7%"; None (no denominator) → "—"."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"
