"""The review panel's template filters: amounts in tokens with their base units on hover
(projects.amounts), whether the user is a dispute reviewer, long ids shortened."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from projects.amounts import base_units_text, token_amount_text

register = template.Library()


@register.filter
def token_amount(amount: Any, token: str) -> str:
    """`{{ m.amount|token_amount:p.token }}`: the amount in tokens, its base units on hover."""
    return format_html(
        '<span class="amount" title="{}">{}</span>',
        base_units_text(amount, token),
        token_amount_text(amount, token),
    )


@register.filter
def is_dispute_reviewer(user: Any) -> bool:
    from projects.selectors import is_dispute_reviewer as reviewer

    return reviewer(user)


@register.filter
def short_id(value: Any, keep: int = 6) -> str:
    """A long address or tx id shortened for a narrow column: its start and end around "…" (the
    full value belongs in a title or a link beside it)."""
    text = str(value or "")
    keep = int(keep)
    return text if len(text) <= 2 * keep + 1 else f"{text[:keep]}…{text[-keep:]}"
