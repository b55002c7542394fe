"""Finish step 2: the site software (Updates).

Documented: the full site package is provided only once a valid
certificate matching the DNS name is installed (so this runs after the
certificate); an appliance that reaches the vendor installs it from Updates,
an offline one from an update file; installing stops every session and
takes 15 to 60 minutes. In order:

1. Updates is read: installed already, nothing to do;
2. else the kit's update file is uploaded (streamed, with progress), or,
   without one, Updates checks at the vendor and installs the site package
   it offers; journalled before it is sent ("installing", with when) and
   once the appliance took it ("restarting");
3. bringup waits through the restart (progress against the deadline,
   ``--restart-deadline``): until the appliance went away and answers again
   showing the site software. A run killed while waiting goes on waiting
   when it starts again (run.resume_pending), and installs nothing twice;
4. with neither an update file nor the vendor, it says exactly what is
   missing and where to get it.
"""
from __future__ import annotations

import time

from hwprobe.procedure.finish.steps import ALREADY, DONE, FinishFailed

KEY = "site_software"
TITLE = "Site software"
PAGE = "Updates"
# an appliance that took an install and still answers this long without
# going away is taken as one that installs without a restart
NO_RESTART_AFTER = 30.0


def _installed(ctx):
    from hwprobe.appliance.updates import site_software

    return site_software(ctx.driver())


def _update_file(ctx):
    return ctx.inputs.update_file


def intent(inputs) -> str:
    """What this step will do, from the kit alone (nothing read, no secret)."""
    update = inputs.update_file
    source = f"the update file {update.name}" if update else "Updates (the vendor)"
    return f"unless installed: install the site software from {source}, wait for the restart"


def _detail(ctx) -> list[str]:
    update = _update_file(ctx)
    return [f"update file: {update.name} ({update.stat().st_size / 1e6:.1f} MB)"
            if update else "no update file in the kit: Updates must reach the vendor",
            f"restart deadline: {ctx.restart_deadline / 60:.0f} min"]


def plan(ctx) -> tuple[str, list[str]]:
    update = _update_file(ctx)
    detail = _detail(ctx)
    outcome = ctx.session.login_outcome
    if outcome is None or not outcome.change_pending:
        have = _installed(ctx)
        if have.installed:
            return (f"nothing to install: site software {have.version} for {have.hostname} is "
                    "installed"), detail
    source = (f"the kit's update file {update.name}" if update else
              "Updates, from the vendor (the kit has no update file)")
    return (f"would install the site software from {source}, then wait through the "
            "appliance's restart"), detail


def run(ctx, step) -> None:
    from hwprobe.appliance.updates import check, install, upload_update
    from hwprobe.errors import ValidationRefused

    update = _update_file(ctx)
    step.detail = _detail(ctx)
    earlier = ctx.recorded(KEY)
    have = _installed(ctx)
    if have.installed:
        ctx.record(KEY, status="done", version=have.version)
        step.status = DONE if earlier.get("status") in ("installing", "restarting") else ALREADY
        step.message = (f"site software {have.version} for {have.hostname} is installed"
                        + (" (an earlier run installed it)" if step.status == DONE else ""))
        return
    try:
        if update is not None:
            ctx.record(KEY, status="installing", source=update.name)
            upload_update(ctx.driver(), update, on_progress=lambda sent, size: ctx.progress(
                KEY, f"uploading {update.name}", sent, size))
            source = f"the kit's update file {update.name}"
        else:
            offers, words, reached = check(ctx.driver())
            site = next((o for o in offers if o.hostname == ctx.inputs.hostname), None)
            if site is None:
                raise FinishFailed(_missing(ctx, words, reached))
            ctx.record(KEY, status="installing", source=site.package)
            install(ctx.driver(), site)
            source = f"Updates ({site.description} {site.version} from the vendor)"
    except ValidationRefused as exc:
        ctx.record(KEY, status="refused")
        raise FinishFailed(f"Updates refused the site software: {exc}; nothing was "
                           "installed") from None
    began = time.time()
    ctx.record(KEY, status="restarting", source=source)
    have = _wait(ctx, began)
    ctx.record(KEY, status="done", version=have.version)
    step.status = DONE
    step.message = (f"installed site software {have.version} for {have.hostname} from "
                    f"{source}; the appliance restarted in {time.time() - began:.0f} s")


def _wait(ctx, began: float):
    """Wait until the appliance went away and answers again with the site
    software installed (or answers with it for NO_RESTART_AFTER seconds
    without going away). Returns Updates' SiteSoftware. RestartTimeout."""
    from hwprobe.errors import ApplianceError

    seen = {"gone": False, "have": None, "logged_in": False}
    outcome = ctx.session.login_outcome

    def back() -> bool:
        if not ctx.appliance_answers():
            seen["gone"] = True
            return False
        if not seen["gone"] and time.time() - began < NO_RESTART_AFTER:
            return False
        try:
            if seen["gone"] and not seen["logged_in"] and outcome is not None:
                ctx.session.login(outcome.password)     # a restart ends every session
                seen["logged_in"] = True
            have = _installed(ctx)
        except ApplianceError:          # still starting: a page that does not answer yet
            return False
        seen["have"] = have
        return have.installed

    ctx.wait_for(KEY, back, since=began,
                 what="the appliance to restart after installing the site software",
                 showing="waiting for the appliance to restart")
    return seen["have"]


def _missing(ctx, words: str, reached: bool) -> str:
    """What is missing for the site software, and where to get it."""
    a = ctx.inputs.kit.manifest.appliance
    version = a.get("software_version") or "the old appliance's"
    why = (f"the appliance cannot reach the vendor ({words})" if not reached else
           f"the vendor offers no site package for {ctx.inputs.hostname} ({words})")
    return (f"no site software: the kit holds no update file and {why}. Download the site's "
            f"update file for {ctx.inputs.hostname} (software {version}) from the vendor's "
            "support portal on a machine with internet access and run again with "
            "`--update-file FILE` (or keep it in the kit: `bringup kit --update-file`), or let "
            "the appliance reach the vendor (HTTPS, TCP 443 out) and run again")
