"""The weekly digest and reminders: text, print-ready HTML, and e-mail through a real SMTP
server (aiosmtpd on 127.0.0.1) speaking STARTTLS with a certificate from a CA made here."""

import datetime as dt
import email
import email.policy
import socket
import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner

from timebank import digest as digests
from timebank.cli.main import cli
from timebank.errors import InputError, NotAllowed
from timebank.listings import Listings
from timebank.mail import smtp_settings
from timebank.testing import exchange, snapshot_rows

TODAY = dt.date.today()


@pytest.fixture
def coop(make_ledger):
    ledger = make_ledger("time-bank", members={h: "member" for h in ("ann", "ben", "cat", "dan")})
    for handle in ("ann", "ben", "cat", "dan"):
        ledger.update_member(handle, actor="coord", area="north")
    board = Listings(ledger)
    board.post("request", actor="ann", category="gardening", title="Hedge <b>trimming</b> & weeding")
    board.post("offer", actor="ben", category="gardening", title="Garden jobs")
    board.post(
        "offer",
        actor="cat",
        category="transport",
        title="Old lifts",
        today=TODAY - dt.timedelta(days=20),
        expires_on=TODAY - dt.timedelta(days=5),
    )
    ledger.record(exchange("ben", "ann", 45, category="shopping", recorded_by="ben"))  # a claim ann confirms
    ledger.record(exchange("ann", "cat", 30, category="shopping", recorded_by="ann"))  # a claim cat confirms
    return ledger


def test_a_members_digest_holds_the_weeks_board_their_matches_and_claims(coop):
    built = digests.build_digest(coop, members=["ann", "cat"])
    ann = digests.member_text(built, built.members[0])
    assert "weekly digest for Ann" in ann
    assert "#2 gardening, north: Garden jobs (Ben; flexible)" in ann  # new this week
    assert "Old lifts" not in ann  # posted three weeks ago
    assert "may fit: Ben: Garden jobs (#2); same kind, same area" in ann
    assert "claim #1" in ann and "Ben gave Ann 45m of shopping" in ann
    assert "claim #2" not in ann  # cat's claim to confirm, not ann's
    cat = digests.member_text(built, built.members[1])
    assert "claim #2" in cat and "claim #1" not in cat
    assert "Your offers and requests\n  offer #3" not in cat  # expired: off the board
    coop_wide = digests.render_text(digests.build_digest(coop))
    assert "New requests this week (1)" in coop_wide and "claim" not in coop_wide


def test_the_html_is_print_ready_and_escapes_everything(coop):
    page = digests.render_html(digests.build_digest(coop, members=["ann", "ben"]))
    assert page.startswith("<!DOCTYPE html>") and "@media print" in page and "page-break-after" in page
    assert page.count("<section class='member'>") == 2
    assert "Hedge &lt;b&gt;trimming&lt;/b&gt; &amp; weeding" in page and "<b>trimming" not in page


def test_a_member_sees_only_their_own_digest(coop):
    with pytest.raises(NotAllowed, match="only their own digest"):
        digests.build_digest(coop, members=["cat"], actor="ann")
    assert digests.build_digest(coop, members=["ann"], actor="ann").members[0].member.handle == "ann"


def test_the_digest_is_never_written_over_the_ledger_or_a_backup(coop, monkeypatch, tmp_path):
    monkeypatch.setenv("TIMEBANK_LEDGER", str(coop.path))
    runner = CliRunner()
    backup = tmp_path / "copy.sqlite"
    assert runner.invoke(cli, ["backup", str(backup)]).exit_code == 0
    before = coop.path.read_bytes(), backup.read_bytes()
    for target in (
        coop.path,
        coop.path.with_name(coop.path.name + "-wal"),
        coop.path.with_name(coop.path.name + ".anchors"),
        backup,
    ):
        result = runner.invoke(cli, ["digest", "--html", "--out", str(target)])
        assert result.exit_code == 1 and "nothing was written" in result.stderr, result.output
    assert (coop.path.read_bytes(), backup.read_bytes()) == before
    out = tmp_path / "digest.html"
    assert runner.invoke(cli, ["digest", "--all-members", "--html", "--out", str(out)]).exit_code == 0
    assert out.read_text().count("<section class='member'>") == 5  # the co-ordinator too
    assert out.stat().st_mode & 0o077 == 0  # private, like the ledger


# a real SMTP server ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A throwaway CA and a certificate for 127.0.0.1 signed by it (openssl, EC keys)."""
    folder = tmp_path_factory.mktemp("ca")

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Throwaway test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    )
    openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "other.key",
        "-out",
        "other.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Another CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
    )
    return folder


