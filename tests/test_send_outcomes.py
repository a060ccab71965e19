"""What a send records when a delivery goes only partly right: a proof runs only the
targets that take recipients; recipients refused among accepted ones; a server that
took the message but never answered (the outcome unknown: not retried blindly)."""

from __future__ import annotations

from smtp_server import append_config, configure_smtp, start_stalling_server

ISSUE = "2023-W47"


def test_a_proof_goes_only_to_targets_that_take_recipients(run, drafted, smtp, tmp_path):
    site = tmp_path / "site"
    configure_smtp(drafted, smtp.port)
    append_config(drafted, f'[delivery.directory]\npath = "{site.as_posix()}"\n')
    proof = run("send", ISSUE, "-w", drafted, "--to", "me@weekly.test")
    assert proof.returncode == 0, proof.stderr
    assert "not run for a proof: directory" in proof.stdout
    assert not site.exists() and smtp.inbox.envelopes[0].rcpt_tos == ["me@weekly.test"]
    real = run("send", ISSUE, "-w", drafted)
    assert real.returncode == 0, real.stderr
    assert (site / f"{ISSUE}.md").is_file() and len(smtp.inbox.envelopes) == 2


def test_a_proof_without_an_email_target_is_refused(run, drafted, tmp_path):
    append_config(drafted, f'[delivery.directory]\npath = "{(tmp_path / "s").as_posix()}"\n')
    result = run("send", ISSUE, "-w", drafted, "--to", "me@weekly.test")
    assert result.returncode == 2 and "no configured target takes recipients" in result.stderr


def test_refused_recipients_fail_the_send_but_who_got_it_is_recorded(run, drafted, smtp):
    configure_smtp(drafted, smtp.port)
    config = drafted / "composer.toml"
    config.write_text(
        config.read_text("utf-8").replace(
            'to = ["review@weekly.test", "second@weekly.test"]',
            'to = ["review@weekly.test", "typo@nobody.example"]',
        ),
        "utf-8",
    )
    result = run("send", ISSUE, "-w", drafted)
    assert result.returncode == 1
    assert "recipient refused: typo@nobody.example (550" in result.stderr
    assert f"`composer send {ISSUE} --to ADDRESS` reaches them alone" in result.stderr
    assert smtp.inbox.envelopes[0].rcpt_tos == ["review@weekly.test"]
    again = run("send", ISSUE, "-w", drafted)
    assert again.returncode == 1 and "already sent" in again.stderr
    assert "to review@weekly.test on" not in again.stderr or "typo" not in again.stderr
    assert len(smtp.inbox.envelopes) == 1


def test_a_message_the_server_took_without_answering_is_not_sent_again_blindly(run, drafted):
    server = start_stalling_server(stall=4)
    try:
        configure_smtp(drafted, server.port, "timeout = 1\n")
        first = run("send", ISSUE, "-w", drafted)
        assert first.returncode == 1
        assert "after the message was handed over: the server may have sent it" in first.stderr
        assert "--resend" in first.stderr
        again = run("send", ISSUE, "-w", drafted)
        assert again.returncode == 1 and "may have been sent already" in again.stderr
        dry = run("send", ISSUE, "-w", drafted, "--dry-run")
        assert "(refused now: it may have gone out:" in dry.stdout
        assert len(server.inbox.envelopes) == 1
        server.inbox.stall = 0
        resent = run("send", ISSUE, "-w", drafted, "--resend")
        assert resent.returncode == 0, resent.stderr
        assert len(server.inbox.envelopes) == 2
        assert run("send", ISSUE, "-w", drafted).returncode == 1  # now simply already sent
    finally:
        server.stop()


def test_a_resend_counts_a_delivery_made_after_it_began_as_just_sent(workspace):
    """``--resend`` replaces the delivery it saw when it began, not one made since."""
    from composer.support.state import State

    with State(workspace) as state:
        old = state.claim_deliveries("2026-W49", {"email": None}, 3600)
        state.finish_delivery("2026-W49", "email", old.taken["email"], "a@weekly.test")
        seen = state.deliveries("2026-W49")["email"]["delivered_at"]
        later = "9999-01-01T00:00:00+00:00"
        claims = state.claim_deliveries("2026-W49", {"email": seen}, 3600, later, resend=True)
        assert claims.done == {} and "email" in claims.taken  # it began after: replaces it
        state.release_delivery("2026-W49", "email", claims.taken["email"])
        earlier = "2000-01-01T00:00:00+00:00"
        claims = state.claim_deliveries("2026-W49", {"email": seen}, 3600, earlier, resend=True)
        assert "email" in claims.done and claims.taken == {}  # made since it began: just sent
