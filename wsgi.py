"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``."""

import sys

from app import create_app
from app.config import ConfigurationError

try:
    app = create_app()
except ConfigurationError as error:
    # One clear line naming the setting, and a non-zero exit: no traceback for a missing secret.
    sys.exit(f"error: {error.format_message()}")
