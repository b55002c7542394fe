"""Adding a setting is one module and one page-map section (README, "Adding a
setting"): a throwaway area, written by this test into a copy of the house and
nowhere else, is read from the sheet and refused there with FILE:LINE, planned
in its declared order, read off a real simulated appliance in a dry run that
saves nothing, said in the Restore rows, the detail pane and the report, and
captured back into a sheet. Any loop that still named the fields of the areas
it knows would leave it out, and this test would say where."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from simfixture import make_sim, sim  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hwprobe", "tui", "bringup", "simulator", "assets")

# the new area: SNMP agent on or off and its version, on Networking > SNMP
MODULE = '''"""The SNMP agent: on or off, and its version (Networking > SNMP), the
sheet's optional [snmp]. Written by tests/test_area_plugin.py."""
from __future__ import annotations

from hwprobe.settings import validate as v
from hwprobe.settings.area import Area, FieldWords as F, Key, Table

ORDER = 45                      # after NTP, before syslog
SECTION = "snmp_agent"


def _load(table, out):
    out.tables["snmp"] = {"enabled": table["enabled"], "version": table["version"]}


def _dump(s, w):
    value = s.tables.get("snmp")
    if value is None:
        return []
    return ["", w.header("snmp"), *w.key("enabled", value["enabled"], "yes | no"),
            *w.key("version", value["version"], "v2c | v3")]


TABLE = Table("snmp", {
    "enabled": Key("str", True, lambda x: v.check_choice(x, ("yes", "no"))),
    "version": Key("str", True, lambda x: v.check_choice(x, ("v2c", "v3"))),
}, load=_load, dump=_dump)


def _words(value):
    if not value:
        return "none"
    return f"agent {'on' if value['enabled'] == 'yes' else 'off'}, SNMP {value['version']}"


def _read(section, state):
    state.tables["snmp"] = {"enabled": section.value("enabled") or "",
                            "version": section.value("version") or ""}


def _capture(state, out):
    if "snmp" in state.tables:
        out.tables["snmp"] = dict(state.tables["snmp"])


ROWS = (
    Area("snmp", SECTION, "snmp", "SNMP", "SNMP",
         wanted=lambda s: [("snmp", dict(s.tables["snmp"]))] if "snmp" in s.tables else [],
         present=lambda st, k: st.tables.get("snmp"), read=_read,
         send=lambda driver, c: driver.save(SECTION, c.after), describe=_words,
         capture=_capture, absent="not in the sheet",
         fields=(F("enabled", "Agent on"), F("version", "Version"))),
)
'''

SECTION = '''
# Networking > SNMP's agent (written by tests/test_area_plugin.py)
[snmp_agent]
page = "/appliance/networking/snmp"
action = "/appliance/networking/snmp/save"
enabled = "snmp_enabled"
version = "snmp_version"
panel = "Agent"
holds = { values = ["enabled", "version"] }
'''

TABLE = '\n[snmp]\nenabled = "yes"\nversion = "v3"\n'

# run in the copy: everything the house does with a sheet and an appliance
SCRIPT = r'''
import json, sys
from pathlib import Path

from hwprobe.errors import SheetInvalid
from hwprobe.appliance.connect import connect_web
from hwprobe.procedure import report
from hwprobe.procedure.engine import Engine
from hwprobe.settings import wording
from hwprobe.settings.capture import settings_from_state
from hwprobe.settings.sheet import parse_sheet, summarize
from hwprobe.settings.sheetwrite import dump_sheet

port, text, bad = int(sys.argv[1]), sys.argv[2], sys.argv[3]
out = {}
settings = parse_sheet(text, "site.toml")
out["loaded"] = settings.tables
try:
    parse_sheet(bad, "bad.toml")
except SheetInvalid as exc:
    out["refused"] = exc.problems
written = dump_sheet(settings)
table = written.split("\n\n[snmp]")[1].split("\n\n")[0]
out["written"] = ("[snmp]" + table).splitlines()
out["round_trip"] = parse_sheet(written, "again.toml") == settings
out["summary"] = summarize(settings)

