"""Per-company monthly budgets of the language model, in ``Company.settings``::

    {"generation_budget": {"monthly_tokens": 2000000, "monthly_cost_usd": "50"}}

A run whose estimate would take the month's spend (every ``generation_requests`` row
of the company since the 1st) over a budget is refused before the provider is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from projects.models import GenerationRequest

SETTING = "generation_budget"


class BudgetExceeded(Exception):
    """The run would exceed the company's monthly budget; nothing was sent."""


@dataclass(frozen=True)
class Budget:
    tokens: int | None
    cost_usd: Decimal | None


@dataclass(frozen=True)
class Spend:
    tokens: int
    cost_usd: Decimal


def budget_of(company) -> Budget:
    """The company's monthly limits; a missing, malformed, zero or negative value is no
    limit (the setting is free JSON that an administrator may have typed by hand)."""
    raw = (company.settings or {}).get(SETTING)
    raw = raw if isinstance(raw, dict) else {}
    tokens = raw.get("monthly_tokens")
    cost = raw.get("monthly_cost_usd")
    try:
        tokens = int(tokens) if tokens not in (None, "") and not isinstance(tokens, bool) else None
    except (TypeError, ValueError):
        tokens = None
    try:
        cost = Decimal(str(cost)) if cost not in (None, "") and not isinstance(cost, bool) else None
    except (InvalidOperation, ValueError):
        cost = None
    if cost is not None and not (cost.is_finite() and cost > 0):
        cost = None
    if tokens is not None and tokens <= 0:
        tokens = None
    return Budget(tokens, cost)


def month_start(now=None):
    """The first instant of the current month, in the current time zone."""
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def spent(company) -> Spend:
    totals = (
        GenerationRequest.objects.for_company(company)
        .filter(created_at__gte=month_start())
        .aggregate(tokens=Sum("tokens_used"), cost=Sum("cost_usd"))
    )
    return Spend(int(totals["tokens"] or 0), Decimal(totals["cost"] or 0))


def check(company, tokens: int, cost_usd: Decimal | None) -> None:
    """Raise BudgetExceeded when ``tokens`` / ``cost_usd`` more would go over budget."""
    budget = budget_of(company)
    if budget.tokens is None and budget.cost_usd is None:
        return
    used = spent(company)
    if budget.tokens is not None and used.tokens + tokens > budget.tokens:
        raise BudgetExceeded(
            _(
                "Monthly budget of %(company)s reached: %(used)d of %(budget)d tokens used "
                "this month, and this section needs about %(needed)d more. Nothing was sent "
                "to the model; raise the budget or wait for next month."
            )
            % {
                "company": company.name,
                "used": used.tokens,
                "budget": budget.tokens,
                "needed": tokens,
            }
        )
    over_cost = (
        budget.cost_usd is not None
        and cost_usd is not None
        and used.cost_usd + cost_usd > budget.cost_usd
    )
    if over_cost:
        raise BudgetExceeded(
            _(
                "Monthly budget of %(company)s reached: %(used)s USD of %(budget)s USD "
                "spent this month, and this section would cost about %(needed)s USD more. "
                "Nothing was sent to the model; raise the budget or wait for next month."
            )
            % {
                "company": company.name,
                "used": f"{used.cost_usd:.2f}",
                "budget": f"{budget.cost_usd:.2f}",
                "needed": f"{cost_usd:.4f}",
            }
        )
