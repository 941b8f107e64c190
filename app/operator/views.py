"""The platform side, on the bare domain."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session

from app.i18n.selection import SESSION_KEY, available_languages

bp = Blueprint("operator", __name__)


@bp.get("/")
def home():
    return render_template("operator/home.html")


@bp.post("/language")
def set_language():
    code = request.form.get("language", "")
    if code in available_languages():
        session[SESSION_KEY] = code
    return redirect("/")
