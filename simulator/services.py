"""The production network's real services: dnsmasq, chronyd, rsyslog, aiosmtpd.

Each ``start_*`` starts one real daemon inside the production namespace, in
the foreground (no fork), with every file it writes in the lab's own
directory, and returns its Popen. The lab keeps their pids in lab.json and
``lab down`` ends them with the namespace, so none outlives its lab, even
after a crash (``down`` kills every process in the namespace).

- dnsmasq answers the site's names (``RECORDS``) authoritatively for
  example.net and forwards nothing.
- chronyd serves time with ``local stratum 8``. It runs with ``-x`` because
  the system clock is not per namespace: it must never step the host's clock.
  Debian's chrony package replaces systemd-timesyncd when installed, so
  ``scripts/system-deps`` takes its binary out of the .deb (``dpkg-deb -x``)
  into ``CHRONY_ROOT`` instead of installing it.
- rsyslog listens on UDP and TCP 514 and on TCP 6514 with TLS (gtls); every
  message lands in ``syslog/received.log`` as ``PEER INPUT RAW-MESSAGE``.
- aiosmtpd (simulator/smtp_relay.py) is the relay: STARTTLS required and AUTH
  required (after TLS) on 587, implicit TLS on 465; it spools every message.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import subprocess
import sys
from pathlib import Path

CHRONY_ROOT = Path(os.environ.get("BRINGUP_CHRONY_ROOT", "/opt/bringup-lab/chrony"))
RSYSLOG_MODULES = ("/usr/lib/x86_64-linux-gnu/rsyslog", "/usr/lib/aarch64-linux-gnu/rsyslog",
                   "/usr/lib/rsyslog")

# the sheets' servers (assets/example-sheet.toml, which `bringup demo` uses too)
GATEWAY = "198.51.100.1"
ROUTER = "198.51.100.254"           # the example sheet's static route gateway
NIC1_ADDRESSES = {                  # on the segment the appliance's NIC1 is patched to
    "gateway": GATEWAY, "router": ROUTER, "dns": "198.51.100.53", "ntp": "198.51.100.123",
    "syslog": "198.51.100.5", "smtp": "198.51.100.25",
}
NIC2_ADDRESSES = {"dns2": "203.0.113.53"}            # 203.0.113.0/25, VLAN 20 on NIC2
FAR_ADDRESSES = {"ntp2": "203.0.113.200"}            # behind the static route 203.0.113.128/25
RECORDS = {
    "mail.example.net": NIC1_ADDRESSES["smtp"],
    "ntp.example.net": FAR_ADDRESSES["ntp2"],
    "syslog.example.net": NIC1_ADDRESSES["syslog"],
    "support.example.net": "198.51.100.20",
}
SMTP_USER = "bt-alerts"


class ServiceMissing(RuntimeError):
    """A daemon the production network needs is not on this machine."""


def tool(name: str) -> str:
    """Path of ``dnsmasq``, ``rsyslogd`` or ``chronyd``, or of the ``aiosmtpd``
    package the relay runs on; ServiceMissing says how to get it."""
    if name == "aiosmtpd":
        import importlib.util

        spec = importlib.util.find_spec("aiosmtpd")
        if spec is None or not spec.origin:
            raise ServiceMissing("the e-mail relay needs the Python package aiosmtpd, one of "
                                 "bringup's dependencies: reinstall bringup (pip install "
                                 "bringup, or the dist/bringup file, which holds it)")
        return spec.origin
    if name == "chronyd":
        for path in (CHRONY_ROOT / "usr/sbin/chronyd", Path(shutil.which("chronyd") or "/-")):
            if path.is_file():
                return str(path)
        raise ServiceMissing(f"chronyd is not in {CHRONY_ROOT}: run scripts/system-deps "
                             "(it takes chronyd out of Debian's chrony .deb, not installing it)")
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not found:
        package = {"rsyslogd": "rsyslog rsyslog-gnutls"}.get(name, name)
        raise ServiceMissing(f"{name} is missing: run scripts/system-deps (apt-get install {package})")
    return found


def make_certificates(directory: Path) -> dict[str, str]:
    """A lab CA and one server certificate (mail and syslog names, their
    addresses) in ``directory``; returns the paths: ca, cert, key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bringup lab CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(n) for n in ("mail.example.net", "syslog.example.net")] + [
        x509.IPAddress(ipaddress.IPv4Address(a))
        for a in (NIC1_ADDRESSES["smtp"], NIC1_ADDRESSES["syslog"])]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.example.net")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = {"ca": directory / "ca.pem", "cert": directory / "server.pem", "key": directory / "server.key"}
    paths["ca"].write_bytes(ca.public_bytes(pem))
    paths["cert"].write_bytes(cert.public_bytes(pem))
    paths["key"].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL,
                                               serialization.NoEncryption()))
    paths["key"].chmod(0o600)
    return {k: str(v) for k, v in paths.items()}


