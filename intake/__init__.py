"""The ticket intake: a search-first Flask service, plus the provider's rules in ``intake.rules``."""
