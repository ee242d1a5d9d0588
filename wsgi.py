"""WSGI entry point: `flask --app wsgi ...` locally, `gunicorn wsgi:app` in production.

Both read the same settings file first (app/environment_file.py), so a command typed by hand acts
on the same database as the running server.
"""

from app import create_app, environment_file

environment_file.load()
app = create_app()
