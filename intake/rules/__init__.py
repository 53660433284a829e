"""The provider's rules as small pure functions: plain data in, plain data out.

Used by the intake forms and by build-time code alike, so this package imports neither
Flask nor MkDocs. Every customer-facing text it returns is Italian and ready to show; bad
input raises :class:`RuleInputError`, whose ``field`` says which input it is about.
"""

from .errors import RuleInputError
from .fees import BANDS, LEVELS, QUOTE_THRESHOLD, FeeEstimate, FeeLine, estimate_fee
from .italian import format_date, format_eur, format_eur_vat, format_minutes
from .migration import MigrationStep, MigrationTimeline, migration_timeline, switch_date_problem
from .office_hours import OFFICE_HOURS_TEXT, ROME, TicketReview, is_working_day, next_working_day, ticket_review
from .plans import OPERATING_SYSTEMS, PLANS, SERVER_TYPES, PlanEligibility, check_plan, eligible_plans

__all__ = [
    "BANDS",
    "LEVELS",
    "OFFICE_HOURS_TEXT",
    "OPERATING_SYSTEMS",
    "PLANS",
    "QUOTE_THRESHOLD",
    "ROME",
    "SERVER_TYPES",
    "FeeEstimate",
    "FeeLine",
    "MigrationStep",
    "MigrationTimeline",
    "PlanEligibility",
    "RuleInputError",
    "TicketReview",
    "check_plan",
    "eligible_plans",
    "estimate_fee",
    "format_date",
    "format_eur",
    "format_eur_vat",
    "format_minutes",
    "is_working_day",
    "migration_timeline",
    "next_working_day",
    "switch_date_problem",
    "ticket_review",
]