with connect_web("127.0.0.1", port, use_journal=False) as web:
    web.login("admin", "password")
    web.change_password("password", "Tr4il-Head!")
    run = Engine(web, settings).run(dry_run=True)
    state = run.state_after
step = next(s for s in run.steps if s.area == "snmp")
out["areas"] = [s.area for s in run.steps]
out["step"] = {"title": step.title, "page": step.page, "before": step.before,
               "after": step.after, "changed": step.changed, "status": step.status}
out["dry_run"] = [wording.step_change(s) for s in run.steps if s.changed]
out["restore_row"] = wording.step_change(step)
out["detail"] = [[r.label, r.now, r.sheet] for r in wording.detail(step)]
rep = report.build(run, address="127.0.0.1", fingerprint=None, sheet="site.toml", driver="web")
out["report"] = [line for line in report.to_markdown(rep).splitlines() if "SNMP" in line]
out["captured"] = settings_from_state(state).tables
print(json.dumps(out))
'''


def _house(tmp_path: Path) -> Path:
    """A copy of the house with the new area's module and page-map section:
    nothing else of it differs from the tree under test."""
    house = tmp_path / "house"
    for name in PACKAGES:
        shutil.copytree(ROOT / name, house / name, ignore=shutil.ignore_patterns("__pycache__"))
    (house / "hwprobe" / "settings" / "areas" / "snmp.py").write_text(MODULE)
    pagemap = house / "hwprobe" / "appliance" / "pagemap.toml"
    pagemap.write_text(pagemap.read_text() + SECTION)
    return house


def test_a_new_area_is_one_module_and_a_page_map_section_and_every_face_names_it(sim, tmp_path):
    house = _house(tmp_path)
    example = (ROOT / "assets" / "example-sheet.toml").read_text()
    text, bad = example + TABLE, example + TABLE.replace('"v3"', '"v4"')
    bad_line = bad.splitlines().index('version = "v4"') + 1
    before = sim.state()
    env = {**os.environ, "PYTHONPATH": str(house)}
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(sim.https_port), text, bad],
                       cwd=house, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)

    # the sheet: read, refused with FILE:LINE, written back and read again alike
    assert got["loaded"] == {"snmp": {"enabled": "yes", "version": "v3"}}
    assert got["refused"] == [f'bad.toml:{bad_line}: [snmp].version: "v4" is not allowed; '
                              f'use one of "v2c", "v3"']
    assert got["written"] == [f"{'[snmp]':<32} # Networking > SNMP > Agent",
                              'enabled = "yes"'.ljust(32) + " # yes | no",
                              'version = "v3"'.ljust(32) + " # v2c | v3"]
    assert got["round_trip"] is True
    assert "SNMP: agent on, SNMP v3" in got["summary"]

    # the plan, in the order the module declares: after NTP, before syslog
    areas = got["areas"]
    assert areas.index("ntp") < areas.index("snmp") < areas.index("syslog")
    # read off the real appliance's page, and nothing saved in the dry run
    assert got["step"] == {"title": "SNMP: agent on, SNMP v3", "page": "Networking > SNMP > Agent",
                           "before": {"enabled": "no", "version": "v2c"},
                           "after": {"enabled": "yes", "version": "v3"},
                           "changed": True, "status": "pending"}
    after = sim.state()
    assert {k: v for k, v in after.items() if k != "users"} == \
        {k: v for k, v in before.items() if k != "users"}        # the password change alone
    change = "SNMP: agent on, SNMP v3 (was: agent off, SNMP v2c)"
    assert change in got["dry_run"]
    assert got["restore_row"] == change
    assert got["detail"] == [["Agent on", "no", "yes"], ["Version", "v2c", "v3"]]
    assert any("agent off, SNMP v2c" in line and "agent on, SNMP v3" in line
               for line in got["report"]), got["report"]
    # captured back from the appliance into a sheet
    assert got["captured"] == {"snmp": {"enabled": "no", "version": "v2c"}}
