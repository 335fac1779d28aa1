"""Histórico screen."""

from flask import Blueprint

from dashboard.web.rendering import render

bp = Blueprint("history", __name__, url_prefix="/historico")


@bp.get("/")
def index():
    return render("history.html")
