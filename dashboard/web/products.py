"""Produtos screen."""

from flask import Blueprint

from dashboard.web.rendering import render

bp = Blueprint("products", __name__, url_prefix="/produtos")


@bp.get("/")
def index():
    return render("products.html")
