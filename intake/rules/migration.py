"""The timeline of a scheduled migration of a dedicated server, from the notice day X.

Source: the article "migrazione programmata di server dedicati"
(``docs/server-dedicati/migrazione-programmata-server-dedicati.md``): X notice and proposed
date, X+10 the customer's configuration wishes, X+15 new server on a provisional IP, by
X+22 the customer's own migration, then the IP switch, X+29 old server off, X+31 deleted.

Readings where the seed leaves room:

- The switch date is "la data proposta per la sostituzione (con un preavviso minimo di 15 gg.
  solari)": a date less than 15 calendar days after X is refused. A date from X+29 on is refused
  too, since the old server is switched off that day and the switch needs it running.
- Without a proposed date the switch step stays undated: it happens "quando il cliente ha
  concluso la migrazione".
- Who switches the IPs: "dal cliente (assistenza basic) oppure dal nostro personale (assistenza
  managed o global)". Every other step has the same owner whatever the plan.
- A switch on a week-end or holiday gets a warning (the article advises normal working hours),
  except with global, whose holders "possono concordare gratuitamente" night or holiday work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .errors import RuleInputError, choose
from .italian import format_date
from .office_hours import is_working_day
from .plans import PLANS

CUSTOMER = "cliente"
STAFF = "staff"
ACTORS = {CUSTOMER: "a cura del cliente", STAFF: "a cura del nostro personale"}

MIN_NOTICE_DAYS = 15
OLD_SERVER_OFF_DAY = 29
OLD_SERVER_DELETED_DAY = 31


@dataclass(frozen=True)
class MigrationStep:
    """One step. ``day`` is ``None`` only for an undated switch; ``by`` means "entro"."""

    key: str
    day: date | None
    offset: int | None
    by: bool
    actor: str
    text: str

    @property
    def when_text(self) -> str:
        """``'lunedì 7 dicembre 2026'``, ``'entro lunedì 14 dicembre 2026'`` or, undated, a phrase."""
        if self.day is None:
            return "quando il cliente ha concluso la migrazione"
        return ("entro " if self.by else "") + format_date(self.day)

    @property
    def actor_text(self) -> str:
        return ACTORS[self.actor]

    def to_dict(self) -> dict:
        return {
            "passo": self.key,
            "data": self.day.isoformat() if self.day else None,
            "giorno": f"X+{self.offset}" if self.offset else ("X" if self.offset == 0 else None),
            "quando": self.when_text,
            "chi": self.actor,
            "chi_testo": self.actor_text,
            "descrizione": self.text,
        }


@dataclass(frozen=True)
class MigrationTimeline:
    notice_date: date
    plan: str
    switch_date: date | None
    steps: tuple[MigrationStep, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "giorno_x": self.notice_date.isoformat(),
            "piano": self.plan,
            "data_switch": self.switch_date.isoformat() if self.switch_date else None,
            "passi": [step.to_dict() for step in self.steps],
            "note": list(self.notes),
        }


def switch_date_problem(notice_date: date, switch_date: date) -> str | None:
    """Why ``switch_date`` cannot be accepted for a notice given on ``notice_date``, or ``None``.

    The sentence is Italian and names the first (or last) acceptable date.
    """
    _check_date(notice_date, "notice_date")
    _check_date(switch_date, "switch_date")
    days = (switch_date - notice_date).days
    earliest = notice_date + timedelta(days=MIN_NOTICE_DAYS)
    off = notice_date + timedelta(days=OLD_SERVER_OFF_DAY)
    proposed = f"La data proposta per lo switch ({format_date(switch_date)})"
    rule = f"serve un preavviso minimo di {MIN_NOTICE_DAYS} giorni solari, quindi la prima data possibile è {format_date(earliest)}."
    if days <= 0:
        return f"{proposed} non viene dopo il giorno della comunicazione ({format_date(notice_date)}): {rule}"
    if days < MIN_NOTICE_DAYS:
        distance = "1 giorno" if days == 1 else f"{days} giorni"
        return f"{proposed} è ad appena {distance} dalla comunicazione ({format_date(notice_date)}): {rule}"
    if switch_date >= off:
        last = off - timedelta(days=1)
        return (
            f"{proposed} è troppo tardi: il vecchio server viene spento {format_date(off)}, "
            f"quindi lo switch va fatto entro {format_date(last)}."
        )
    return None


def migration_timeline(notice_date: date, plan: str, switch_date: date | None = None) -> MigrationTimeline:
    """The dated steps of a migration noticed on ``notice_date`` (day X) for a ``plan`` customer.

    :param plan: ``'basic'``, ``'managed'`` or ``'global'`` (who switches the IPs depends on it).
    :param switch_date: the proposed switch date, if any; see :func:`switch_date_problem`.
    :raise RuleInputError: unknown plan (field ``piano``) or unacceptable switch date
        (field ``data_switch``, message from :func:`switch_date_problem`).
    """
    _check_date(notice_date, "notice_date")
    plan = choose("piano", "il piano di assistenza", plan, PLANS)
    if switch_date is not None:
        problem = switch_date_problem(notice_date, switch_date)
        if problem:
            raise RuleInputError("data_switch", problem)

    def on(offset: int) -> date:
        return notice_date + timedelta(days=offset)

    switcher = CUSTOMER if plan == "basic" else STAFF
    steps = [
        MigrationStep("comunicazione", on(0), 0, False, STAFF,
                      "Comunichiamo la necessità di migrare il server e la data proposta per la sostituzione "
                      f"(con un preavviso minimo di {MIN_NOTICE_DAYS} giorni solari)."),
        MigrationStep("configurazione", on(10), 10, False, CUSTOMER,
                      "Il cliente comunica tramite ticket le necessità di configurazione: versione del sistema "
                      "operativo, librerie installate, tipo e caratteristiche dell’eventuale pannello di controllo."),
        MigrationStep("nuovo_server", on(15), 15, False, STAFF,
                      "Mettiamo a disposizione il nuovo server con un IP provvisorio, con il sistema operativo, "
                      "le librerie e il pannello di controllo indicati dal cliente."),
        MigrationStep("migrazione_dati", on(22), 22, True, CUSTOMER,
                      "Il cliente installa gli applicativi, fa le personalizzazioni necessarie e migra dati e contenuti."),
        MigrationStep("switch", switch_date, (switch_date - notice_date).days if switch_date else None, False, switcher,
                      "Switch degli IP: al nuovo server viene assegnato l’IP ufficiale, al vecchio l’IP provvisorio."),
        MigrationStep("spegnimento", on(OLD_SERVER_OFF_DAY), OLD_SERVER_OFF_DAY, False, STAFF,
                      "Il vecchio server viene spento. Fino a quel giorno resta a disposizione del cliente con l’IP "
                      "provvisorio, per completare la migrazione dei dati, risincronizzare gli archivi e recuperare "
                      "dati dimenticati."),
        MigrationStep("cancellazione", on(OLD_SERVER_DELETED_DAY), OLD_SERVER_DELETED_DAY, False, STAFF,
                      "Il vecchio server viene cancellato."),
    ]
    if switch_date is not None:
        # A dated switch may come before X+22 (the customer finished early): keep date order.
        # sorted() is stable, so X+22 and a switch on X+22 keep the seed's order.
        steps.sort(key=lambda step: step.day)
    return MigrationTimeline(notice_date, plan, switch_date, tuple(steps), tuple(_notes(plan, switch_date)))


def _notes(plan: str, switch_date: date | None) -> list[str]:
    notes = [
        "Prima della migrazione si consiglia un backup straordinario di tutti i contenuti del server e, "
        "per tutto il periodo della migrazione, una policy di backup più conservativa.",
    ]
    if plan == "basic":
        notes.append(
            "Con l’assistenza basic lo switch degli IP è a cura del cliente: si consiglia di avvisare il nostro "
            "personale e concordare la data con adeguato preavviso, così che in farm ci sia personale pronto a "
            "intervenire in caso di difficoltà, e di eseguirlo durante il normale orario lavorativo."
        )
    else:
        notes.append(
            f"Con l’{PLANS[plan]} lo switch degli IP è eseguito dal nostro personale, in una data concordata "
            "con adeguato preavviso."
        )
    if plan == "global":
        notes.append(
            "Con l’assistenza global l’intervento può essere concordato gratuitamente anche in fascia notturna "
            "o in un giorno festivo."
        )
    elif switch_date is not None and not is_working_day(switch_date):
        notes.append(
            f"La data proposta per lo switch ({format_date(switch_date)}) non è un giorno lavorativo: "
            "si consiglia di effettuare l’operazione durante il normale orario lavorativo."
        )
    notes.append(
        "L’eventuale collaborazione del nostro personale in farm per interventi fisici sul server è gratuita "
        "nel normale orario lavorativo."
    )
    return notes


def _check_date(value: object, name: str) -> None:
    # datetime is a date subclass, but mixing the two breaks date arithmetic and comparisons.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a datetime.date, got {type(value).__name__}")
