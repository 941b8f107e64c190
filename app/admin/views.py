"""Tenant admin area: people and organizations. Agents see people and invite customers; only tenant
admins change roles, e-mail addresses, access and organizations (app.accounts.policy)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from wtforms.fields.choices import SelectChoice

from app.accounts import registration, users as accounts
from app.accounts.forms import InviteForm, MemberForm, OrganizationForm, UserEditForm, show_error
from app.accounts.models import ROLE_ADMIN, ROLE_AGENT, ROLE_CUSTOMER, Membership, Organization, User
from app.accounts.organizations import create_organization, end_membership, set_membership
from app.accounts.policy import can_change_email, can_invite, can_invite_as, can_manage_users, is_staff
from app import unit_of_work
from app.extensions import db
from app.security.params import page_arg

bp = Blueprint("admin", __name__, subdomain="<tenant>", url_prefix="/admin")
PAGE_SIZE = 50
ROLE_LABELS = {ROLE_CUSTOMER: _l("Customer"), ROLE_AGENT: _l("Agent"), ROLE_ADMIN: _l("Tenant admin")}


@bp.before_request
@login_required
def _staff_only():
    if not is_staff(current_user):
        abort(404)


def _require(allowed: bool) -> None:
    if not allowed:
        abort(403)


def _role_choices():
    return [SelectChoice(key, str(label)) for key, label in ROLE_LABELS.items()]


def _organization_choices():
    orgs = db.session.scalars(select(Organization).order_by(Organization.name)).all()
    return [SelectChoice("", _("— none —"))] + [SelectChoice(str(o.id), o.name) for o in orgs]


@bp.get("/users")
def users():
    query = (request.args.get("q") or "").strip()
    role = request.args.get("role") or ""
    page = page_arg(request.args.get("page"))
    statement = select(User)
    if query:
        like = f"%{query.lower()}%"
        statement = statement.where(or_(func.lower(User.email).like(like), func.lower(User.name).like(like)))
    if role in ROLE_LABELS:
        statement = statement.where(User.role == role)
    total = db.session.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    people = db.session.scalars(statement.order_by(User.email).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    # Organizations of the listed people in one query (no N+1).
    rows = db.session.execute(
        select(Membership.user_id, Organization.name, Membership.is_admin)
        .join(Organization, Membership.organization_id == Organization.id)
        .where(Membership.user_id.in_([p.id for p in people] or [0]))
        .order_by(Organization.name)
    ).all()
    orgs_by_user: dict[int, list] = {}
    for user_id, name, is_admin in rows:
        orgs_by_user.setdefault(user_id, []).append((name, is_admin))
    return render_template(
        "admin/users.html",
        people=people,
        orgs_by_user=orgs_by_user,
        total=total,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        query=query,
        role=role,
        role_labels=ROLE_LABELS,
    )


@bp.route("/users/invite", methods=["GET", "POST"])
def invite():
    _require(can_invite(current_user))
    form = InviteForm()
    form.role.choices = (
        _role_choices()
        if can_manage_users(current_user)
        else [SelectChoice(ROLE_CUSTOMER, str(ROLE_LABELS[ROLE_CUSTOMER]))]
    )
    form.organization.choices = _organization_choices()
    if not can_invite_as(current_user, ROLE_CUSTOMER, org_admin=True):
        del form.org_admin  # agents invite plain members only
    if request.method == "GET":
        form.role.data = ROLE_CUSTOMER
    if request.method == "POST":
        _require(
            can_invite_as(
                current_user, request.form.get("role") or ROLE_CUSTOMER, org_admin=bool(request.form.get("org_admin"))
            )
        )
    if form.validate_on_submit():
        organization = db.session.get(Organization, int(form.organization.data)) if form.organization.data else None
        try:
            user = registration.invite(
                form.email.data,
                name=form.name.data or "",
                role=form.role.data,
                organization=organization,
                org_admin="org_admin" in form and form.org_admin.data,
                invited_by=current_user,
            )
        except accounts.AccountError as error:
            show_error(form, error)
        else:
            flash(_("Invitation sent to %(email)s.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/invite.html", form=form), 200 if not form.errors else 422


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_detail(user_id):
    user = db.session.get(User, user_id) or abort(404)
    if request.method == "POST":
        _require(can_manage_users(current_user))  # agents see people; tenant admins change them
    form = UserEditForm()
    form.role.choices = _role_choices()
    if request.method == "GET":
        form.name.data, form.email.data, form.role.data = user.name, user.email, user.role
    if form.validate_on_submit():
        email_requested = False
        try:
            if form.email.data.strip().lower() != user.email:
                _require(can_change_email(current_user))
                # Only asked for: the new address confirms it, the current one is told.
                email_requested = accounts.request_email_change(user, form.email.data, by=current_user)
            if form.role.data != user.role:
                accounts.change_role(user, form.role.data, by=current_user)
            if (form.name.data or "").strip() != user.name:
                user.name = (form.name.data or "").strip()
        except accounts.AccountError as error:
            unit_of_work.discard()  # nor the e-mail change asked for before the refused step
            show_error(form, error)
        else:
            if email_requested:
                flash(
                    _(
                        "We have sent a confirmation link to %(email)s. The address changes once that link is "
                        "opened, and %(old)s has been told about the request.",
                        email=accounts.normalize_email(form.email.data),
                        old=user.email,
                    ),
                    "success",
                )
            else:
                flash(_("Saved."), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    memberships = db.session.execute(
        select(Membership, Organization)
        .join(Organization, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user.id)
        .order_by(Organization.name)
    ).all()
    return render_template(
        "admin/user.html",
        user=user,
        form=form,
        memberships=memberships,
        role_labels=ROLE_LABELS,
        can_manage=can_manage_users(current_user),
    ), 200 if not form.errors else 422


@bp.post("/users/<int:user_id>/active")
def set_active(user_id):
    _require(can_manage_users(current_user))
    user = db.session.get(User, user_id) or abort(404)
    active = request.form.get("active") == "1"
    try:
        accounts.set_active(user, active, by=current_user)
    except accounts.AccountError as error:
        flash(error.message, "error")
    else:
        flash(
            _("The account is active again.") if active else _("The account is deactivated: it can no longer log in."),
            "success",
        )
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/resend")
def resend_invitation(user_id):
    _require(can_invite(current_user))
    user = db.session.get(User, user_id) or abort(404)
    try:
        registration.resend_invitation(user, by=current_user)
    except accounts.AccountError as error:
        flash(error.message, "error")
    else:
        flash(_("Invitation sent to %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/organizations", methods=["GET", "POST"])
def organizations():
    if request.method == "POST":
        _require(can_manage_users(current_user))
    form = OrganizationForm()
    if form.validate_on_submit():
        try:
            org = create_organization(form.name.data, by=current_user)
        except accounts.AccountError as error:
            show_error(form, error)
        else:
            flash(_("Organization %(name)s created.", name=org.name), "success")
            return redirect(url_for("admin.organization_detail", org_id=org.id))
    counts = dict(
        db.session.execute(select(Membership.organization_id, func.count()).group_by(Membership.organization_id)).all()
    )
    orgs = db.session.scalars(select(Organization).order_by(Organization.name)).all()
    return render_template(
        "admin/organizations.html", orgs=orgs, counts=counts, form=form, can_manage=can_manage_users(current_user)
    ), 200 if not form.errors else 422


@bp.route("/organizations/<int:org_id>", methods=["GET", "POST"])
def organization_detail(org_id):
    org = db.session.get(Organization, org_id) or abort(404)
    if request.method == "POST":
        _require(can_manage_users(current_user))
    form = MemberForm()
    if form.validate_on_submit():
        user = accounts.find_user(form.email.data)
        if user is None:
            form.email.errors.append(_("No account uses %(email)s. Invite the person first.", email=form.email.data))
        else:
            set_membership(user, org, is_admin=form.is_admin.data, by=current_user)
            flash(_("%(email)s is now a member of %(name)s.", email=user.email, name=org.name), "success")
            return redirect(url_for("admin.organization_detail", org_id=org.id))
    members = db.session.execute(
        select(Membership, User)
        .join(User, Membership.user_id == User.id)
        .where(Membership.organization_id == org.id)
        .order_by(User.email)
    ).all()
    return render_template(
        "admin/organization.html", org=org, members=members, form=form, can_manage=can_manage_users(current_user)
    ), 200 if not form.errors else 422


@bp.post("/organizations/<int:org_id>/members/<int:user_id>")
def update_member(org_id, user_id):
    _require(can_manage_users(current_user))
    org = db.session.get(Organization, org_id) or abort(404)
    user = db.session.get(User, user_id) or abort(404)
    action = request.form.get("action")
    if action == "remove":
        end_membership(user, org, by=current_user)
        flash(_("%(email)s is no longer a member of %(name)s.", email=user.email, name=org.name), "success")
    elif action in ("make_admin", "make_member"):
        set_membership(user, org, is_admin=action == "make_admin", by=current_user)
        flash(_("Saved."), "success")
    else:
        abort(400)
    return redirect(url_for("admin.organization_detail", org_id=org.id))


@bp.get("/satisfaction")
def satisfaction():
    """Tenant admins: how customers rated their requests (count, average, distribution, recent)."""
    from app.accounts.policy import can_manage_users
    from app.automation.models import SatisfactionRating
    from app.automation.services import satisfaction_summary
    from app.tickets.models import Ticket

    _require(can_manage_users(current_user))
    recent = db.session.execute(
        select(SatisfactionRating, Ticket.reference, Ticket.summary, User)
        .join(Ticket, SatisfactionRating.ticket_id == Ticket.id)
        .join(User, SatisfactionRating.user_id == User.id)
        .order_by(SatisfactionRating.updated_at.desc(), SatisfactionRating.id.desc())
        .limit(50)
    ).all()
    return render_template("admin/satisfaction.html", summary=satisfaction_summary(), recent=recent)


@bp.get("/help-center")
def help_center():
    """Tenant admins: how many requests the help articles saved (app.helpcenter.services.deflection_summary)."""
    from app.helpcenter.services import deflection_summary

    _require(can_manage_users(current_user))
    days = 90
    return render_template("helpcenter/admin_deflection.html", summary=deflection_summary(days=days), days=days)


# The configuration console (tenant admins only): app/admin/config/, under /admin/config.
from app.admin.config import bp as _console_bp  # noqa: E402

bp.register_blueprint(_console_bp)

# The security trail (tenant admins only): app/admin/security.py, under /admin/security.
from app.admin.security import bp as _security_bp  # noqa: E402

bp.register_blueprint(_security_bp)
