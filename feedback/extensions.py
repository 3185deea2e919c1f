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


def client_ip_hash() -> str:
    """A keyed hash of the client's address: stable per client, never the address itself."""
    address = (request.remote_addr or "unknown").encode()
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"client-ip:" + address, hashlib.sha256).hexdigest()[:32]


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=client_ip_hash)
