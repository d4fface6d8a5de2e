"""The gateway's HTTP side: configuration, the ASGI app, GraphiQL's assets and the CLI.

from gateway.app import create_app
from gateway.config import load_config

app = create_app(load_config("contact-gateway.toml"))
"""
