from flask import Blueprint

bp = Blueprint("compounds", __name__, url_prefix="/compounds")


@bp.get("/")
def dashboard():
    return "dashboard"
