"""Who may read and who may edit help articles: the one place every page, list and search asks.

- Staff (agents, tenant admins) edit every article of their tenant, drafts included, and read all.
- Customers read published articles that are public, for logged-in customers, or shared with an
  organization they belong to; anonymous visitors read published public articles only.
- Nobody ever reads another tenant's articles (checked in SQL, not only by the automatic scope).
"""

from __future__ import annotations

from sqlalchemy import and_, false, or_, select, true

from app.accounts.models import Membership, User
from app.accounts.policy import is_staff
from app.helpcenter.models import PUBLISHED, Article, ArticleOrganization


def can_manage_articles(user) -> bool:
    return is_staff(user) and isinstance(user, User) and user.active


def _tenant_user(user) -> bool:
    return isinstance(user, User) and user.is_authenticated and user.active


def visible_articles_clause(user, tenant_id: int, *, drafts: bool = False):
    """The SQL condition of the articles ``user`` may read at ``tenant_id``.

    ``drafts``: staff also see unpublished articles (previews, the editor's lists)."""
    same_tenant = Article.tenant_id == tenant_id
    if _tenant_user(user) and user.tenant_id != tenant_id:
        return false()
    if can_manage_articles(user):
        return same_tenant if drafts else and_(same_tenant, Article.status == PUBLISHED)
    published = and_(same_tenant, Article.status == PUBLISHED)
    if not _tenant_user(user):
        return and_(published, Article.visibility == "public")
    my_orgs = select(Membership.organization_id).where(Membership.user_id == user.id)
    return and_(
        published,
        or_(
            Article.visibility.in_(("public", "customers")),
            and_(
                Article.visibility == "organizations",
                Article.id.in_(
                    select(ArticleOrganization.article_id).where(ArticleOrganization.organization_id.in_(my_orgs))
                ),
            ),
        ),
    )


def can_read(user, article: Article) -> bool:
    from app.extensions import db

    clause = visible_articles_clause(user, article.tenant_id, drafts=True)
    if clause is true():
        return True
    return db.session.execute(select(Article.id).where(Article.id == article.id, clause)).first() is not None


# Who may reach each route of this module (audiences: app/security/access.py; checked for every
# actor by tests/security/test_route_matrix.py).
ROUTE_ACCESS: dict[str, str] = {
    "helpcenter.index": "PUBLIC",
    "helpcenter.search_page": "PUBLIC",
    "helpcenter.suggest": "PUBLIC",
    "helpcenter.article": "ARTICLE_READER",
    "helpcenter.article_file": "ARTICLE_READER",
    "helpcenter.manage": "STAFF",
    "helpcenter.new": "STAFF",
    "helpcenter.edit": "STAFF",
    "helpcenter.set_status": "STAFF",
    "helpcenter.history": "STAFF",
    "helpcenter.restore": "STAFF",
    "helpcenter.from_request": "REQUEST_STAFF",
}
