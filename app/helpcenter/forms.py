"""The article editor's form. Labels are lazy so that each request renders them in its own language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

VISIBILITY_LABELS = {
    "public": _l("Everyone, also without logging in"),
    "customers": _l("Logged-in customers"),
    "organizations": _l("Only the chosen organizations"),
}


class ArticleForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    slug = StringField(
        _l("Address (letters, digits and hyphens; empty: from the title)"), validators=[Optional(), Length(max=100)]
    )
    language = SelectField(_l("Language"))
    category = StringField(_l("Category"), validators=[Optional(), Length(max=120)])
    portal = SelectField(_l("Service"), validators=[Optional()])
    visibility = SelectField(_l("Who may read it"))  # choices set per request (translated labels)
    organizations = SelectMultipleField(_l("Organizations"), coerce=int, validators=[Optional()])
    body = TextAreaField(
        _l("Text (Markdown: ## headings, **bold**, lists, links, images of the article's files)"),
        validators=[Optional()],
    )
    files = MultipleFileField(_l("Add files or images"))
