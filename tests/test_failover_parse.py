"""check_health answers in the shape BeyondTrust documents, parsed by
hwprobe.appliance.failover.parse_health (pure parsing: the XML texts are the documented
shape written out, the lab tests read the simulator's own)."""
from __future__ import annotations

import pytest

from hwprobe.appliance.failover import parse_health

NS = 'xmlns="https://www.beyondtrust.com/namespaces/API/command"'


def test_full_answer():
    h = parse_health(f'<?xml version="1.0"?><health_check {NS}>'
                     '<appliance id="5b0e2a9c-7d4e-4c55-9a37-0e8e5a0c1f11">support.example.net</appliance>'
                     '<version>23.1.2</version><success>1</success><failover_role>primary</failover_role>'
                     '<enabled_shared_ips><ip>198.51.100.30</ip><ip>198.51.100.31</ip></enabled_shared_ips>'
                     '<last_data_sync_time ts="2026-11-30T22:10:05+00:00"/>'
                     '<last_data_sync_status>Success</last_data_sync_status></health_check>')
    assert (h.hostname, h.guid, h.version, h.role) == (
        "support.example.net", "5b0e2a9c-7d4e-4c55-9a37-0e8e5a0c1f11", "23.1.2", "primary")
    assert h.success is True and h.healthy and h.error_message == ""
    assert h.shared_ips == ["198.51.100.30", "198.51.100.31"]
    assert h.last_data_sync_time == "2026-11-30T22:10:05+00:00"
    assert h.last_data_sync_status == "Success"


def test_omitted_elements_read_as_empty():
    # failover not configured: no shared IPs, no sync fields; a problem: success 0 + error_message
    h = parse_health(f'<health_check {NS}><appliance id="g">lone.example.net</appliance>'
                     '<version>7.1.2</version><success>0</success>'
                     '<error_message>Disk nearly full</error_message>'
                     '<failover_role>none</failover_role></health_check>')
    assert h.hostname == "lone.example.net" and h.role == "none"
    assert h.success is False and not h.healthy and h.error_message == "Disk nearly full"
    assert h.shared_ips == [] and h.last_data_sync_time == "" and h.last_data_sync_status == ""


@pytest.mark.parametrize("text, says", [
    ("not xml", "not XML"),
    (f'<error {NS}>Not authorized</error>', "Not authorized"),
    ('<appliances><appliance><hostname>x</hostname></appliance></appliances>', "expected <health_check>"),
])
def test_other_answers_are_refused_with_reason(text, says):
    with pytest.raises(ValueError, match=says):
        parse_health(text)
