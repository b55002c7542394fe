"""RMA form rules and the runbook's checklists (pure logic; the screens have their own tests)."""
import datetime as dt
import json

from hwprobe.runbook import rma, checklists as runbook
from hwprobe.settings.sheet import load_sheet
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "assets" / "example-sheet.toml"


def good(**kw) -> rma.RmaRequest:
    base = dict(contact_name="A. Tech", email="tech@example.net", phone="+1 555 0100 200",
                shipping_address="1 Example Way, Springfield", country="United States",
                serial="B400-0012345", model="B400", failed_part="disk")
    base.update(kw)
    return rma.RmaRequest(**base)


def test_b400_disk_ships_as_a_part_but_motherboard_is_a_whole_unit():
    assert rma.eligibility(good()).fru
    assert rma.eligibility(good(failed_part="power supply")).fru
    e = rma.eligibility(good(failed_part="motherboard"))
    assert not e.fru and "whole-unit" in e.summary
    assert not rma.eligibility(good(model="B200", failed_part="disk")).fru


def test_vat_number_needed_only_where_vat_fees_are_expected_and_bad_email_refused():
    problems = dict(rma.check(good(country="Germany", email="tech@", failed_part="motherboard")))
    assert "vat_number" not in problems                  # the EU: shipped from Ireland
    assert "e-mail" in problems["email"]
    assert "repair-and-return" in problems["international_choice"]
    assert rma.check(good(country="Germany", failed_part="disk")) == []
    japan = dict(rma.check(good(country="Japan", failed_part="motherboard",
                                international_choice="replace", vat_consent="yes")))
    assert japan == {"vat_number": "a VAT number is needed for an international replacement "
                                   "outside Ireland and the EU"}
    assert rma.check(good(country="Japan", failed_part="motherboard",
                          international_choice="repair_and_return")) == []


def test_every_missing_field_is_listed_at_once():
    fields = [f for f, _ in rma.check(rma.RmaRequest())]
    assert set(fields) >= {"contact_name", "email", "phone", "shipping_address", "serial", "model"}


def test_written_request_and_two_week_return_deadline(tmp_path):
    req = rma.mark_operational(good(failed_part="motherboard"), dt.date(2026, 11, 26))
    md, js = rma.write_request(req, tmp_path)
    assert req.return_by == "2026-12-10"
    text = md.read_text()
    assert "whole-unit RMA" in text and "return the failed unit by 2026-12-10" in text
    assert "Not returned within two weeks, it is invoiced at list price." in text
    assert "a return shipping label is sent" in text
    assert json.loads(js.read_text())["eligibility"]["fru"] is False
    assert rma.load_request(js).return_by == "2026-12-10"


def test_virtual_appliance_checklist_gives_the_sheets_values_as_bringups_help():
    c = runbook.checklist("virtual", load_sheet(EXAMPLE))
    enter = next(i for i in c.items if i.text.startswith("At the console, type the appliance's "
                                                         "address, netmask and gateway"))
    assert enter.help == ("from the sheet: address 198.51.100.20, netmask 255.255.255.0, "
                          "gateway 198.51.100.1")
    assert enter.ref == "RS Virtual Appliances, step 5"
    assert c.items[2].text.startswith("A recent snapshot or checkpoint? Roll back to it")


def test_failover_checklist_names_the_sites_method_in_bringups_help():
    c = runbook.checklist("failover", None, {"method": "dns", "peer_address": "198.51.100.21"})
    assert c.items[0].help == ("this site (sheet): DNS swing: point the primary's A-record at "
                               "the backup's address (198.51.100.21)")
    assert "does not say how this site moves traffic" in runbook.checklist("failover").items[0].help


def test_cold_spare_warns_about_the_switch_and_hosted_site_states_its_limits():
    assert any("that switch needs a reboot" in i.text
               for i in runbook.checklist("cold_spare").items)
    notes = [i.text for i in runbook.checklist("hosted").items if i.who == "note"]
    assert any("do not usually come back to the original one" in x for x in notes)
    assert any("over the internet" in x for x in notes)
    assert any("RADIUS" in x for x in notes) and any("certificates" in x for x in notes)


def test_international_replacement_needs_vat_consent_but_not_in_ireland_or_the_eu():
    req = good(country="Japan", vat_number="JP123", failed_part="motherboard",
               international_choice="replace")
    assert dict(rma.check(req))["vat_consent"] == \
        "an international replacement needs documented consent to pay VAT fees"
    assert "Send Support documented consent to pay any VAT fees." in rma.eligibility(req).notes
    req.vat_consent = "yes"
    assert rma.check(req) == []
    ireland = good(country="Ireland", vat_number="IE123", failed_part="motherboard",
                   international_choice="replace")
    assert rma.check(ireland) == []
    assert "Ireland or the EU: shipped from Ireland, no VAT fees expected." in \
        rma.eligibility(ireland).notes


def test_shipping_back_a_label_in_the_us_dhl_or_weee_elsewhere():
    assert "a return shipping label is sent" in rma.shipping_note(good())
    elsewhere = rma.shipping_note(good(country="Japan"))
    assert "DHL pickup" in elsewhere and "WEEE scrapping" in elsewhere


def test_timeline_is_kept_on_disk_and_pastes_as_text(tmp_path):
    t = runbook.Timeline("case-1", tmp_path)
    t.add("Status page checked", dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.timezone.utc))
    t.add("Support case opened", dt.datetime(2026, 11, 26, 2, 5, tzinfo=dt.timezone.utc))
    again = runbook.Timeline("case-1", tmp_path)
    assert again.to_text().splitlines()[2:] == [
        "2026-11-26T02:00:00+00:00  Status page checked",
        "2026-11-26T02:05:00+00:00  Support case opened"]


def test_readiness_flags_an_old_incomplete_sheet(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('format = 1\n[[ip]]\nnic = "nic1"\naddress = "198.51.100.20"\nprefix = 24\n'
                 '[network]\nhostname = "a.example.net"\ndefault_gateway = "198.51.100.1"\n'
                 'dns_servers = ["198.51.100.53"]\n')
    r = runbook.readiness(p, load_sheet(p), now=p.stat().st_mtime + 200 * 86400)
    assert r.too_old and not r.ok
    assert "NTP ([ntp])" in r.missing
    assert "Torx 8 and Torx 10 screwdrivers" in r.kit
    assert runbook.readiness(EXAMPLE, load_sheet(EXAMPLE), now=EXAMPLE.stat().st_mtime).ok


def test_sheet_failover_table_loads_round_trips_and_checks_the_method(tmp_path):
    from hwprobe.errors import SheetInvalid
    from hwprobe.settings.sheet import parse_sheet
    from hwprobe.settings.sheetwrite import dump_sheet

    base = EXAMPLE.read_text()
    s = parse_sheet(base + '\n[failover]\nmethod = "dns"\npeer_address = "198.51.100.21"\n'
                    'shared_ips = ["198.51.100.30"]\n', "f.toml")
    assert s.failover == {"method": "dns", "peer_address": "198.51.100.21",
                          "shared_ips": ["198.51.100.30"]}
    assert parse_sheet(dump_sheet(s), "again.toml") == s
    try:
        parse_sheet(base + '\n[failover]\nmethod = "bgp"\npeer_address = "198.51.100.21"\n', "b.toml")
    except SheetInvalid as exc:
        assert any("[failover].method" in p for p in exc.problems), exc.problems
    else:
        raise AssertionError("method = bgp was accepted")
