"""Form base class: CSRF from Flask-WTF, WTForms' own pt-BR messages."""

from flask_wtf import FlaskForm


class Form(FlaskForm):
    """A form whose built-in validation messages are in Portuguese."""

    class Meta:
        locales = ["pt_BR"]

    def first_error(self, name: str) -> str:
        """Return the first error of a field, or an empty string."""
        errors = self[name].errors
        return errors[0] if errors else ""
