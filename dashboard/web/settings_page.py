"""Configurações: credentials, store domain, jobs and concurrency."""

from flask import Blueprint, flash, redirect, request, url_for
from wtforms import BooleanField, IntegerField, PasswordField, StringField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from dashboard import settings as settings_store
from dashboard.config import ConfigError
from dashboard.settings import (
    CREDENTIAL_FIELDS,
    JOB_LABELS,
    JOB_NAMES,
    MAX_CONCURRENCY,
    MAX_INTERVAL,
    JobSettings,
)
from dashboard.sync.api import test_connection
from dashboard.web.forms import Form
from dashboard.web.rendering import render, wants_fragment

bp = Blueprint("settings_page", __name__, url_prefix="/configuracoes")

INTERVAL_MESSAGE = f"Informe um intervalo de 1 a {MAX_INTERVAL} minutos."
CONCURRENCY_MESSAGE = f"Informe um número de 1 a {MAX_CONCURRENCY}."


def _validate_domain(form, field) -> None:
    if "store_domain" in form.locked:
        return
    try:
        field.data = settings_store.normalize_domain(field.data or "")
    except ConfigError as error:
        raise ValidationError(str(error)) from None


def _interval_field(label: str) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            InputRequired(INTERVAL_MESSAGE),
            NumberRange(1, MAX_INTERVAL, INTERVAL_MESSAGE),
        ],
    )


class SettingsForm(Form):
    client_id = PasswordField("Client ID")
    client_secret = PasswordField("Client Secret")
    api_user = PasswordField("API User")
    api_secret = PasswordField("API Secret")
    store_domain = StringField("Domínio da loja", validators=[_validate_domain])
    concurrency = IntegerField(
        "Chamadas simultâneas à API",
        validators=[
            InputRequired(CONCURRENCY_MESSAGE),
            NumberRange(1, MAX_CONCURRENCY, CONCURRENCY_MESSAGE),
        ],
    )
    products_auto = BooleanField("Automático")
    products_interval = _interval_field("Intervalo (min)")
    prices_auto = BooleanField("Automático")
    prices_interval = _interval_field("Intervalo (min)")
    stock_auto = BooleanField("Automático")
    stock_interval = _interval_field("Intervalo (min)")
    orders_auto = BooleanField("Automático")
    orders_interval = _interval_field("Intervalo (min)")

    def __init__(self, *args, locked: set[str] = frozenset(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.locked = locked

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        stored = settings_store.load()
        for name in CREDENTIAL_FIELDS:
            field = self[name]
            field.data = (field.data or "").strip()
            if not field.data and not getattr(stored, name) and name not in self.locked:
                field.errors.append(f"Informe o {field.label.text} do painel Plugg.to.")
                valid = False
        return valid

    def values(self) -> dict:
        """Return what to store, leaving out fields set by the environment."""
        values = {
            name: self[name].data
            for name in (*CREDENTIAL_FIELDS, "store_domain")
            if name not in self.locked
        }
        values["concurrency"] = self.concurrency.data
        values["jobs"] = {
            job: JobSettings(
                auto=bool(self[f"{job}_auto"].data),
                interval=self[f"{job}_interval"].data,
            )
            for job in JOB_NAMES
        }
        return values


def _form_for(current: settings_store.Settings) -> SettingsForm:
    defaults = {
        "store_domain": current.store_domain,
        "concurrency": current.concurrency,
    }
    for job, job_settings in current.jobs.items():
        defaults[f"{job}_auto"] = job_settings.auto
        defaults[f"{job}_interval"] = job_settings.interval
    return SettingsForm(data=defaults, locked=current.from_env)


def _context(form: SettingsForm, current: settings_store.Settings) -> dict:
    return {
        "form": form,
        "masked": {
            name: settings_store.mask(getattr(current, name))
            for name in CREDENTIAL_FIELDS
        },
        "locked": current.from_env,
        "env_names": settings_store.ENV_NAMES,
        "jobs": [(job, JOB_LABELS[job]) for job in JOB_NAMES],
    }


@bp.get("/")
def index():
    current = settings_store.load()
    return render("settings.html", **_context(_form_for(current), current))


@bp.post("/")
def save():
    current = settings_store.load()
    form = SettingsForm(request.form, locked=current.from_env)
    if not form.validate():
        response = render("settings.html", **_context(form, current))
        response.status_code = 422
        return response

    settings_store.save(form.values())
    flash("Configurações salvas.", "success")
    return redirect(url_for("settings_page.index"), code=303)


@bp.post("/testar")
def test():
    ok, message = test_connection()
    if wants_fragment():
        return render("partials/_connection_result.html", ok=ok, message=message)

    flash(message, "success" if ok else "danger")
    return redirect(url_for("settings_page.index"), code=303)