class Inbox:
    """What the server accepted, and the addresses it refuses."""

    def __init__(self):
        self.messages = []
        self.refuse = set()
        self.tls = []
        self.close_on = None  # the message (counting from 1) answered "421" and dropped
        self.seen = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.seen == self.close_on:
            return "421 4.3.2 shutting down"
        self.tls.append(session.ssl is not None)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(certificates, monkeypatch):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates / "server.pem", certificates / "server.key")
    inbox = Inbox()

    def authenticate(server, session, envelope, mechanism, auth_data):
        return AuthResult(
            success=(auth_data.login, auth_data.password) == (b"coop", b"s3cret"), handled=False
        )

    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    inbox.port = port
    for key, value in {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "USER": "coop",
        "PASSWORD": "s3cret",
        "FROM": "digest@riverside.example",
        "CA_FILE": str(certificates / "ca.pem"),
    }.items():
        monkeypatch.setenv(f"TIMEBANK_SMTP_{key}", value)
    monkeypatch.delenv("TIMEBANK_SMTP_CONFIG", raising=False)
    yield inbox
    controller.stop()


@pytest.fixture
def run(coop, monkeypatch):
    monkeypatch.setenv("TIMEBANK_LEDGER", str(coop.path))
    monkeypatch.delenv("TIMEBANK_USER", raising=False)
    for handle in ("ann", "ben", "cat"):
        digests.set_recipient(coop, handle, f"{handle}@riverside.example", actor=handle)
    return lambda *args: CliRunner().invoke(cli, [str(a) for a in args])


def sends(coop):
    return coop.conn.execute("SELECT member, email, kind FROM digest_sends ORDER BY id").fetchall()


def test_send_emails_each_member_who_agreed_over_starttls(run, smtp, coop):
    result = run("digest", "--send")
    assert result.exit_code == 0, result.output + result.stderr
    assert [rcpt for rcpt, _ in smtp.messages] == [[f"{h}@riverside.example"] for h in ("ann", "ben", "cat")]
    assert smtp.tls == [True, True, True]
    ann = smtp.messages[0][1]
    assert ann["From"] == "digest@riverside.example" and "weekly digest" in ann["Subject"]
    body = ann.get_body(("plain",)).get_content()
    assert "weekly digest for Ann" in body and "claim #1" in body and "claim #2" not in body
    assert "&lt;b&gt;trimming" in ann.get_body(("html",)).get_content()
    assert sends(coop) == [(h, f"{h}@riverside.example", "digest") for h in ("ann", "ben", "cat")]
    assert "3 sent, 0 not sent" in result.output


def test_what_is_recorded_as_sent_is_exactly_what_the_server_accepted(run, smtp, coop):
    smtp.refuse.add("ben@riverside.example")
    result = run("digest", "--send")
    assert result.exit_code == 1
    assert (
        "not sent to ben <ben@riverside.example>: the server refused it (550 5.1.1 no such mailbox here)"
        in result.stderr
    )
    assert [rcpt for rcpt, _ in smtp.messages] == [["ann@riverside.example"], ["cat@riverside.example"]]
    assert sends(coop) == [
        ("ann", "ann@riverside.example", "digest"),
        ("cat", "cat@riverside.example", "digest"),
    ]


