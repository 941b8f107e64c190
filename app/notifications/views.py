"""Where the links of notification e-mails land: view the request, stop notifications (no login;
opening a link only asks, a button acts), and rate the request (Exea's satisfaction survey). Pages are in the recipient's language."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext as _
from sqlalchemy import select

from app.accounts.models import User
from app.extensions import csrf, db
from app.outbox import links
from app.outbox.services import recipient_locale
from app.tickets.models import Ticket

bp = Blueprint("notifications", __name__, subdomain="<tenant>", url_prefix="/email")


def _read(purpose: str, token: str):
    """(payload, ticket, user) of a genuine link, or the rendered problem page."""
    try:
        data = links.read_link_token(purpose, token, g.tenant.id)
    except links.LinkError as exc:
        message = (
            _("This link has expired. Open the request on the portal instead.")
            if exc.expired
            else _("This link is not valid. Open the request on the portal instead.")
        )
        return None, render_template("notifications/link_problem.html", message=message), None
    ticket = db.session.get(Ticket, data["k"])
    if ticket is None:
        abort(404)
    user = db.session.get(User, data["u"]) if data.get("u") else None
    return data, ticket, user


@bp.get("/<token>/view")
def view(token):
    data, ticket, _user = _read(links.VIEW, token)
    if data is None:
        return ticket, 400
    return redirect(url_for("tickets.detail", reference=ticket.reference))


@bp.route("/<token>/unsubscribe", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" without a form of ours;
# the signed token is the authority (it is read and verified before anything changes).
def unsubscribe(token):
    """GET asks (mail scanners open links); POST stops the notifications: our button, or the
    mail client's RFC 8058 one-click POST, which gets an empty 204."""
    from app.notifications.services import stop_notifications

    data, ticket, user = _read(links.UNSUBSCRIBE, token)
    if data is None:
        return ticket, 400
    if request.method == "GET":
        with force_locale(recipient_locale(user)):
            return render_template("notifications/unsubscribe.html", ticket=ticket, token=token, user=user)
    stop_notifications(ticket, user, data["a"])
    if request.form.get("List-Unsubscribe") == "One-Click":
        return "", 204
    with force_locale(recipient_locale(user)):
        return render_template("notifications/unsubscribed.html", ticket=ticket, token=token, user=user)


@bp.post("/<token>/resubscribe")
def resubscribe(token):
    from app.tickets.conversation import set_watching

    data, ticket, user = _read(links.UNSUBSCRIBE, token)
    if data is None:
        return ticket, 400
    if user is not None:
        set_watching(ticket, user, True)
    with force_locale(recipient_locale(user)):
        return render_template(
            "notifications/unsubscribed.html", ticket=ticket, token=token, user=user, resubscribed=user is not None
        )


@bp.route("/<token>/rate", methods=["GET", "POST"])
def rate(token):
    """GET (the 1–5 link clicked in the e-mail) shows that score preselected and records nothing,
    since mail scanners open links; the POST of the form records the rating and the comment."""
    from app.automation.models import SatisfactionRating
    from app.automation.services import rate_ticket

    data, ticket, user = _read(links.RATE, token)
    if data is None:
        return ticket, 400
    if user is None or user.id != ticket.requester_id:
        abort(404)
    raw = request.values.get("score", "")
    valid = raw in ("1", "2", "3", "4", "5")
    error = None
    thanks = False
    if request.method == "POST":
        if valid:
            rate_ticket(ticket, user, int(raw), request.form.get("comment"))
            thanks = True
        else:
            error = _("Please choose a rating from 1 to 5.")
    elif raw and not valid:
        error = _("Please choose a rating from 1 to 5.")
    rating = db.session.execute(
        select(SatisfactionRating).where(
            SatisfactionRating.ticket_id == ticket.id, SatisfactionRating.user_id == user.id
        )
    ).scalar_one_or_none()
    chosen = int(raw) if valid else (rating.score if rating else None)
    with force_locale(recipient_locale(user)):
        return render_template(
            "notifications/rate.html",
            ticket=ticket,
            token=token,
            rating=rating,
            error=error,
            thanks=thanks,
            chosen=chosen,
        ), 400 if error else 200
