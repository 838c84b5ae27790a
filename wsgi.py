"""Production entry point: ``gunicorn wsgi:app``. Refuses to start with a development or guessable secret,
with debug on, or with back-end services reached over a network without verified TLS (unless
ALLOW_PLAINTEXT_BACKENDS=1). Every staff member signs in in two steps unless TWO_STEP_ROLES says
otherwise."""

import gc
import os

from consult import create_app
from consult.safety import plaintext_backends
from consult.safety import weak_secret

app = create_app()
if "TWO_STEP_ROLES" not in os.environ:
    from consult.auth.models import Role

    app.config["TWO_STEP_ROLES"] = tuple(role.value for role in Role)  # staff hold residents' data

weakness = weak_secret(app.config["SECRET_KEY"])
if weakness:
    raise SystemExit(f"Set SECRET_KEY to a long random value before serving Tongxin ({weakness}).")
if app.debug:
    raise SystemExit("Debug mode must be off in production.")
plaintext = plaintext_backends(app.config)
if plaintext and not app.config["ALLOW_PLAINTEXT_BACKENDS"]:
    raise SystemExit(
        "These are reached over the network without TLS that checks the server's certificate: "
        + "; ".join(plaintext)
        + ". Set ALLOW_PLAINTEXT_BACKENDS=1 only if that network is private and trusted."
    )

# What start-up made (the app, its templates, SQLAlchemy's mappers, the message catalogues) lives as long
# as the process: out of the cyclic collector's sight, a full collection during a request scans only
# what requests made, instead of some 150,000 objects (about 90 ms on a small machine, bench/README.md).
gc.freeze()
