"""Italian error pages: unknown address (404), request too large (413), and the rest."""

from __future__ import annotations

from flask import render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .attachments import human_size
from .forms import request_type

TOO_LARGE_MESSAGE = (
    "La richiesta inviata supera il limite di {limit} e non è stata ricevuta. Gli allegati possono "
    "essere al massimo {max_size} ciascuno e {total_size} in totale: sceglieteli di nuovo rispettando questi limiti."
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


MESSAGES = {
    400: ("Richiesta non valida", "La richiesta non è stata compresa. Tornate alla pagina precedente e riprovate."),
    403: ("Accesso negato", "Non è possibile accedere a questa pagina."),
    404: ("Pagina non trovata", "L'indirizzo non corrisponde a nessuna pagina del servizio richieste."),
    405: ("Operazione non permessa", "Questa pagina non accetta questo tipo di richiesta."),
    500: ("Errore del servizio", "Si è verificato un errore imprevisto. Riprovate tra qualche minuto."),
}


def http_error(error: HTTPException):
    """Every other HTTP error as an Italian page with a way back."""
    code = error.code or 500
    title, message = MESSAGES.get(code, (f"Errore {code}", "La richiesta non può essere soddisfatta."))
    return render_template("errors/error.html", title=title, message=message, code=code), code


def init_app(app) -> None:
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.register_error_handler(HTTPException, http_error)
