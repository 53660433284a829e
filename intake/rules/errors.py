"""The one error the rules raise on bad input."""

from __future__ import annotations


class RuleInputError(ValueError):
    """A value a person typed or picked does not fit the rule.

    The message is an Italian sentence ready to show to a customer or to support staff;
    ``field`` names the input it is about (``fascia``, ``livello``, ``minuti``, ``urgente``,
    ``piano``, ``tipo_server``, ``sistema_operativo``, ``data_switch``), so a form can show
    it next to that field; ``allowed`` lists the accepted values when there is a fixed list.
    """

    def __init__(self, field: str, message: str, allowed: tuple[str, ...] = ()):
        super().__init__(message)
        self.field = field
        self.message = message
        self.allowed = allowed


def choose(field: str, label: str, value: object, allowed: dict[str, str]) -> str:
    """Return ``value`` if it is one of ``allowed`` (its keys), else raise with the accepted list.

    ``label`` names the input with its article, e.g. ``"la fascia"``, for the sentence
    "Valore non valido per la fascia: 'notturna'. Valori ammessi: ordinaria, ...".
    """
    if isinstance(value, str) and value in allowed:
        return value
    shown = "nessun valore" if value in (None, "") else repr(value)
    accepted = ", ".join(allowed)
    raise RuleInputError(field, f"Valore non valido per {label}: {shown}. Valori ammessi: {accepted}.", tuple(allowed))
