"""Customer portal views of requests, one module per part of the request's life (agents use the
same request page, with more on it).

``base`` holds the blueprint and what the sections share (finding the request a URL names, running
one service call for a form); ``listing`` the list of requests; ``raising`` the new-request form;
``detail`` the request page and the forms it shows; ``conversation`` comments, workflow steps and
watching; ``editing`` details, assignee, type, links and merges; ``sharing`` participants,
organizations and forwarding; ``attachments`` the file downloads.
"""

from app.tickets.views import (  # noqa: F401  (each registers its views on the blueprint)
    attachments,
    conversation,
    detail,
    editing,
    listing,
    raising,
    sharing,
)
from app.tickets.views.base import bp

__all__ = ["bp"]
