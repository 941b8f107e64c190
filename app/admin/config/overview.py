"""The console's start page and the audit log of applied changes."""

from __future__ import annotations

from flask import render_template, request

from app.admin import services
from app.admin.config.base import bp, current
from app.security.params import page_arg

PER_PAGE = 50


@bp.get("/")
def index():
    return render_template("admin/config/index.html", d=current())


@bp.get("/audit")
def audit():
    page = page_arg(request.args.get("page"))
    total, changes = services.recent_changes(limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render_template(
        "admin/config/audit.html",
        changes=changes,
        total=total,
        page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
    )
