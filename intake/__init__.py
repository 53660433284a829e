"""The ticket intake: search before submit, durable tickets, notifications; the provider's rules in ``intake.rules``."""
