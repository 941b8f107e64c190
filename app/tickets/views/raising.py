"""Raising a request: the tenant's form for one request type, filled in by the customer (or by an
agent on a customer's behalf), with its files and whom to share it with."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts import users as accounts
from app.accounts.policy import can_raise_requests, is_staff
from app.accounts.registration import create_contact_account
from app.catalog.forms import build_request_form, form_name, prefill, stored_values
from app.catalog.services import find_request_type, form_fields
from app.extensions import db
from app.templating import localized
from app.tenancy.settings import tenant_settings
from app.tickets import errors, services
from app.tickets.forms import PRIVATE, add_request_options
from app.tickets.models import Ticket
from app.tickets.views.base import bp, organizations_of


@bp.route("/portals/<portal_key>/<type_key>/new", methods=["GET", "POST"])
@login_required
def new_request(portal_key, type_key):
    found = find_request_type(g.tenant, portal_key, type_key)
    if found is None:
        abort(404)
    portal, request_type = found
    fields = form_fields(g.tenant, request_type.form_id)
    staff = is_staff(current_user)
    organizations = organizations_of(current_user)
    form_class = build_request_form(fields, request_type.key, localized, staff=staff)
    form_class = add_request_options(
        form_class,
        organizations=organizations,
        staff=staff,
        default_sharing=tenant_settings(g.tenant).default_sharing,
    )
    form = form_class()
    if request.method == "GET":
        prefill(form, request.args, fields)
    if request.method == "POST" and form.validate_on_submit():
        try:
            ticket = _raise(form, fields, request_type, organizations, staff)
        except (errors.RequestError, accounts.AccountError) as error:
            target = None
            if error.field:
                target = getattr(form, form_name(error.field), None) or getattr(form, error.field, None)
            if target is not None:
                target.errors = list(target.errors) + [error.message]
            else:
                form.form_errors.append(error.message)
        else:
            flash(_("Your request %(reference)s has been received.", reference=ticket.reference), "success")
            return redirect(url_for("tickets.detail", reference=ticket.reference))
    status = 200 if not form.errors else 422
    return render_template(
        "tickets/new.html",
        form=form,
        portal=portal,
        request_type=request_type,
        fields=form._infos,
        form_name=form_name,
        can_raise=can_raise_requests(current_user),
    ), status


def _raise(form, fields, request_type, organizations, staff) -> Ticket:
    requester = current_user._get_current_object()
    if staff and getattr(form, "on_behalf_of", None) is not None and form.on_behalf_of.data:
        requester, _created = create_contact_account(form.on_behalf_of.data)
        db.session.flush()
    share_ids = []
    choice = form.share_with.data if hasattr(form, "share_with") else PRIVATE
    if choice and choice != PRIVATE:
        share_ids = [int(choice.split(":", 1)[1])]
    uploads = request.files.getlist(form_name("attachments"))
    return services.raise_request(
        tenant=g.tenant,
        request_type_id=request_type.id,
        requester=requester,
        created_by=current_user._get_current_object(),
        values=stored_values(form, fields),
        uploads=uploads,
        share_with_organization_ids=share_ids,
    )
