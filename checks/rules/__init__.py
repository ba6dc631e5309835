# ruff: noqa: I001  (import order is the report order)
"""Every rule module; importing this package registers all rules (see `checks.rules.base.RULES`).

Modules are imported in the order of indicators.yaml, so reports list indicators in that order.
"""

from checks.rules import standard  # requirements, procedure, service_time, fees, service_product
from checks.rules import complaints  # complaint_handling, complaint_channel
from checks.rules import charter, survey, access  # service_charter, satisfaction_survey, disability_access
from checks.rules import info  # opening_hours, contact

__all__ = ["access", "charter", "complaints", "info", "standard", "survey"]
