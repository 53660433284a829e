"""The ticket intake: search before submit, durable tickets, notifications."""
