"""Production entry point: ``gunicorn wsgi:app``. Refuses to start with a development secret or debug on."""

from consult import create_app

app = create_app()

if app.config["SECRET_KEY"] in ("", "dev") or len(app.config["SECRET_KEY"]) < 16:
    raise SystemExit("Set SECRET_KEY to a long random value before serving Tongxin in production.")
if app.debug:
    raise SystemExit("Debug mode must be off in production.")
