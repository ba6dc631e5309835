"""Every rule module; importing this package registers all rules (see `checks.rules.base.RULES`)."""

from checks.rules import access, charter, complaints, info, standard, survey

__all__ = ["access", "charter", "complaints", "info", "standard", "survey"]
