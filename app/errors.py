"""Error pages: plain, translated, and revealing nothing about tenants."""

from __future__ import annotations

from flask import g, render_template


def init_app(app) -> None:
    @app.errorhandler(404)
    def not_found(error):
        # An unknown or suspended tenant must look exactly like any missing page.
        g.pop("tenant", None)
        return render_template("errors/404.html"), 404

    @app.errorhandler(400)
    def bad_request(error):
        g.pop("tenant", None)
        return render_template("errors/400.html"), 400

    @app.errorhandler(413)
    def too_large(error):
        # Werkzeug refuses the body from its Content-Length, before a view or the CSRF check reads it.
        limit = app.config.get("MAX_CONTENT_LENGTH") or 0
        return render_template("errors/413.html", limit_mb=max(1, limit // (1024 * 1024))), 413

    @app.errorhandler(500)
    def server_error(error):
        return render_template("errors/500.html"), 500