def test_a_server_that_is_down_or_refuses_gives_a_clear_error_and_records_nothing(
    run, smtp, coop, certificates, monkeypatch
):
    before = snapshot_rows(coop)
    monkeypatch.setenv("TIMEBANK_SMTP_PORT", str(free_port()))
    down = run("digest", "--send")
    assert down.exit_code == 1
    assert (
        down.stderr.startswith("error: smtp: could not connect to 127.0.0.1:")
        and "nothing was sent" in down.stderr
    )
    monkeypatch.setenv("TIMEBANK_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("TIMEBANK_SMTP_PASSWORD", "wrong")
    refused = run("digest", "--send")
    assert refused.exit_code == 1 and "refused the session (535" in refused.stderr
    monkeypatch.setenv("TIMEBANK_SMTP_PASSWORD", "s3cret")
    monkeypatch.setenv("TIMEBANK_SMTP_CA_FILE", str(certificates / "other.pem"))
    untrusted = run("digest", "--send")
    assert (
        untrusted.exit_code == 1
        and "TLS with 127.0.0.1" in untrusted.stderr
        and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
    )
    assert smtp.messages == [] and snapshot_rows(coop) == before


def test_a_connection_lost_midway_names_the_refused_and_the_unsent(run, smtp, coop):
    smtp.close_on = 2
    result = run("digest", "--send")
    assert result.exit_code == 1
    assert "not sent to ben <ben@riverside.example>: the server refused it (421" in result.stderr
    assert "not sent to cat <cat@riverside.example>: the connection was lost first" in result.stderr
    assert [rcpt for rcpt, _ in smtp.messages] == [["ann@riverside.example"]]
    assert sends(coop) == [("ann", "ann@riverside.example", "digest")]


def test_reminders_of_claims_waiting_go_the_same_way(run, smtp, coop):
    coop.conn.execute("UPDATE claims SET created_at = '2020-01-01T10:00:00Z' WHERE id = 1")
    shown = run("remind", "--days", "7")
    assert "claims waiting for Ann to confirm" in shown.output and "claim #2" not in shown.output
    result = run("remind", "--days", "7", "--send")
    assert result.exit_code == 0, result.stderr
    [(rcpt, message)] = smtp.messages
    assert rcpt == ["ann@riverside.example"] and "claim #1" in message.get_content()
    assert sends(coop) == [("ann", "ann@riverside.example", "reminder")]


def test_smtp_settings_come_from_env_or_a_config_file_never_the_ledger(tmp_path, certificates):
    config = tmp_path / "smtp.toml"
    config.write_text(
        '[smtp]\nhost = "mail.example"\nport = 2525\nfrom = "a@b.example"\n'
        'user = "u"\npassword = "hunter2zz"\n'
    )
    settings = smtp_settings(config, env={})
    assert (settings.host, settings.port, settings.starttls, settings.user) == (
        "mail.example",
        2525,
        True,
        "u",
    )
    assert settings.password == "hunter2zz" and "hunter2zz" not in repr(settings)
    assert smtp_settings(config, env={"TIMEBANK_SMTP_PORT": "587"}).port == 587
    with pytest.raises(InputError, match="no server"):
        smtp_settings(None, env={})
    with pytest.raises(InputError, match="never sent without STARTTLS"):
        smtp_settings(config, env={"TIMEBANK_SMTP_STARTTLS": "false"})
    config.write_text('[smtp]\nhost = "x"\nfrom = "a@b"\npasword = "typo"\n')
    with pytest.raises(InputError, match="unknown setting 'pasword'"):
        smtp_settings(config, env={})


def test_email_consent_is_the_members_or_a_coordinators_to_give(coop):
    with pytest.raises(NotAllowed, match="only cat or a co-ordinator"):
        digests.set_recipient(coop, "cat", "cat@x.example", actor="ann")
    with pytest.raises(InputError, match="not an e-mail address"):
        digests.set_recipient(coop, "cat", "cat at home", actor="cat")
    digests.set_recipient(coop, "cat", "cat@x.example", actor="coord")
    assert digests.recipients(coop) == {"cat": "cat@x.example"}
    digests.set_recipient(coop, "cat", None, actor="cat")
    assert digests.recipients(coop) == {}


def test_the_digests_matches_agree_with_match(coop):
    coop.change_settings(
        "coop",
        {"neighbouring_kinds": {"gardening": ["household"]}, "neighbouring_areas": {"north": ["south"]}},
        actor="coord",
    )
    coop.update_member("cat", actor="coord", area="south")
    coop.update_member("dan", actor="coord", area="east")
    board = Listings(coop)
    board.post("offer", actor="cat", category="gardening", title="South garden")
    board.post("offer", actor="dan", category="household", title="Odd jobs", area="north")
    board.post("offer", actor="dan", category="gardening", title="East garden")
    board.post("offer", actor="cat", category="gardening", title="Anywhere", area="")
    built = digests.build_digest(coop, members=["ann"])
    [(request, matches)] = built.members[0].own
    expected = [(m.member, m.other, m.tier) for m in board.match(request.id) if m.tier < 4]
    assert [(m.member, m.other, m.tier) for m in matches] == expected[: digests.DIGEST_MATCHES]
    assert [m[2] for m in expected] == [0, 0, 1, 2]


def test_a_members_page_shows_fifteen_new_listings_near_them_first(coop):
    board = Listings(coop)
    with coop.transaction():
        for i in range(20):
            board.post("offer", actor="cat", category="shopping", title=f"Far {i}", area="south")
    near = board.post("offer", actor="dan", category="shopping", title="Near", area="north")
    part = digests.build_digest(coop, members=["ann"]).members[0]
    assert len(part.new_offers) == digests.NEW_SHOWN and part.new_offers[:2] == (near, board.get(2))
    assert part.new_totals == (0, 22)  # ann's own request is not news to her
    text = digests.member_text(digests.build_digest(coop, members=["ann"]), part)
    assert "New offers this week (22, 15 shown, near you first)" in text
    assert "Far 19" in digests.render_text(digests.build_digest(coop))  # the co-op's digest has all
