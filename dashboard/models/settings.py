"""Key/value storage for the merchant's settings and small runtime flags."""

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db


class Setting(db.Model):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
