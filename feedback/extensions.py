"""Flask extensions, created unbound here and bound to an app in ``create_app``."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


def client_hash(address: str | None, secret_key: str) -> str:
    """A keyed hash of a client's address: stable per client, never the address itself."""
    message = b"client-ip:" + (address or "unknown").encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def client_ip_hash() -> str:
    """The hash of this request's client (``client_hash``)."""
    return client_hash(request.remote_addr, current_app.config["SECRET_KEY"])


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=client_ip_hash)
