"""The screens: one blueprint per page, shared layout helpers, error pages."""

import logging

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError
from werkzeug.wrappers import Response

from dashboard.extensions import db
from dashboard.web import failures, history, orders, overview, products, settings_page
from dashboard.web.banners import banners
from dashboard.web.format import FILTERS

logger = logging.getLogger(__name__)

NAVIGATION = [
    ("overview.index", "Visão geral"),
    ("products.index", "Produtos"),
    ("orders.index", "Pedidos"),
    ("failures.index", "Falhas"),
    ("history.index", "Histórico"),
    ("settings_page.index", "Configurações"),
]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self' "
    "'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'"
)


def init_app(app: Flask) -> None:
    """Register blueprints, template helpers, error pages and headers."""
    for screen in (overview, products, orders, failures, history, settings_page):
        app.register_blueprint(screen.bp)

    app.jinja_env.filters.update(FILTERS)
    app.context_processor(_layout_context)
    app.before_request(_check_host)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)


def _layout_context() -> dict:
    endpoints = (
        set(request.url_rule.endpoint.split(".")[:1]) if request.url_rule else set()
    )
    return {
        "navigation": NAVIGATION,
        "active_section": next(iter(endpoints), ""),
        "banners": banners(),
    }


def _check_host() -> Response | None:
    """Refuse requests whose Host is not ours (DNS rebinding)."""
    try:
        request.host  # noqa: B018  (reading it checks TRUSTED_HOSTS)
    except SecurityError:
        port = current_app.config["BIND_PORT"]
        return Response(
            f"Endereço não permitido: abra o painel por http://localhost:{port}/.",
            400,
            mimetype="text/plain",
        )
    return None


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _csrf_error(error: CSRFError):
    return _error_page(
        400,
        "Formulário expirado ou inválido",
        "A página ficou aberta por muito tempo ou o pedido não veio deste painel. "
        "Recarregue a página e tente de novo.",
    )


def _http_error(error: HTTPException):
    titles = {
        400: ("Pedido inválido", "O navegador enviou algo que o painel não entende."),
        404: ("Página não encontrada", "O endereço não existe ou o item foi removido."),
        405: ("Ação não permitida", "Esta página não aceita esse tipo de envio."),
        413: ("Arquivo grande demais", "Envie um arquivo menor que 50 MB."),
    }
    title, text = titles.get(error.code, ("Erro", error.description or ""))
    return _error_page(error.code or 500, title, text)


def _server_error(error: InternalServerError):
    db.session.rollback()
    original = getattr(error, "original_exception", None)
    logger.error("Unhandled error on %s %s: %r", request.method, request.path, original)
    return _error_page(
        500,
        "Algo deu errado",
        "O painel encontrou um erro inesperado e nada foi salvo pela metade. "
        "Tente de novo; se continuar, veja o arquivo de log na pasta de dados.",
    )


def _error_page(code: int, title: str, text: str):
    if request.headers.get("HX-Request"):
        html = render_template("partials/_error.html", title=title, text=text)
        return html, code
    return render_template("error.html", code=code, title=title, text=text), code
