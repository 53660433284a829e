"""Blueprint "tickets": the search gate on the forms, storing a ticket, the confirmation page.

The form view (``intake.views``) asks :func:`check_gate` before anything else: a request
without a valid search token for its own type is refused (:func:`refused`) and nothing is
read or stored. A valid request is stored by :func:`store_ticket` (ticket, files, both
e-mails in the outbox, the "ticket" event: one transaction) and the customer is sent to
``GET /ricevuta/<id>``, which only the session that submitted the ticket can see.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for

from . import analytics, flow, gate, mail
from .db import Ticket, get_session, utcnow
from .forms import Submission, request_type
from .formspec import DEPARTMENTS
from .gate import GateClaims, GateError, TokenMissing, TokenUsed
from .rules.office_hours import OFFICE_HOURS_TEXT, ticket_review
from .store import create_ticket, ticket_for_nonce

bp = Blueprint("tickets", __name__)

TOKEN_FIELD = "token"  # the hidden field (and, on GET, the query parameter) with the search token
# [[search token nonce, ticket ID], ...]: the confirmation pages this browser may see, and
# the searches whose form page says they were used (check_gate, on GET).
SESSION_SEARCHES = "searches"
REMEMBERED_TICKETS = 10
UNDELIVERABLE_MESSAGE = (
    "Non possiamo inviare e-mail a «{address}»: usa un indirizzo senza lettere accentate "
    "prima della @ (ad esempio mario.rossi@example.it)."
)

USED_BY_SOMEONE_ELSE = (  # TokenUsed's refusal, on the form sent again instead of the search step
    "Questa richiesta è già stata inviata: ogni ricerca permette di aprire una sola richiesta. "
    "Quello che hai scritto è ancora qui sotto: copialo, poi torna ai risultati della ricerca "
    "per aprire una nuova richiesta."
)


class AlreadySubmitted(TokenUsed):
    """The search token already stored a ticket (``ticket_id``)."""

    def __init__(self, ticket_id: str):
        super().__init__(f"token already stored {ticket_id}")
        self.ticket_id = ticket_id


class UndeliverableAddress(ValueError):
    """The customer's address passed the form but cannot receive our mail (the store refuses it)."""

    def __init__(self, address: str):
        super().__init__(address)
        self.message = UNDELIVERABLE_MESSAGE.format(address=address)


@dataclass(frozen=True)
class SearchContext:
    """The search a form comes from: its token (sent back in a hidden field) and its claims."""

    token: str
    claims: GateClaims

    @property
    def query(self) -> str:
        return self.claims.query

    @property
    def again(self) -> str:
        """Back to the results of this search (a new search, the same type chosen)."""
        return url_for("flow.search_step", q=self.claims.query, tipo=self.claims.request_type)


def check_gate(tipo: str) -> SearchContext:
    """The search token of this request (hidden field on POST, query on GET), checked.

    Whether the token already stored a ticket is the database's answer on POST, where it
    matters. Showing the form (GET) asks only this browser's session, which remembers the
    searches it submitted: the page is the intake's most requested one and stores nothing,
    and a used token opened in another browser gets the form, whose submission the database
    then refuses (the form comes back with everything typed, see :func:`refused`).

    The claims are also kept in ``g`` for the outcome receivers (the deflection counter).

    :raise GateError: missing, forged, expired, of another type, or already used.
    """
    source = request.form if request.method == "POST" else request.args
    token = source.get(TOKEN_FIELD, "")
    claims = gate.verify(token, tipo)
    if request.method == "POST":
        used = ticket_for_nonce(get_session(), claims.nonce)
    else:
        used = submitted_searches().get(claims.nonce)
    if used is not None:
        raise AlreadySubmitted(used)
    g.search_claims = claims
    return SearchContext(token, claims)


