"""Help-center pages: reading (``/help/...``), the one search, suggestions for the request form
(JSON), and the staff's article editor (``/help/manage/...``). Thin: parse, ask the policy, call a
service, render."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, send_file, session, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from sqlalchemy import select

from app import unit_of_work
from app.accounts.models import Organization
from app.extensions import db
from app.helpcenter import services
from app.helpcenter.forms import VISIBILITY_LABELS, ArticleForm
from app.helpcenter.models import Article, ArticleFile
from app.helpcenter.policy import can_manage_articles, can_read, visible_articles_clause
from app.helpcenter.search import search
from app.security.params import int_arg
from app.helpcenter.text import article_html, highlight, plain, terms
from app.templating import LANGUAGE_NAMES, localized

bp = Blueprint("helpcenter", __name__, subdomain="<tenant>", url_prefix="/help")


def _language() -> str:
    return str(get_locale())


def _staff_only() -> None:
    if not can_manage_articles(current_user):
        abort(404)


def _article_or_404(slug: str) -> Article:
    article = db.session.execute(select(Article).where(Article.slug == slug)).scalar_one_or_none()
    if article is None or not can_read(current_user, article):
        abort(404)  # the same answer whether it does not exist or is not for you
    return article


def _files_prefix(article: Article) -> str:
    return url_for("helpcenter.article_file", slug=article.slug, file_id=0).rsplit("/", 1)[0] + "/"


@bp.app_template_filter("article_html")
def _article_html_filter(article: Article):
    return article_html(article.body, _files_prefix(article))


@bp.get("/")
def index():
    languages = list(dict.fromkeys([_language(), g.tenant.default_locale]))
    articles = db.session.scalars(
        select(Article)
        .where(visible_articles_clause(current_user, g.tenant.id), Article.language.in_(languages))
        .order_by(Article.category, Article.title)
    ).all()
    by_category: dict[str, list] = {}
    for article in articles:
        by_category.setdefault(article.category or _("General"), []).append(article)
    return render_template("helpcenter/index.html", by_category=by_category)


@bp.get("/search")
def search_page():
    query = (request.args.get("q") or "").strip()[:200]
    results = (
        search(
            current_user,
            query,
            tenant_id=g.tenant.id,
            language=_language(),
            default_language=g.tenant.default_locale,
            limit=30,
        )
        if query
        else []
    )
    return render_template("helpcenter/search.html", query=query, results=results)


@bp.get("/suggest")
def suggest():
    """Articles for what a customer is typing (the new-request form); ``context=request`` records them."""
    query = (request.args.get("q") or "").strip()[:200]
    limit = min(int_arg(request.args.get("limit"), 5, minimum=1), 10)
    results = (
        search(
            current_user,
            query,
            tenant_id=g.tenant.id,
            language=_language(),
            default_language=g.tenant.default_locale,
            kinds=("article",),
            mode="any",
            limit=limit,
        )
        if len(query) >= 3
        else []
    )
    if results and request.args.get("context") == "request" and current_user.is_authenticated:
        services.record_suggestions(current_user, services.visit_id(session), [r.article.id for r in results], "shown")
    return jsonify(
        articles=[
            {
                "title": r.article.title,
                "title_html": str(r.title),
                "snippet_html": str(r.snippet),
                "url": r.url + ("?from=suggestion" if request.args.get("context") == "request" else ""),
                "link": url_for("helpcenter.article", slug=r.article.slug, _external=True),
                "markdown": f"[{r.article.title}]({url_for('helpcenter.article', slug=r.article.slug, _external=True)})",
            }
            for r in results
        ]
    )


@bp.get("/articles/<slug>")
def article(slug):
    article = _article_or_404(slug)
    if (
        request.args.get("from") == "suggestion"
        and current_user.is_authenticated
        and not can_manage_articles(current_user)
    ):
        services.record_suggestions(current_user, services.visit_id(session), [article.id], "opened")
    words = terms(request.args.get("q"))
    return render_template(
        "helpcenter/article.html",
        article=article,
        files=services.files_of(article),
        title=highlight(article.title, words) if words else article.title,
        staff=can_manage_articles(current_user),
    )


@bp.get("/articles/<slug>/files/<int:file_id>")
def article_file(slug, file_id):
    from app.storage import StorageError, get_storage
    from app.storage.files import safe_filename

    article = _article_or_404(slug)
    stored = db.session.get(ArticleFile, file_id)
    if stored is None or stored.article_id != article.id:
        abort(404)
    try:
        stream = get_storage().open(stored.storage_key)
    except StorageError:
        abort(503)
    # Pictures are shown in the article; anything else is a download. Either way the browser must not
    # guess another type, and the sandbox policy stops anything active even if opened.
    response = send_file(
        stream,
        mimetype=stored.content_type,
        as_attachment=not stored.is_image,
        download_name=safe_filename(stored.filename),
        max_age=300,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- the staff's editor ----------------------------------------------------------------------------


@bp.get("/manage/")
def manage():
    _staff_only()
    articles = db.session.scalars(select(Article).order_by(Article.updated_at.desc(), Article.id.desc())).all()
    return render_template("helpcenter/manage.html", articles=articles, language_names=LANGUAGE_NAMES)


def _editor_form(article: Article | None = None) -> ArticleForm:
    from app.catalog.services import portal_catalog

    form = ArticleForm()
    from wtforms.fields.choices import SelectChoice

    form.language.choices = [SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in g.tenant.locales]
    form.portal.choices = [SelectChoice("", _("— every service —"))] + [
        SelectChoice(str(p.id), localized(p.name)) for p in portal_catalog(g.tenant)
    ]
    form.visibility.choices = [SelectChoice(key, str(label)) for key, label in VISIBILITY_LABELS.items()]
    form.organizations.choices = [
        SelectChoice(o.id, o.name) for o in db.session.scalars(select(Organization).order_by(Organization.name))
    ]
    if request.method == "GET":
        data = (
            services.article_data(article)
            if article
            else services.ArticleData(
                title="", language=_language() if _language() in g.tenant.locales else g.tenant.default_locale
            )
        )
        form.title.data, form.slug.data, form.body.data = data.title, data.slug, data.body
        form.language.data, form.category.data, form.visibility.data = data.language, data.category, data.visibility
        form.portal.data = str(data.portal_id or "")
        form.organizations.data = data.organization_ids
    return form


def _form_data(form: ArticleForm) -> services.ArticleData:
    return services.ArticleData(
        title=form.title.data or "",
        body=form.body.data or "",
        language=form.language.data,
        category=form.category.data or "",
        slug=(form.slug.data or "").strip(),
        portal_id=int(form.portal.data) if (form.portal.data or "").isdigit() else None,
        visibility=form.visibility.data,
        organization_ids=list(form.organizations.data or []),
    )


def _save(form: ArticleForm, article: Article | None):
    publish = request.form.get("action") == "publish"
    try:
        if article is None:
            article = services.create_article(g.tenant, current_user, _form_data(form), publish=publish)
        else:
            article = services.update_article(g.tenant, article, current_user, _form_data(form))
            if publish and not article.is_published:
                services.set_published(article, current_user, True)
        services.add_files(article, request.files.getlist(form.files.name), current_user)
    except services.ArticleError as error:
        unit_of_work.discard()
        target = getattr(form, error.field, None) if error.field else None
        (target.errors if target is not None and isinstance(target.errors, list) else form.form_errors).append(
            error.message
        )
        return None
    flash(_("The article is published.") if article.is_published else _("The draft is saved."), "success")
    return redirect(url_for("helpcenter.edit", article_id=article.id))


@bp.route("/manage/new", methods=["GET", "POST"])
def new():
    _staff_only()
    form = _editor_form()
    if form.validate_on_submit():
        done = _save(form, None)
        if done:
            return done
    return render_template("helpcenter/edit.html", form=form, article=None, files=[]), 200 if not form.errors else 422


@bp.route("/manage/<int:article_id>", methods=["GET", "POST"])
def edit(article_id):
    _staff_only()
    article = db.session.get(Article, article_id) or abort(404)
    form = _editor_form(article)
    if form.validate_on_submit():
        done = _save(form, article)
        if done:
            return done
    return render_template(
        "helpcenter/edit.html",
        form=form,
        article=article,
        files=services.files_of(article),
        files_prefix=_files_prefix(article),
    ), 200 if not form.errors else 422


@bp.post("/manage/<int:article_id>/status")
def set_status(article_id):
    _staff_only()
    article = db.session.get(Article, article_id) or abort(404)
    published = request.form.get("publish") == "1"
    services.set_published(article, current_user, published)
    flash(
        _("The article is published.") if published else _("The article is a draft again: customers no longer see it."),
        "success",
    )
    return redirect(url_for("helpcenter.edit", article_id=article.id))


@bp.get("/manage/<int:article_id>/history")
def history(article_id):
    _staff_only()
    article = db.session.get(Article, article_id) or abort(404)
    return render_template(
        "helpcenter/history.html",
        article=article,
        versions=services.versions(article),
        preview=lambda text: plain(text)[:300],
    )


@bp.post("/manage/<int:article_id>/history/<int:number>/restore")
def restore(article_id, number):
    _staff_only()
    article = db.session.get(Article, article_id) or abort(404)
    try:
        services.restore_version(g.tenant, article, number, current_user)
    except services.ArticleError as error:
        unit_of_work.discard()
        flash(error.message, "error")
        return redirect(url_for("helpcenter.history", article_id=article.id))
    flash(_("Version %(number)d is the current text again.", number=number), "success")
    return redirect(url_for("helpcenter.edit", article_id=article.id))


@bp.post("/manage/from-request/<reference>")
def from_request(reference):
    """Staff: turn a resolved request's answer into an article draft, then edit it."""
    from app.tickets.models import Ticket
    from app.tickets.policy import can

    _staff_only()
    ticket = db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one_or_none()
    if ticket is None or not can(current_user, "view", ticket):
        abort(404)
    try:
        article = services.draft_from_ticket(g.tenant, ticket, current_user)
    except services.ArticleError as error:
        unit_of_work.discard()
        flash(error.message, "error")
        return redirect(url_for("tickets.detail", reference=reference))
    flash(
        _(
            "A draft was made from %(reference)s. Check it, remove personal details, then publish it.",
            reference=reference,
        ),
        "success",
    )
    return redirect(url_for("helpcenter.edit", article_id=article.id))
