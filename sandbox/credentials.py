"""The sandbox's fixed credentials (documented in the README, printed at start)."""

from __future__ import annotations

AKITA_API_KEY = "sandbox-akita-key"
INTERAKT_APP_ID = "sandbox-interakt-app"
INTERAKT_API_KEY = "sandbox-interakt-key"
TRUSTMARY_API_KEY = "sandbox-trustmary-key"
ADAPTIX_USERNAME = "sandbox"
ADAPTIX_PASSWORD = "sandbox-adaptix-password"
LUNARSEND_API_KEY = "sandbox-lunarsend-key"

# Akita's manual tags in the sandbox: name -> tag Api ID. Any other id is a 422.
AKITA_TAG_IDS: dict[str, int] = {
    "vip": 345,
    "newsletter": 346,
    "trial": 347,
    "partner": 348,
    "beta": 349,
}

# key -> the provider's own path root under /<key>.
ROOTS: dict[str, str] = {
    "akita": "/v1",
    "interakt": "/api/v1",
    "trustmary": "/v1",
    "adaptix": "/api",
    "lunarsend": "/api",
}


def describe() -> dict[str, dict[str, str]]:
    """Credentials per provider key, as a user would enter them in a config file."""
    return {
        "akita": {"api_key": AKITA_API_KEY},
        "interakt": {"app_id": INTERAKT_APP_ID, "api_key": INTERAKT_API_KEY},
        "trustmary": {"api_key": TRUSTMARY_API_KEY},
        "adaptix": {"username": ADAPTIX_USERNAME, "password": ADAPTIX_PASSWORD},
        "lunarsend": {"api_key": LUNARSEND_API_KEY},
    }