def refused(refusal: GateError, tipo: str):
    """The answer to a form request without a usable token; nothing was stored.

    - a plain link to a form (GET, no token): the search step, with the type chosen;
    - the same form sent twice by its own customer (a double click, Back and send): the
      confirmation of the ticket it stored;
    - a form sent with a search another session already used: the form again, everything
      typed kept, with why (403);
    - anything else: the search step again, with why (HTTP 428 or 403), the subject typed
      as the description to search, and a link to the customer's own ticket if the search
      already opened one.
    """
    if request.method == "GET" and isinstance(refusal, TokenMissing):
        return redirect(url_for("flow.search_step", tipo=tipo), code=303)
    own = refusal.ticket_id if isinstance(refusal, AlreadySubmitted) and refusal.ticket_id in submitted() else None
    stored = get_session().get(Ticket, own) if own and request.method == "POST" else None
    if stored is not None and stored.request_type == tipo:
        return redirect(url_for("tickets.confirmation", ticket_id=own), code=303)
    current_app.logger.info("form %s refused: %s", tipo, refusal.detail or type(refusal).__name__)
    if isinstance(refusal, AlreadySubmitted) and own is None and request.method == "POST":
        # Someone else's search (a link shared or opened in another browser, whose form page
        # only asked its own session): what this customer typed comes back with the refusal.
        from .errors import render_form_again

        page = render_form_again(USED_BY_SOMEONE_ELSE, refusal.status)
        if page is not None:
            return page
    query = request.form.get("oggetto", "") if request.method == "POST" else ""
    return flow.refusal_page(refusal, chosen=tipo, query=query, ticket_id=own)


def honeypot_answer(tipo: str):
    """What a bot that filled the honeypot gets: a plain "received" page (200); nothing stored.

    Neutral on purpose (no error to learn from); a person who somehow filled it is told to
    ask again if no confirmation e-mail arrives.
    """
    current_app.logger.info("form %s: honeypot filled, nothing stored", tipo)
    return render_template("tickets/received.html")


def store_ticket(submission: Submission, claims: GateClaims) -> Ticket:
    """Store the ticket of a valid request and remember it in the customer's session.

    :raise UndeliverableAddress: the customer's address cannot receive mail; nothing stored.
    :raise AlreadySubmitted: a concurrent request stored a ticket with this token first.
    """
    try:
        mail.parse_address(submission.email)
    except ValueError:
        raise UndeliverableAddress(submission.email) from None
    settings = current_app.extensions["intake.settings"]
    now = utcnow()
    db_session = get_session()
    try:
        ticket = create_ticket(
            db_session,
            submission.for_ticket(),
            submission.attachments,
            claims.nonce,
            mail=current_app.extensions["intake.mail"],
            attachments_dir=settings.attachments_dir,
            examined_when=ticket_review(now).sentence,
            prefix=settings.ticket_id_prefix,
            search_query=claims.query,
            now=now,
        )
    except TokenUsed:
        raise AlreadySubmitted(ticket_for_nonce(db_session, claims.nonce) or "") from None
    remember(ticket.id, claims.nonce)
    sender = current_app.extensions.get("intake.sender")
    if sender is not None:
        sender.wake()  # deliver now, not at the next tick
    return ticket


def remember(ticket_id: str, search_nonce: str) -> None:
    """Let this browser session see the confirmation page of ``ticket_id``, and know that
    the search with ``search_nonce`` stored it (its form page then says so, see check_gate)."""
    searches = [[nonce, ticket] for nonce, ticket in submitted_searches().items() if nonce != search_nonce]
    session[SESSION_SEARCHES] = [*searches, [search_nonce, ticket_id]][-REMEMBERED_TICKETS:]


def submitted() -> list[str]:
    """The tickets this session stored (it may see their confirmation pages)."""
    return list(submitted_searches().values())


def submitted_searches() -> dict[str, str]:
    """The searches this session submitted: their token's nonce -> the ticket each stored."""
    value = session.get(SESSION_SEARCHES)
    if not isinstance(value, list):
        return {}
    return {str(pair[0]): str(pair[1]) for pair in value if isinstance(pair, list) and len(pair) == 2}


@bp.get("/ricevuta/<ticket_id>")
def confirmation(ticket_id: str):
    """The ticket's ID, department, what happens next and when it will be examined.

    :raise 404: not a ticket submitted from this browser session (its data is personal).
    """
    if ticket_id not in submitted():
        abort(404)
    ticket = get_session().get(Ticket, ticket_id)
    if ticket is None:
        abort(404)
    item = request_type(ticket.request_type)
    return render_template(
        "tickets/confirmation.html",
        ticket=ticket,
        title=item.definition.title if item else ticket.request_type,
        department=DEPARTMENTS.get(ticket.department, ticket.department),
        review=ticket_review(ticket.created_at),
        office_hours=OFFICE_HOURS_TEXT,
    )


def count_deflection(app, definition, deflection, **_):
    """Receiver of ``request_deflected``: the answers sent the customer elsewhere (e.g. SMTP-esterno)."""
    claims = g.get("search_claims")
    analytics.record_event(
        get_session(),
        "deflection",
        query=claims.query if claims else None,
        request_type=definition.name,
        reason=deflection.reason,
    )


def init_app(app) -> None:
    from .views import request_deflected

    request_deflected.connect(count_deflection, app)
