"""Logs: one line per action and per outside call, and never a secret."""

from __future__ import annotations

import logging

import pytest

from tests import factories as f
from tests.live import TOKEN, WEBHOOK_SECRET, LiveApp
from tests.processes import free_port


def test_a_journey_logs_actions_calls_and_credits_but_no_secrets(live, telegram, capfd):
    live.post_update(f.message(6100, "/start"))
    live.post_update(f.message(6100, "/train"))
    telegram.add_file("x", f.jpeg())
    live.post_update(f.photo(6100, "x"))
    live.idle()
    err = capfd.readouterr().err
    assert "credits user=6100 delta=+3 reason=signup balance=3" in err
    assert "action user=6100 /train" in err
    assert "telegram sendMessage in the webhook answer" in err  # a reply Telegram makes
    assert TOKEN not in err and WEBHOOK_SECRET not in err
    assert live.rt.settings.secret_key not in err


def test_an_unreachable_telegram_leaks_no_token_into_logs(tmp_path, telegram, capfd):
    telegram.close()  # Telegram goes away: requests' errors would carry the URL with the token
    app = LiveApp(tmp_path, telegram)
    try:
        # a button press makes two calls: both are ours (the answer carries none)
        assert app.post_update(f.callback(6200, "del:no")).status_code == 200
        app.idle()
    finally:
        app.rt.chat.outbox.close()  # its retries would go on for minutes
        app.close()
    err = capfd.readouterr().err
    assert "answerCallbackQuery failed: ConnectionError" in err
    assert TOKEN not in err


@pytest.mark.expect_errors
def test_the_formatter_blanks_secrets_even_in_tracebacks(live, capfd):
    logger = logging.getLogger("test")
    try:
        raise RuntimeError(f"boom {TOKEN}")
    except RuntimeError:
        logger.exception("failed calling https://api.telegram.org/bot%s/getMe", TOKEN)
    err = capfd.readouterr().err
    assert TOKEN not in err
    assert err.count("[redacted]") == 2


def test_the_astria_key_and_the_service_role_key_stay_out_of_the_logs(
    make_live, telegram, supabase, tmp_path, capfd
):
    """A whole training with an Astria key (another app's sandbox plays Astria: its key is
    what this app sends) on the Supabase store: neither key shows in any log line."""
    from tests.support import trained_model

    port = free_port()  # the app's address, for the sandbox to call back to
    astria_host = LiveApp(tmp_path / "astria", None, PUBLIC_URL=f"http://127.0.0.1:{port}")
    try:
        supabase.reset()
        key = astria_host.rt.settings.sandbox_key
        live = make_live(
            port=port,
            ASTRIA_API_KEY=key,
            ASTRIA_API_URL=f"{astria_host.url}/astria-sandbox",
            SUPABASE_URL=supabase.url,
            SUPABASE_SERVICE_ROLE_KEY=supabase.service_role_key,
        )
        assert not live.rt.settings.sandbox
        trained_model(live, telegram, 6300)
        live.rt.store.get_user(404)
        err = capfd.readouterr().err
        assert "POST /tunes 201" in err
        for secret in (key, supabase.service_role_key, TOKEN, WEBHOOK_SECRET):
            assert secret not in err
    finally:
        astria_host.close()