def _popen(ns: str, argv: list[str], log: Path, **kw) -> subprocess.Popen:
    from .netns import netns_popen

    with open(log, "ab") as out:
        return netns_popen(ns, argv, stdout=out, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, start_new_session=True, **kw)


def start_dnsmasq(ns: str, d: Path) -> subprocess.Popen:
    """dnsmasq on the production DNS addresses: example.net names, no forwarding."""
    listen = [NIC1_ADDRESSES["dns"], NIC2_ADDRESSES["dns2"]]
    argv = [tool("dnsmasq"), "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            "--bind-interfaces", *[f"--listen-address={a}" for a in listen],
            "--local=/example.net/", "--port=53", "--user=root", "--group=root",
            f"--pid-file={d / 'dnsmasq.pid'}", "--log-queries", "--log-facility=-",
            *[f"--host-record={name},{addr}" for name, addr in RECORDS.items()]]
    return _popen(ns, argv, d / "dnsmasq.log")


def start_chronyd(ns: str, d: Path) -> subprocess.Popen:
    """chronyd as an NTP server (never touching the clock: -x), command socket in
    a private 0700 directory."""
    run = d / "chrony"
    run.mkdir(mode=0o700, exist_ok=True)
    run.chmod(0o700)
    conf = run / "chrony.conf"
    conf.write_text("\n".join([
        "local stratum 8", "allow", "cmdport 0", f"bindcmdaddress {run / 'chronyd.sock'}",
        f"pidfile {run / 'chronyd.pid'}", "", ""]))
    return _popen(ns, [tool("chronyd"), "-x", "-d", "-u", "root", "-f", str(conf)], d / "chronyd.log")


def start_rsyslog(ns: str, d: Path, certs: dict[str, str]) -> subprocess.Popen:
    """rsyslogd: UDP 514, TCP 514 and TLS 6514 (one imtcp module: a second
    load is refused, so TLS is set per input); writes syslog/received.log."""
    out = d / "syslog"
    out.mkdir(exist_ok=True)
    moddir = next((m for m in RSYSLOG_MODULES if Path(m, "imudp.so").exists()), RSYSLOG_MODULES[0])
    conf = out / "rsyslog.conf"
    conf.write_text(f"""
global(workDirectory="{out}"
       DefaultNetstreamDriverCAFile="{certs['ca']}"
       DefaultNetstreamDriverCertFile="{certs['cert']}"
       DefaultNetstreamDriverKeyFile="{certs['key']}")
module(load="imudp")
module(load="imtcp")
input(type="imudp" port="514" name="udp")
input(type="imtcp" port="514" name="tcp")
input(type="imtcp" port="6514" name="tls" streamDriver.name="gtls" streamDriver.mode="1"
      streamDriver.authMode="anon")
template(name="received" type="string" string="%fromhost-ip% %inputname% %rawmsg%\\n")
action(type="omfile" file="{out / 'received.log'}" template="received")
""")
    argv = [tool("rsyslogd"), "-n", "-M", moddir, "-f", str(conf), "-i", str(out / "rsyslogd.pid")]
    return _popen(ns, argv, d / "rsyslog.log")


def start_smtp(ns: str, d: Path, certs: dict[str, str], password_file: Path) -> subprocess.Popen:
    """The aiosmtpd relay (simulator/smtp_relay.py) on the mail address, 587 and 465."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH")]))
    argv = [sys.executable, "-P", "-m", "simulator.smtp_relay", "--bind", NIC1_ADDRESSES["smtp"],
            "--spool", str(d / "mail"), "--cert", certs["cert"], "--key", certs["key"],
            "--user", SMTP_USER, "--password-file", str(password_file)]
    return _popen(ns, argv, d / "smtp.log", env=env)
