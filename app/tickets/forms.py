"""The parts of the new-request form that are the same at every tenant: sharing and raising on behalf."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, Length, Optional

PRIVATE = "private"


def add_request_options(form_class, *, organizations, staff: bool, default_sharing: str):
    """Add "Share with" (when the requester has organizations) and, for agents, "Raise on behalf of"."""
    attrs = {}
    if organizations:
        choices = [SelectChoice(PRIVATE, str(_l("Only me and the people I add")))]
        choices += [
            SelectChoice(f"org:{org.id}", str(_l("My organization: %(name)s", name=org.name))) for org in organizations
        ]
        default = choices[1].value if default_sharing == "organization" else PRIVATE
        attrs["share_with"] = SelectField(
            _l("Share with"),
            choices=choices,
            default=default,
            description=_l("Members of the organization can see and follow the request."),
        )
    if staff:
        attrs["on_behalf_of"] = EmailField(
            _l("Raise on behalf of"),
            validators=[Optional(), Email(), Length(max=320)],
            description=_l(
                "The customer's e-mail address (for example when they called). Leave empty to raise it yourself."
            ),
        )
    return type(form_class.__name__, (form_class,), attrs) if attrs else form_class
