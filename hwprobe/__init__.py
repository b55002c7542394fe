"""Everything in bringup that talks to hardware: laptop port, probe, appliance
drivers, settings sheet, plan/apply engine, journal and report. No UI code."""
