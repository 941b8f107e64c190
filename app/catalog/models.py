"""What customers can ask for: portals (service projects), request types, forms and their fields."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db_types import LocalizedText
from app.extensions import Model
from app.tenancy.scoping import TenantScoped

FIELD_TYPES = (
    "text",
    "textarea",
    "number",
    "date",
    "select",
    "multiselect",
    "checkbox",
    "email",
    "phone",
    "files",
)
# Field keys with a home on the ticket itself rather than in ticket_field_values.
SYSTEM_FIELDS = ("summary", "description", "attachments")


class Portal(TenantScoped, Model):
    __tablename__ = "portals"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[dict] = mapped_column(LocalizedText)
    description: Mapped[dict] = mapped_column(LocalizedText, default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)

    request_types: Mapped[list["RequestType"]] = relationship(back_populates="portal", order_by="RequestType.position")


class Form(TenantScoped, Model):
    """A named set of fields; several request types may share one (Flexinform's TAO form)."""

    __tablename__ = "forms"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(63))

    fields: Mapped[list["Field"]] = relationship(
        back_populates="form", order_by="Field.position", cascade="all, delete-orphan"
    )


class Field(TenantScoped, Model):
    __tablename__ = "fields"
    __table_args__ = (UniqueConstraint("form_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(63))
    type: Mapped[str] = mapped_column(String(20))
    label: Mapped[dict] = mapped_column(LocalizedText)
    help: Mapped[dict] = mapped_column(LocalizedText, default=dict)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{"key": "bug", "label": {"en": "Bug", ...}}, ...] for select and multiselect
    options: Mapped[list] = mapped_column(JSON, default=list)
    # {"field": "category", "in": ["bug"]} or {"request_type": ["broken"]}; null = always shown
    visible_when: Mapped[dict | None] = mapped_column(JSON)
    # The value stored when the field is hidden by its condition (CRM-service's "Severity 10").
    value_when_hidden: Mapped[object | None] = mapped_column(JSON)
    default: Mapped[object | None] = mapped_column(JSON)
    # Set by the vendor, never by the customer (a fixed value is not shown on the form).
    fixed_value: Mapped[object | None] = mapped_column(JSON)
    # Who edits it: "customer" (on the form) or "agent" (set by support, e.g. Festum's priority).
    editable_by: Mapped[str] = mapped_column(String(20), default="customer")
    position: Mapped[int] = mapped_column(Integer, default=0)

    form: Mapped[Form] = relationship(back_populates="fields")


class RequestType(TenantScoped, Model):
    __tablename__ = "request_types"
    __table_args__ = (UniqueConstraint("tenant_id", "portal_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[dict] = mapped_column(LocalizedText)
    description: Mapped[dict] = mapped_column(LocalizedText, default=dict)
    icon: Mapped[str | None] = mapped_column(String(63))
    position: Mapped[int] = mapped_column(Integer, default=0)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id"), index=True)

    portal: Mapped[Portal] = relationship(back_populates="request_types")
    form: Mapped[Form] = relationship()
