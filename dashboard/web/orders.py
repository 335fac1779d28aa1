"""Pedidos screen."""

from flask import Blueprint

from dashboard.web.rendering import render

bp = Blueprint("orders", __name__, url_prefix="/pedidos")


@bp.get("/")
def index():
    return render("orders.html")
