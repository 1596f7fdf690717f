"""Security headers on every response: the content security policy (with a per-request nonce) and its companions."""

import secrets

from flask import Flask, Response, current_app, g

from app.api.errors import is_api_request


def csp_nonce() -> str:
    """This request's nonce for an inline <script> that cannot live in a file (made on first use).

    Only the response it was made for allows it: a page kept as rendered HTML (the visitors' board) must not use it.
    """
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def forbid_storing() -> None:
    """Mark the current response as one no cache may keep (it shows unmasked personal data)."""
    g.forbid_storing = True


def content_security_policy(policy: str, nonce: str | None) -> str:
    """`policy` with the request's nonce added to its script-src, when the page used one."""
    if not nonce:
        return policy
    directives = [d.strip() for d in policy.split(";") if d.strip()]
    # without a script-src of its own the policy keeps its default for scripts: no nonce, no inline script
    return "; ".join(f"{d} 'nonce-{nonce}'" if d.split()[0] == "script-src" else d for d in directives)


def add_security_headers(response: Response) -> Response:
    """after_request: the headers every response carries; a view may set its own first."""
    config = current_app.config
    headers = response.headers
    header = "Content-Security-Policy-Report-Only" if config["CSP_REPORT_ONLY"] else "Content-Security-Policy"
    headers.setdefault(header, content_security_policy(config["CONTENT_SECURITY_POLICY"], g.get("csp_nonce")))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if config["SESSION_COOKIE_SECURE"] and config["HSTS_MAX_AGE"] > 0:
        # cookies only over HTTPS means the site is only served over HTTPS: let browsers insist on it
        hsts = f"max-age={config['HSTS_MAX_AGE']}" + (
            "; includeSubDomains" if config["HSTS_INCLUDE_SUBDOMAINS"] else ""
        )
        headers.setdefault("Strict-Transport-Security", hsts)
    if g.get("forbid_storing") or is_api_request():
        # API answers carry personal data and tokens; neither the browser nor a proxy may keep them
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response


def register_security_headers(app: Flask) -> None:
    """Send the security headers on every response of `app`; templates get `csp_nonce()`."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(add_security_headers)
