"""Finish step 3: the /login backup (Management > Software Management >
Restore Settings on the appliance's /login).

Documented: Restore Settings takes the backup file and its password, and
Upload Backup sends it (vendor procedure, "Temporary Hosted Site", steps
4-7); on the backup appliance of a failover pair a restore is not advisable
(failover guide: it overwrites the failover settings and the pre-shared key
the two appliances use). In order:

1. the backup of a pair: skipped, saying why, and the failover steps are
   printed instead;
2. the proof is tried first, so a restored appliance is never restored
   again: an API account that only the backup holds gets an OAuth token,
   and check_health answers with the site's hostname;
3. else: log in to /login, upload the NSB with its backup password
   (streamed, with progress; journalled before it is sent and once the
   appliance took it), wait for /login to restart, and prove it. A wrong
   backup password or a damaged NSB is refused by the appliance, which is
   then left as it was: bringup says which.
"""
from __future__ import annotations

import time

from hwprobe.procedure.finish.steps import ALREADY, DONE, SKIPPED, FinishFailed

KEY = "login_backup"
TITLE = "/login backup"
PAGE = "/login > Management > Software Management > Restore Settings"
# a restored /login that answers but refuses the backup's API account this
# long is not going to take it: the account is not in the backup
REFUSED_FOR = 20.0

WHY_NOT_ON_A_BACKUP = (
    "not restored: this appliance replaces the backup of a failover pair, and restoring a "
    "/login backup there is not advisable: it would overwrite the appliance's failover "
    "settings and the key the two appliances share (failover guide)")


def failover_steps(ctx) -> list[str]:
    """What to do instead on the backup of a pair (bringup's words)."""
    me = ctx.address if ctx.session.target.address else "this appliance"
    return [
        "1. Leave /login on this appliance as the site software installed it: no backup "
        "is restored here.",
        "2. On the primary's /login, Management > Failover: set up the failover relationship "
        f"again with this appliance ({me} now; its production address once cabled) as the "
        "backup, with the site's shared IP or DNS/NAT swing as before.",
        "3. Let the primary sync its data to it (the data sync), then check both roles: "
        "`bringup failover status --address PRIMARY` and `--address BACKUP`.",
    ]


def intent(inputs) -> str:
    """What this step will do, from the kit alone (nothing read, no secret)."""
    if inputs.pair_backup:
        return "skip: the kit is the backup of a failover pair (the failover steps instead)"
    return (f"unless restored: upload {inputs.path('login_backup').name} to Restore Settings, "
            "wait for /login, prove it with the backup's API account")


def plan(ctx) -> tuple[str, list[str]]:
    if ctx.inputs.pair_backup:
        return "would skip: " + WHY_NOT_ON_A_BACKUP, failover_steps(ctx)
    nsb = ctx.inputs.path("login_backup")
    detail = [f"file: {nsb.name} ({nsb.stat().st_size / 1e6:.1f} MB)",
              f"/login user: {ctx.secrets.login_user}",
              f"proof: API account {ctx.secrets.api_client_id} gets a token and check_health "
              f"names {ctx.inputs.hostname}"]
    return (f"would upload {nsb.name} to Restore Settings with its backup password, wait for "
            f"/login to restart, and prove it with API account {ctx.secrets.api_client_id}"), detail


def _proof(ctx) -> tuple[str | None, str]:
    """(check_health's hostname, "") when the backup's API account gets a
    token; (None, why) when not, or /login does not answer yet."""
    from hwprobe.errors import ApplianceError, LoginFailed

    client = ctx.api_client()
    try:
        client.login()
        return client.health().hostname, ""
    except LoginFailed as exc:
        return None, f"refused: {exc}"
    except ApplianceError as exc:
        return None, f"not answering: {exc}"
    finally:
        client.close()


def _proven(ctx, hostname: str) -> str:
    if ctx.hostname_check and hostname != ctx.inputs.hostname:
        raise FinishFailed(f"the backup's API account got a token, but check_health names "
                           f"{hostname or 'no host'}, not {ctx.inputs.hostname}: is this the "
                           "site's backup?")
    return (f"API account {ctx.secrets.api_client_id} (only in the backup) got a token and "
            f"check_health answers {hostname}")


