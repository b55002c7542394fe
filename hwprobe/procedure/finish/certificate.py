"""Finish step 1: the site's certificate (Security > Certificates).

Documented: Import (choose the file, enter its password, Upload); primary
and backup of a pair carry identical certificates; the certificates are
restored after the network and before /login. In order:

1. Security > Certificates is read; the kit's certificate is imported only
   when no certificate with its SHA-256 is held (journalled before the
   upload and after it is listed), so a run killed mid-upload imports it at
   most once;
2. it is made the default when it is not (journalled before: the next run
   takes the new certificate as the one this run set, not as a changed one);
3. from the laptop, a TLS handshake naming the sheet's hostname (SNI) must
   present exactly the kit's certificate;
4. bringup's pin for this appliance moves to it, as an expected change, and
   the web session is opened again on it.
"""
from __future__ import annotations

from hwprobe.procedure.finish.steps import ALREADY, DONE, FinishFailed

KEY = "certificate"
TITLE = "Certificate"
PAGE = "Security > Certificates"


def _held(ctx):
    from hwprobe.appliance.certificates import held_certificates

    sha = ctx.certificate_sha()
    return next((h for h in held_certificates(ctx.driver()) if h.sha256 == sha), None)


def _describe(ctx) -> list[str]:
    cert, p12 = ctx.inputs.certificate, ctx.inputs.path("certificate")
    return [f"file: {p12.name}", f"subject: {cert.subject}", f"issuer: {cert.issuer}",
            f"names: {', '.join(cert.alternative_names)}",
            f"expires: {cert.not_after:%Y-%m-%d} ({cert.days_left():.0f} days left)",
            f"SHA-256: {cert.sha256}",
            f"proof: a TLS handshake naming {ctx.inputs.hostname} presents exactly it"]


def intent(inputs) -> str:
    """What this step will do, from the kit alone (nothing read, no secret)."""
    return (f"import {inputs.path('certificate').name} unless it is held, make it the default, "
            f"check that {inputs.hostname} is served with it")


def plan(ctx) -> tuple[str, list[str]]:
    """What this step would do (reads Security > Certificates when it can)."""
    held = _readable(ctx)
    name = ctx.inputs.path("certificate").name
    if held is False:
        words = (f"would import {name} and make it the default (the appliance could not be "
                 "read yet: a factory appliance is assumed)")
    elif held is None:
        words = f"would import {name} with its passphrase and make it the default"
    elif held.default:
        words = "nothing to import: the appliance already serves it as its default"
    else:
        words = f"would make the held {held.friendly_name} the default (no import)"
    return words + f", then check that {ctx.inputs.hostname} is served with it", _describe(ctx)


def _readable(ctx):
    """The held certificate of the kit (None: not held), or False when the
    appliance cannot be read (a dry run before the first-login change)."""
    outcome = ctx.session.login_outcome
    if outcome is not None and outcome.change_pending:
        return False
    return _held(ctx)


def run(ctx, step) -> None:
    from hwprobe.appliance.certificates import import_pkcs12, make_default, presented
    from hwprobe.appliance.pinning import normalize_fingerprint
    from hwprobe.errors import ValidationRefused

    sha, p12 = ctx.certificate_sha(), ctx.inputs.path("certificate")
    step.detail = _describe(ctx)
    done: list[str] = []
    held = _held(ctx)
    if held is None:
        ctx.record(KEY, status="importing", sha256=sha)
        try:
            import_pkcs12(ctx.driver(), p12, ctx.secrets.certificate_passphrase,
                          on_progress=lambda sent, size: ctx.progress(
                              KEY, f"uploading {p12.name}", sent, size))
        except ValidationRefused as exc:
            ctx.record(KEY, status="refused", sha256=sha)
            raise FinishFailed(f"Security > Certificates > Import refused {p12.name}: {exc}; "
                               "nothing was imported") from None
        held = _held(ctx)
        if held is None:
            raise FinishFailed(f"Security > Certificates: {p12.name} was taken but is not listed "
                               f"(SHA-256 {sha}); look at the page before running again")
        ctx.record(KEY, status="imported", sha256=sha)
        done.append(f"imported {p12.name} as {held.friendly_name}")
    if not held.default:
        ctx.record(KEY, status="making default", sha256=sha)
        try:
            make_default(ctx.driver(), sha)
        except ValidationRefused as exc:
            raise FinishFailed(f"Security > Certificates: making {held.friendly_name} the "
                               f"default was refused: {exc}") from None
        done.append("made it the default")
    # from here on the appliance presents the kit's certificate to everyone:
    # the web session and the pin move to it before anything else is read
    if normalize_fingerprint(ctx.session.fingerprint or "") != sha:
        ctx.session.move_pin(sha, "the finish made the kit's certificate the default")
    seen = presented(ctx.address, ctx.inputs.hostname, port=ctx.port, device=ctx.device)
    if seen != sha:
        ctx.record(KEY, status="not served", sha256=sha)
        raise FinishFailed(f"a TLS handshake naming {ctx.inputs.hostname} got the certificate "
                           f"SHA-256 {seen}, not the kit's ({sha}): Security > Certificates "
                           "holds it, but clients of the site would not get it")
    ctx.record(KEY, status="done", sha256=sha)
    step.detail.append(f"served to {ctx.inputs.hostname}: SHA-256 {seen} (checked from the laptop)")
    if done:
        step.status = DONE
        step.message = "; ".join(done) + f"; {ctx.inputs.hostname} is served with it"
    else:
        step.status = ALREADY
        step.message = f"already the default; {ctx.inputs.hostname} is served with it"
