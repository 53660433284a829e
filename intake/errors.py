"""Italian error pages: unknown address (404), request too large (413), database down (503), the rest."""

from __future__ import annotations

from flask import current_app, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .attachments import human_size
from .forms import request_type

TOO_LARGE_MESSAGE = (
    "La richiesta inviata supera il limite di {limit} e non è stata ricevuta. Gli allegati possono "
    "essere al massimo {max_size} ciascuno e {total_size} in totale: sceglili di nuovo rispettando questi limiti."
)


def too_large(error: RequestEntityTooLarge):
    """A request above MAX_CONTENT_LENGTH: say so in Italian, on the form itself when it was one.

    The body was not read, so what the customer typed cannot be shown again: the page says
    so, and the browser's Back button usually still has it.
    """
    from .views import attachment_limits, render_form

    limits = attachment_limits()
    limit = request.max_content_length or 0
    message = TOO_LARGE_MESSAGE.format(limit=human_size(limit), **limits)
    item = request_type((request.view_args or {}).get("tipo", "")) if request.endpoint == "forms.form" else None
    if item is None:
        return render_template("errors/error.html", title="Richiesta troppo grande", message=message), 413
    form = item.form_class(formdata=None)
    files = [spec.name for spec in item.definition.fields if spec.type == "files"]
    if files:
        form[files[0]].errors = [message]
    else:
        form.form_errors.append(message)
    return render_form(item, form, status=413, lost_values=True)


DATABASE_DOWN_FORM = (
    "Non è stato possibile registrare la richiesta per un problema temporaneo del servizio: "
    "non abbiamo salvato nulla. I dati che hai scritto sono ancora qui sotto: riprova a inviare "
    "tra qualche minuto."
)
DATABASE_DOWN_PAGE = (
    "Il servizio richieste è momentaneamente non disponibile e non ha salvato nulla. "
    "Riprova tra qualche minuto."
)


def render_form_again(message: str, status: int):
    """The form just POSTed, with everything typed and ``message`` on top, answered with ``status``.

    For refusals that are nobody's fault in the answers (database down, too many requests):
    the search token is still unused, so sending again works. None when the request is not
    a form with a usable search token (the caller then shows a plain page).
    """
    from .forms import request_type
    from .gate import GateError, verify
    from .tickets import TOKEN_FIELD, SearchContext
    from .views import render_form

    tipo = (request.view_args or {}).get("tipo", "")
    item = request_type(tipo) if request.endpoint == "forms.form" and request.method == "POST" else None
    if item is None:
        return None
    token = request.form.get(TOKEN_FIELD, "")
    try:
        claims = verify(token, tipo)
    except GateError:
        return None
    form = item.form_class()
    form.validate()  # errors in the answers are shown too: one round trip fixes everything
    form.form_errors.append(message)
    return render_form(item, form, status=status, search=SearchContext(token, claims))


def database_unavailable(error: Exception):
    """The database cannot be reached (down, restarting, locked): 503, nothing stored, nothing lost.

    Whatever the request had written is rolled back with its transaction; a form comes back
    with everything typed. The log names the error class only: its text may quote values.
    """
    from .db import discard_session

    discard_session()
    current_app.logger.error(
        "database unavailable during %s %s: %s", request.method, request.endpoint, type(error).__name__
    )
    page = render_form_again(DATABASE_DOWN_FORM, 503)
    if page is None:
        page = render_template("errors/error.html", title="Servizio non disponibile", message=DATABASE_DOWN_PAGE, code=503), 503
    response = current_app.make_response(page)
    response.headers["Retry-After"] = "60"
    return response


MESSAGES = {
    400: ("Richiesta non valida", "La richiesta non è stata compresa. Torna alla pagina precedente e riprova."),
    403: ("Accesso negato", "Non è possibile accedere a questa pagina."),
    404: ("Pagina non trovata", "L'indirizzo non corrisponde a nessuna pagina del servizio richieste."),
    405: ("Operazione non permessa", "Questa pagina non accetta questo tipo di richiesta."),
    500: ("Errore del servizio", "Si è verificato un errore imprevisto. Riprova tra qualche minuto."),
}


def http_error(error: HTTPException):
    """Every other HTTP error as an Italian page with a way back."""
    code = error.code or 500
    title, message = MESSAGES.get(code, (f"Errore {code}", "La richiesta non può essere soddisfatta."))
    return render_template("errors/error.html", title=title, message=message, code=code), code


def init_app(app) -> None:
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.register_error_handler(HTTPException, http_error)
    for unavailable in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(unavailable, database_unavailable)
