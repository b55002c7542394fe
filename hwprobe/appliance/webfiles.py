"""Forms of the /appliance interface that answer with a file instead of a
page (Security > Certificates' Export), that send one (Import, an update
file: a multipart upload streamed from disk, hwprobe/appliance/upload.py),
and the plain form posts of the pages bringup only acts on (make a
certificate the default, check for updates, install one).

``FileForms`` is the web session (hwprobe/appliance/websession.py) with
forms whose answer is a file; the web driver (web.py) builds on it. A
session that ended is logged in again once, as for every page.
"""
from __future__ import annotations

import re

from hwprobe.errors import ApplianceError, ValidationRefused
from hwprobe.appliance.websession import WebSession
from hwprobe.appliance.websession import _SessionGone as SessionGone

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hwprobe.appliance import html
    from hwprobe.appliance.upload import Progress


def attachment_name(disposition: str) -> str:
    """The file name a Content-Disposition header gives ("" when none); only
    its last path part, so a hostile name cannot point elsewhere."""
    found = re.search(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', disposition or "")
    return found.group(1).replace("\\", "/").rsplit("/", 1)[-1].strip() if found else ""


class FileForms(WebSession):
    """Posting a form whose answer is a file; see the module docstring."""


    def download(self, page_path: str, action: str, changes: dict[str, str]) -> tuple[str, bytes]:
        """Fill the form posting to ``action`` on ``page_path`` (every other
        field as the page shows it, its CSRF token included), post it, and
        return (the file name the appliance gives, the file's bytes). Nothing
        on the appliance changes.

        Raises ValidationRefused (the page came back with the appliance's
        error), ApplianceError (no such form, or neither a file nor an error),
        Unreachable, SessionExpired."""
        common = self.pages["common"]

        def attempt() -> tuple[str, bytes]:
            page = self._get(page_path)[1]
            forms = page.forms_with_action(action)
            if not forms:
                raise ApplianceError(f"no form for {action} on {self.names.of(page_path)}: "
                                     "the page map may not match this firmware")
            data = dict(forms[0].fields)
            data.update(changes)
            resp = self._send("POST", action, data)
            self._check_status(resp, action)
            if resp.status_code in (401, 403):
                raise SessionGone()
            if resp.is_redirect:
                target = self._redirected_to(resp)
                raise ApplianceError(f"the appliance answered {self.names.of(page_path)}'s "
                                     f"form with a redirect to {target}, not a file")
            if resp.headers.get("Content-Type", "").lower().startswith("text/html"):
                shown = self._parse(resp, action)
                errors = shown.by_class(common["error_class"])
                if errors:
                    raise ValidationRefused(
                        f"the appliance refused on {self.names.of(page_path)}: "
                        f"{self._scrub('; '.join(e.text for e in errors))}",
                        page=self.names.of(page_path))
                raise ApplianceError(f"the appliance answered {self.names.of(page_path)}'s "
                                     "form with a page, not a file")
            return attachment_name(resp.headers.get("Content-Disposition", "")), resp.content

        return self._with_session(attempt)

    def send_form(self, page_path: str, action: str, changes: dict[str, str], *,
                  pick=None, follow: bool = False) -> "html.Page | None":
        """Post the form to ``action`` on ``page_path`` with ``changes`` (every
        other field as the page shows it; ``pick(form)`` chooses among several
        forms to the same action). Returns the page the appliance shows after
        it when ``follow``. Raises ValidationRefused (the appliance's words),
        ApplianceError, Unreachable (``applied`` None: never sent twice)."""
        return self._submit(page_path, action, changes, pick=pick, follow=follow)

    def upload(self, page_path: str, action: str, changes: dict[str, str], file_field: str,
               path, *, on_progress: "Progress | None" = None) -> None:
        """Fill the upload form posting to ``action`` on ``page_path`` (its
        CSRF token and other fields as shown, ``changes`` over them), and send
        the file at ``path`` in ``file_field``, streamed from disk. Returns
        when the appliance took it (a redirect). Raises ValidationRefused
        (the page came back with the appliance's error: nothing was taken),
        ApplianceError, CertificateChanged, Unreachable (cut short: said how
        far it got; ``applied`` None), OSError (the laptop's disk)."""
        from hwprobe.appliance.upload import MultipartFile, post_upload

        common = self.pages["common"]
        name = self.names.of(page_path)

        def attempt() -> None:
            page = self._form_page(page_path, action, changes)     # kept, when it is fresh
            forms = page.forms_with_action(action)
            if not forms:
                raise ApplianceError(f"no form for {action} on {name}: the page map may not "
                                     "match this firmware")
            fields = {k: v for k, v in forms[0].fields.items() if k != file_field}
            fields.update(changes)
            body = MultipartFile(fields, file_field, path, on_progress=on_progress)
            self._touched.add(page_path)
            self._saved_forms.setdefault(page_path, set()).add(action)
            resp = post_upload(self._session, self._url(action), body, what=name,
                               timeout=(self.timeout[0], 120.0))
            self._check_status(resp, action)
            if resp.status_code in (401, 403):      # the session ended: not taken
                raise SessionGone()
            if resp.is_redirect:
                self._redirected_to(resp)
                return None
            errors = self._parse(resp, action).by_class(common["error_class"])
            if errors:
                raise ValidationRefused(
                    f"the appliance refused the file on {name}: "
                    f"{self._scrub('; '.join(e.text for e in errors))}", page=name)
            raise ApplianceError(f"the appliance neither took nor refused the file on {name}")

        return self._with_session(attempt)