def run(ctx, step) -> None:
    from hwprobe.appliance.loginadmin import NoSite, RestoreRefused
    from hwprobe.errors import LoginFailed

    if ctx.inputs.pair_backup:
        step.status, step.message = SKIPPED, WHY_NOT_ON_A_BACKUP
        step.detail = failover_steps(ctx)
        ctx.record(KEY, status="skipped: backup of a pair")
        ctx.note("the /login backup was " + WHY_NOT_ON_A_BACKUP + ". Instead: "
                 + " ".join(failover_steps(ctx)))
        return
    nsb = ctx.inputs.path("login_backup")
    step.detail = plan(ctx)[1]
    earlier = ctx.recorded(KEY).get("status")
    if earlier in ("uploading", "restarting"):
        _wait_for_login(ctx, float(ctx.recorded(KEY).get("epoch", time.time())), strict=False)
    hostname, why = _proof(ctx)
    if hostname is None and why.startswith("not answering"):     # /login restarting now
        _wait_for_login(ctx, time.time(), strict=False)
        hostname, why = _proof(ctx)
    if hostname is not None:
        ctx.record(KEY, status="done")
        step.status = DONE if earlier in ("uploading", "restarting") else ALREADY
        step.message = ("restored by an earlier run: " if step.status == DONE
                        else "already restored: ") + _proven(ctx, hostname)
        return
    if earlier == "restarting":
        raise FinishFailed(f"an earlier run's restore was taken by the appliance, but the "
                           f"backup's API account {ctx.secrets.api_client_id} still gets no "
                           f"token ({why}); not restored again. Check the account under /login > "
                           "Management > API Configuration")
    with ctx.login_admin() as admin:
        try:
            admin.login(ctx.secrets.login_user, ctx.secrets.login_password)
        except NoSite:
            raise FinishFailed("/login is not there: the site software is not installed") from None
        except LoginFailed as exc:
            hint = ("" if ctx.secrets.login_password_given else
                    " (tried a new site's first password: give /login's in BRINGUP_LOGIN_PASSWORD)")
            raise FinishFailed(f"{exc}{hint}; nothing was restored") from None
        ctx.record(KEY, status="uploading", file=nsb.name)
        try:
            admin.restore(nsb, ctx.secrets.backup_password or "", on_progress=lambda sent, size:
                          ctx.progress(KEY, f"uploading {nsb.name}", sent, size))
        except RestoreRefused as exc:
            ctx.record(KEY, status="refused", reason=exc.reason)
            raise FinishFailed(f"{exc}: the appliance's /login is as it was") from None
        size, seconds = admin.uploaded
        step.detail.append(f"upload: {size} bytes in {seconds:.2f} s "
                           f"({size / max(seconds, 1e-6) / 1e6:.0f} MB/s, until the appliance's "
                           "answer)")
    began = time.time()
    ctx.record(KEY, status="restarting", file=nsb.name)
    hostname = _wait_for_login(ctx, began, strict=True)
    ctx.record(KEY, status="done")
    step.status = DONE
    step.message = (f"restored {nsb.name}; /login restarted in {time.time() - began:.0f} s; "
                    + _proven(ctx, hostname))


def _wait_for_login(ctx, since: float, *, strict: bool) -> str | None:
    """Wait until /login answers again; with ``strict``, until the backup's
    API account gets a token (returns check_health's hostname): FinishFailed
    when /login answers but keeps refusing it. RestartTimeout."""
    got = {"hostname": None, "refused_since": None, "why": ""}

    def back() -> bool:
        hostname, why = _proof(ctx)
        if hostname is not None:
            got["hostname"] = hostname
            return True
        if why.startswith("refused"):
            if not strict:
                return True             # /login answers: the proof tells the rest
            got["refused_since"] = got["refused_since"] or time.time()
            got["why"] = why
            if time.time() - got["refused_since"] > REFUSED_FOR:
                raise FinishFailed(
                    f"/login restarted after the restore, but the backup's API account "
                    f"{ctx.secrets.api_client_id} gets no token ({why}): the backup may not hold "
                    "that account (check /login > Management > API Configuration on the old "
                    "site's backup); not restored again")
        return False

    ctx.wait_for(KEY, back, since=since, what="/login to restart after the restore",
                 showing="waiting for /login to restart")
    return got["hostname"]
